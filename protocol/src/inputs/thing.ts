/** R1 inputs: things and their data-flow policy. */
import { z } from 'zod';
import { ACCESS_MODES, STORAGE_PLACEMENTS, THING_KINDS } from '../records/thing';
import { Classification, Id, IdList, Text } from './primitives';

export const DataFlowPolicy = z.strictObject({
  storage: z.enum(STORAGE_PLACEMENTS).optional(),
  storageIds: IdList().optional(),
  allowedMetaverses: IdList().optional(),
  allowedDpmProviders: IdList().optional(),
  purposes: z
    .array(Id.max(64))
    .max(64)
    .refine((a) => new Set(a).size === a.length, 'must not contain duplicates')
    .meta({ uniqueItems: true })
    .optional(),
  retentionDays: z.number().int().min(1).max(36500).optional(),
  encryptionRequired: z.boolean().optional(),
  transmitWindow: z.strictObject({ fromHour: z.number().int().min(0).max(23), toHour: z.number().int().min(0).max(24) }).optional(),
});
export type DataFlowPolicyInput = z.infer<typeof DataFlowPolicy>;
export const Agents = z.strictObject({ agents: IdList() });
export const RegisterThing = z.strictObject({
  thingId: Id,
  platformId: Id,
  name: Text(128).optional(),
  kind: z.enum(THING_KINDS),
  accessMode: z.enum(ACCESS_MODES),
  gatewayId: Id.optional(),
  publicKey: Text(4096).min(1),
  owner: Id.optional(),
  classification: Classification,
  agents: IdList().optional(),
  policy: DataFlowPolicy.optional(),
});
export type RegisterThingInput = z.infer<typeof RegisterThing>;
