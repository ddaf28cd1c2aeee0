/** R6 HTTP parameters, bodies and answers. */
import { z } from 'zod';
import { CertificatePem, Id, Iso, Sha256, Text } from 'mvsec-protocol/inputs';
import { LedgerRecord, PageBookmark } from '../http/schemas.js';

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
export const JobParams = z.strictObject({ jobId: Id });
export const ProviderParams = z.strictObject({ providerId: Id });
export const SubmitJob = z.strictObject({
  jobId: Id,
  metaverseId: Id,
  providerId: Id,
  purpose: Id,
  inputs: z.array(Id).min(1).max(100),
});
export const JobsQuery = z.strictObject({
  status: z.enum(['SUBMITTED', 'ACCEPTED', 'COMPLETED', 'FAILED']).optional(),
  open: z
    .enum(['true', 'false'])
    .optional()
    .describe("true: only the jobs still to be done (SUBMITTED or ACCEPTED), from the ledger's open-jobs index — what a worker polls"),
  pageSize: z
    .string()
    .regex(/^(?:[1-9]\d?|1\d\d|200)$/, 'must be 1–200')
    .optional(),
  bookmark: PageBookmark.optional(),
});
export const RegisterKey = z.strictObject({
  certificate: CertificatePem,
  signedAt: Iso,
  /** ECDSA (DER, base64) by the certificate's key over canonical CBOR {typ, providerId, certSha256, signedAt}. */
  signature: Base64.min(8).max(512),
});
export type RegisterKeyBody = z.infer<typeof RegisterKey>;
export const PostResult = z.strictObject({
  envelope: Base64.min(8),
  receipt: z.strictObject({ outputSha256: Sha256, startedAt: Iso, endedAt: Iso, summary: Text(1024).min(1) }),
});
export const Reason = z.strictObject({ reason: Text(1024).min(1) });
export const Submitted = z.object({ txId: z.string(), job: LedgerRecord, envelope: z.object({ sha256: z.string(), size: z.number() }) });
export const EnvelopeBody = z.object({ jobId: z.string(), sha256: z.string(), size: z.number(), envelope: z.string() });
