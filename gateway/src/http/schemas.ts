/* eslint-disable no-control-regex -- these patterns exist to refuse control characters */
/**
 * Request schemas (zod): one source for validation and for the OpenAPI document. They mirror the
 * chaincode's inputs (docs/chaincode.md); the chaincode stays the last line of defence.
 */
import { z } from 'zod';

/** Lone UTF-16 surrogates (the chaincode refuses them; JSON can carry them as \uD800 escapes). */
const hasLoneSurrogate = (s: string) => /[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
/** Id lists as the chaincode takes them (assertIdList): at most 64, no duplicates (uniqueItems in the OpenAPI document). */
const IdList = () =>
  z
    .array(Id)
    .max(64)
    .refine((a) => new Set(a).size === a.length, 'must not contain duplicates')
    .meta({ uniqueItems: true });

/** 1–128 characters, no control characters, no surrounding whitespace, no U+10FFFF (chaincode ids). */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[^\s\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f])?$/,
    'must have no control characters and no surrounding whitespace',
  )
  .refine((s) => !s.includes('\u{10ffff}'), 'must not contain U+10FFFF')
  .refine((s) => !hasLoneSurrogate(s), 'must not contain unpaired UTF-16 surrogates');
/** One X.509 certificate in PEM (line breaks allowed, nothing else outside base64). */
export const CertificatePem = z
  .string()
  .min(100)
  .max(16_384)
  .regex(/^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/, 'must be one PEM certificate');
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)');
export const Iso = z.iso.datetime({ offset: true });
/** Printable text as the chaincode takes it (assertText): no C0 or C1 control characters, no lone surrogates. */
export const Text = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must have no control characters (C0 or C1)')
    .refine((s) => !hasLoneSurrogate(s), 'must not contain unpaired UTF-16 surrogates');
