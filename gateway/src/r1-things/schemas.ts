/** R1 HTTP parameters (the bodies are mvsec-protocol's ledger inputs). */
import { z } from 'zod';
import { Id } from 'mvsec-protocol/inputs';

export const ThingParams = z.strictObject({ thingId: Id });
export const AvatarParams = z.strictObject({ avatarId: Id });
export const AvatarsOfThingQuery = z.strictObject({ metaverseId: Id.optional() });
