/** R3 HTTP parameters (the request body is mvsec-protocol's RequestTransfer). */
import { z } from 'zod';
import { Id, Sha256, TransferSide } from 'mvsec-protocol/inputs';

export const TransferParams = z.strictObject({ transferId: Id });
export const ApproveTransfer = z.strictObject({ side: TransferSide });
export const ExecuteTransfer = z.strictObject({ dataSha256: Sha256 });