export const Role = z.enum([
  'admin',
  'creator',
  'user',
  'auditor',
  'thing-agent',
  'avatar-agent',
  'entity-agent',
  'storage-agent',
  'dpm',
  'monitor',
]);
export type RoleName = z.infer<typeof Role>;
export const Classification = z.enum(['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'RESTRICTED']);
export const CapabilityLevel = z.number().int().min(0).max(3);
export const Reason = z.strictObject({ reason: Text(1024).min(1) });

// ---- R5 platforms and federation
export const RegisterPlatform = z.strictObject({
  platformId: Id,
  type: z.enum(['METAVERSE', 'IOT', 'DPM', 'STORAGE']),
  name: Text(128).min(1),
  capabilityLevel: CapabilityLevel,
  endpoint: Text(512).optional(),
});
export const UpdatePlatform = z.strictObject({
  name: Text(128).min(1).optional(),
  capabilityLevel: CapabilityLevel.optional(),
  endpoint: Text(512).optional(),
});
export const ProposeFederation = z.strictObject({ platformId: Id, peerPlatformId: Id, terms: Text(1024).min(1) });
export const PlatformParams = z.strictObject({ platformId: Id });
export const FederationParams = z.strictObject({ platformId: Id, peerPlatformId: Id });

// ---- R1 things and avatars
export const DataFlowPolicy = z.strictObject({
  storage: z.enum(['ON_PLATFORM', 'EXTERNAL', 'ANY']).optional(),
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
export const Agents = z.strictObject({ agents: IdList() });
export const RegisterThing = z.strictObject({
  thingId: Id,
  platformId: Id,
  name: Text(128).optional(),
  kind: z.enum(['SENSOR', 'DEVICE', 'SYSTEM', 'GATEWAY']),
  accessMode: z.enum(['AUTONOMOUS', 'GATEWAY']),
  gatewayId: Id.optional(),
  publicKey: Text(4096).min(1),
  owner: Id.optional(),
  classification: Classification,
  agents: IdList().optional(),
  policy: DataFlowPolicy.optional(),
});
export const ThingParams = z.strictObject({ thingId: Id });
export const MapAvatar = z.strictObject({
  avatarId: Id,
  thingId: Id,
  metaverseId: Id,
  mode: z.enum(['ACTIVE', 'PASSIVE']),
  capabilityLevel: CapabilityLevel,
  agents: IdList().optional(),
});
export const AvatarParams = z.strictObject({ avatarId: Id });
export const AvatarsOfThingQuery = z.strictObject({ metaverseId: Id.optional() });

// ---- R4 grants and access
export const ResourceType = z.enum(['THING', 'AVATAR', 'DATA']);
export const Action = z.enum(['read', 'write', 'share', 'process', 'delete']);
export const Purpose = z.union([z.literal('*'), Id]);
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
export const GrantParams = z.strictObject({ grantId: Id });
export const AccessCheck = z.strictObject({ resourceType: ResourceType, resourceId: Id, action: Action, purpose: Purpose });
export const AccessDecision = z.object({ allowed: z.boolean(), reason: z.string(), grantId: z.string().optional() });

// ---- R3 transfers
export const RequestTransfer = z.strictObject({
  transferId: Id,
  kind: z.enum(['SHARE', 'MOVE', 'EXCHANGE']),
  sourceAvatarId: Id,
  targetMetaverseId: Id,
  targetAvatarId: Id.optional(),
  dataId: Id,
  dataSha256: Sha256,
  items: IdList().optional(),
  purpose: Id,
  expiresAt: Iso,
});
export const TransferParams = z.strictObject({ transferId: Id });
export const ApproveTransfer = z.strictObject({ side: z.enum(['source', 'target']) });
export const ExecuteTransfer = z.strictObject({ dataSha256: Sha256 });

// ---- auth
export const Login = z.strictObject({
  username: Id,
  password: z.string().min(1).max(1024),
  totp: z
    .string()
    .regex(/^\d{6}$/)
    .optional(),
});
export const Refresh = z.strictObject({ refreshToken: z.string().min(1).max(512) });
export const CreateUser = z.strictObject({
  username: Id,
  password: z.string().min(12).max(1024),
  role: Role,
  principal: Id.optional(),
});
export const TotpCode = z.strictObject({ totp: z.string().regex(/^\d{6}$/) });
export const UsernameParams = z.strictObject({ username: Id });

/** Any ledger record (its shape is the chaincode's, see GetMetadata). */
export const LedgerRecord = z.record(z.string(), z.unknown());
export const Committed = z.object({ txId: z.string(), result: z.unknown() });

// ---- R2 storage
export const DataParams = z.strictObject({ dataId: Id });
export const StoreObjectQuery = z.strictObject({
  thingId: Id,
  avatarId: Id.optional(),
  category: Id,
  classification: Classification,
  /** The client's own SHA-256 of the body: the upload is refused if the bytes received differ. */
  sha256: Sha256.optional(),
  stage: z.enum(['COLLECTED', 'STORED']).optional(),
});
export const PurposeQuery = z.strictObject({ purpose: Purpose.optional() });
export const DeleteObjectQuery = z.strictObject({ reason: Text(256).min(1) });
/**
 * A page bookmark as clients hold it: the chaincode's bookmark (a composite key, with NUL
 * separators) in base64url, so it travels in a query string and passes the no-control-characters
 * rule; `''` or absent for the first page.
 */
export const PageBookmark = z
  .string()
  .max(2048)
  .regex(/^[A-Za-z0-9_-]*$/, 'must be a bookmark this API returned (base64url)');
export const bookmarkOut = (ledgerBookmark: string) => Buffer.from(ledgerBookmark, 'utf8').toString('base64url');
export const bookmarkIn = (clientBookmark: string | undefined) => Buffer.from(clientBookmark ?? '', 'base64url').toString('utf8');

export const AnchorsQuery = z.strictObject({
  pageSize: z
    .string()
    .regex(/^(?:[1-9]\d?|1\d\d|200)$/, 'must be 1–200')
    .optional(),
  bookmark: PageBookmark.optional(),
});
export const StoredObject = z.object({
  dataId: z.string(),
  txId: z.string(),
  sha256: z.string(),
  size: z.number(),
  keyId: z.string(),
  storage: z.object({ placement: z.string(), storeId: z.string(), uri: z.string() }),
  anchor: z.unknown(),
});
export const ObjectVerification = z.object({
  dataId: z.string(),
  valid: z.boolean(),
  reason: z.string(),
  ledger: z.object({ sha256: z.string(), size: z.number() }),
});
export const Deletion = z.object({ txId: z.string(), deletion: z.unknown(), objectErased: z.boolean(), keyDestroyed: z.boolean() });
