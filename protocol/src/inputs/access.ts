/** R4 inputs: grants and access checks. */
import { z } from 'zod';
import { ACCESS_ACTIONS, ANY_PURPOSE, RESOURCE_TYPES } from '../records/access';
import { Id, Iso, Role } from './primitives';

export const ResourceType = z.enum(RESOURCE_TYPES);
export const Action = z.enum(ACCESS_ACTIONS);
export const Purpose = z.union([z.literal(ANY_PURPOSE), Id]);
export const Grantee = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('PRINCIPAL'), id: Id, mspId: Id }),
  z.strictObject({ type: z.literal('MSP'), id: Id }),
  z.strictObject({ type: z.literal('ROLE'), id: Role, mspId: Id.optional() }),
]);
export const CreateGrant = z.strictObject({
  grantId: Id,
  resourceType: ResourceType,
  resourceId: Id,
  grantee: Grantee,
  actions: z.array(Action).min(1).max(5),
  purpose: Purpose,
  validFrom: Iso.optional(),
  validUntil: Iso,
});
export type CreateGrantInput = z.infer<typeof CreateGrant>;
export const AccessCheck = z.strictObject({ resourceType: ResourceType, resourceId: Id, action: Action, purpose: Purpose });
export type AccessCheckInput = z.infer<typeof AccessCheck>;
