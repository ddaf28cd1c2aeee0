/** R3 inputs: cross-metaverse transfers. */
import { z } from 'zod';
import { TRANSFER_KINDS } from '../records/transfer';
import { Id, IdList, Iso, Sha256 } from './primitives';

export const RequestTransfer = z.strictObject({
  transferId: Id,
  kind: z.enum(TRANSFER_KINDS),
  sourceAvatarId: Id,
  targetMetaverseId: Id,
  targetAvatarId: Id.optional(),
  dataId: Id,
  dataSha256: Sha256,
  items: IdList().optional(),
  purpose: Id,
  expiresAt: Iso,
});
export type RequestTransferInput = z.infer<typeof RequestTransfer>;
export const TransferSide = z.enum(['source', 'target']);
