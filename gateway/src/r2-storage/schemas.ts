/** R2 HTTP parameters, queries and answers. */
import { z } from 'zod';
import { Classification, Id, Purpose, Sha256, Text } from 'mvsec-protocol/inputs';
import { PageBookmark } from '../http/schemas.js';

export const DataParams = z.strictObject({ dataId: Id });
export const StoreObjectQuery = z.strictObject({
  thingId: Id,
  avatarId: Id.optional(),
  category: Id,
  classification: Classification,
  /** The client's own SHA-256 of the body: the upload is refused if the bytes received differ. */
  sha256: Sha256.optional(),
  stage: z.enum(['COLLECTED', 'STORED']).optional(),
  /** The fingerprint PUT /r2/data/{dataId}/pii answered: the anchor binds the object to its PII (rule 7). */
  piiHash: Sha256.optional(),
});
/** X7/rule 7: personal data of an object, kept only in the writer organisation's private collection. */
export const StorePii = z.strictObject({
  thingId: Id,
  avatarId: Id.optional(),
  /** The personal data itself (free text or JSON text); never written to a block. */
  details: Text(8192).min(1),
});
export const PiiStagedAnswer = z.object({
  dataId: z.string(),
  txId: z.string(),
  piiCollection: z.string(),
  piiHash: z.string(),
});
export const PiiAnswer = z.object({ dataId: z.string(), details: z.string(), collection: z.string() });
export const PurposeQuery = z.strictObject({ purpose: Purpose.optional() });
export const DeleteObjectQuery = z.strictObject({ reason: Text(256).min(1) });
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
