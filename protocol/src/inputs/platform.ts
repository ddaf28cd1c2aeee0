/** R5 inputs: platforms and federation. */
import { z } from 'zod';
import { PLATFORM_TYPES } from '../records/platform';
import { CapabilityLevel, Id, Text } from './primitives';

export const RegisterPlatform = z.strictObject({
  platformId: Id,
  type: z.enum(PLATFORM_TYPES),
  name: Text(128).min(1),
  capabilityLevel: CapabilityLevel,
  endpoint: Text(512).optional(),
});
export type RegisterPlatformInput = z.infer<typeof RegisterPlatform>;
export const UpdatePlatform = z.strictObject({
  name: Text(128).min(1).optional(),
  capabilityLevel: CapabilityLevel.optional(),
  endpoint: Text(512).optional(),
});
export type UpdatePlatformInput = z.infer<typeof UpdatePlatform>;
export const ProposeFederation = z.strictObject({ platformId: Id, peerPlatformId: Id, terms: Text(1024).min(1) });
export type ProposeFederationInput = z.infer<typeof ProposeFederation>;
