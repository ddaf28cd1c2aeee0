/** R1 inputs: avatars (thing → metaverse mappings). */
import { z } from 'zod';
import { AVATAR_MODES } from '../records/avatar';
import { CapabilityLevel, Id, IdList } from './primitives';

export const MapAvatar = z.strictObject({
  avatarId: Id,
  thingId: Id,
  metaverseId: Id,
  mode: z.enum(AVATAR_MODES),
  capabilityLevel: CapabilityLevel,
  agents: IdList().optional(),
});
export type MapAvatarInput = z.infer<typeof MapAvatar>;
