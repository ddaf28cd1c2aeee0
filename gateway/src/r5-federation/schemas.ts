/** R5 HTTP parameters (the bodies are mvsec-protocol's ledger inputs). */
import { z } from 'zod';
import { Id } from 'mvsec-protocol/inputs';

export const PlatformParams = z.strictObject({ platformId: Id });
export const FederationParams = z.strictObject({ platformId: Id, peerPlatformId: Id });
