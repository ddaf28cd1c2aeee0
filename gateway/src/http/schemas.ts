/**
 * Request schemas (zod): one source for validation and for the OpenAPI document. They mirror the
 * chaincode's inputs (docs/chaincode.md); the chaincode stays the last line of defence.
 */
import { z } from 'zod';

// The ledger's input shapes and value rules are defined once, in mvsec-protocol.
export {
  AccessCheck,
  Action,
  Agents,
  CapabilityLevel,
  CertificatePem,
  Classification,
  CreateGrant,
  DataFlowPolicy,
  Grantee,
  Id,
  Iso,
  MapAvatar,
  ProposeFederation,
  Purpose,
  Reason,
  RegisterPlatform,
  RegisterThing,
  RequestTransfer,
  ResourceType,
  Role,
  Sha256,
  Text,
  UpdatePlatform,
} from 'mvsec-protocol/inputs';
import { Classification, Id, Purpose, Role, Sha256, Text } from 'mvsec-protocol/inputs';
export type RoleName = z.infer<typeof Role>;

// ---- R5 platforms and federation (HTTP parameters)
export const PlatformParams = z.strictObject({ platformId: Id });
export const FederationParams = z.strictObject({ platformId: Id, peerPlatformId: Id });

// ---- R1 things and avatars (HTTP parameters)
export const ThingParams = z.strictObject({ thingId: Id });
export const AvatarParams = z.strictObject({ avatarId: Id });
export const AvatarsOfThingQuery = z.strictObject({ metaverseId: Id.optional() });

// ---- R4 grants and access
export const GrantParams = z.strictObject({ grantId: Id });
export const AccessDecision = z.object({ allowed: z.boolean(), reason: z.string(), grantId: z.string().optional() });

// ---- R3 transfers
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
