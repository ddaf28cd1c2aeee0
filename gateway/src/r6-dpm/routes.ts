/**
 * R6 external DPM (X4, F3, C1–C3; docs/dpm.md). The requester's side:
 *
 *  POST /r6/jobs                          submit: the ledger decides first (SubmitJob simulated as the caller),
 *                                         inputs read from the storage agent verified against the ledger's
 *                                         fingerprints, sealed to the provider's certificate key and signed
 *                                         by the caller's Fabric identity, SubmitJob with the envelope's
 *                                         SHA-256, envelope kept for pickup
 *  GET  /r6/jobs/:jobId                   the ledger's job (GetJob)
 *  GET  /r6/jobs/:jobId/result            the result envelope and the receipt
 *  GET  /r6/jobs/:jobId/output            the result opened for the identity that submitted the job
 *
 * The provider's side (a `dpm` principal whose principal is the provider id):
 *
 *  PUT  /r6/providers/:providerId/key     register the worker's own enrollment certificate (proof of possession)
 *  GET  /r6/providers/:providerId/key     the registered certificate (public)
 *  GET  /r6/providers/:providerId/jobs    its jobs (ListJobsByProvider)
 *  GET  /r6/jobs/:jobId/envelope          the input envelope: only the job's provider identity (the contract's rule)
 *  POST /r6/jobs/:jobId/accept            AcceptJob
 *  POST /r6/jobs/:jobId/result            result envelope + receipt: RecordReceipt as the provider
 *  POST /r6/jobs/:jobId/fail              FailJob
 *
 * Every ledger call is made as the caller's own Fabric identity. The provider's decrypting key is
 * never here: inputs are encrypted to a certificate the worker registered and proved it holds the key of.
 */
import { X509Certificate, verify } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { loadTopology, type Topology } from '../../../network/topology.js';
import type { Caller } from '../auth/principal.js';
import {
  certSha256,
  commonName,
  decodeEnvelope,
  EnvelopeError,
  fabricAttrs,
  openEnvelope,
  sealEnvelope,
  sha256Hex,
  verifyChain,
  verifyEnvelope,
  type TrustAnchors,
} from '../dpm/envelope.js';
import { decodeResultPayload, encodeInputPayload, keyRegistrationMessage } from '../dpm/payload.js';
import { DpmStore, type ProviderKey } from './store.js';
import { networkTrust } from '../dpm/trust.js';
import { IdentityService } from '../ledger/identities.js';
import type { Ledger } from '../ledger/ledger.js';
import { ApiError, deniedByLedger, fromChaincode, parseChaincodeReason } from '../http/problem.js';
import { route, type AnyRoute } from '../http/routes.js';
import { bookmarkIn, bookmarkOut, CertificatePem, Id, Iso, LedgerRecord, PageBookmark, Sha256, Text } from '../http/schemas.js';
import { IntegrityError } from '../r2-storage/format.js';
import { KeyError } from '../r2-storage/keyring.js';
import type { ObjectStore } from '../r2-storage/store.js';

const TAG = 'R6 external DPM';
const READ = [403, 404];
const WRITE = [400, 403, 404, 409, 410, 422, 503];
const ZERO_SHA = '0'.repeat(64);
/** Seconds a key-registration proof stays acceptable. */
const PROOF_WINDOW_MS = 5 * 60_000;

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const JobParams = z.strictObject({ jobId: Id });
const ProviderParams = z.strictObject({ providerId: Id });
const SubmitJob = z.strictObject({
  jobId: Id,
  metaverseId: Id,
  providerId: Id,
  purpose: Id,
  inputs: z.array(Id).min(1).max(100),
});
const JobsQuery = z.strictObject({
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
const RegisterKey = z.strictObject({
  certificate: CertificatePem,
  signedAt: Iso,
  /** ECDSA (DER, base64) by the certificate's key over canonical CBOR {typ, providerId, certSha256, signedAt}. */
  signature: Base64.min(8).max(512),
});
const PostResult = z.strictObject({
  envelope: Base64.min(8),
  receipt: z.strictObject({ outputSha256: Sha256, startedAt: Iso, endedAt: Iso, summary: Text(1024).min(1) }),
});
const Reason = z.strictObject({ reason: Text(1024).min(1) });
const Submitted = z.object({ txId: z.string(), job: LedgerRecord, envelope: z.object({ sha256: z.string(), size: z.number() }) });
const EnvelopeBody = z.object({ jobId: z.string(), sha256: z.string(), size: z.number(), envelope: z.string() });

interface JobInput {
  dataId: string;
  sha256: string;
}
export interface DpmJobRecord {
  jobId: string;
  metaverseId: string;
  requesterMspId: string;
  providerId: string;
  providerMspId: string;
  inputs: JobInput[];
  inputsDigest: string;
  envelopeSha256: string;
  purpose: string;
  status: string;
  submittedBy: { mspId: string; principal: string; role: string };
  receipt?: { outputSha256: string; startedAt: string; endedAt: string; outputLocation?: string };
}

export interface DpmRouteOptions {
  /** DPM material lives in <stateDir>/dpm (else <storageDir>/dpm; with neither the routes answer 503). */
  stateDir?: string;
  /** Unseals the callers' enrolled identities (the same sealed files the ledger's IdentityService keeps). */
  storageKey: Buffer;
  log: (msg: string) => void;
  topology?: Topology;
  /** CA certificates by MSP; default: the network's. */
  trust?: TrustAnchors;
  /** Largest total input of one job, in bytes (default 32 MiB). */
  maxInputBytes?: number;
  now?: () => number;
}

const envelopeProblem = (e: EnvelopeError, what: string) =>
  new ApiError(422, `${what}: ${e.message}`, 'envelope-refused', { members: { envelopeError: e.code } });

export function dpmRoutes(ledger: Ledger, storage: ObjectStore | undefined, o: DpmRouteOptions): AnyRoute[] {
  const now = o.now ?? Date.now;
  const maxInputBytes = o.maxInputBytes ?? 32 * 1024 * 1024;
  let topology = o.topology;
  let trustAnchors = o.trust;
  let identities: IdentityService | undefined;
  // <stateDir>/dpm; a gateway without a state folder keeps it beside its object store (<storageDir>/dpm).
  const dpmDir = o.stateDir ? join(o.stateDir, 'dpm') : storage ? join(storage.dir, 'dpm') : undefined;
  const store = dpmDir ? new DpmStore(dpmDir) : undefined;

  const dpm = (): DpmStore => {
    if (!store)
      throw new ApiError(503, 'DPM hand-off needs a gateway state folder (MVSEC_GATEWAY_STATE_DIR) or an object store', 'no-dpm-state');
    return store;
  };
  const topo = (): Topology => (topology ??= loadTopology());
  const trust = (): TrustAnchors => (trustAnchors ??= networkTrust(topo()));
  /** The caller's own enrolled Fabric identity (its certificate and key sign the envelope it sends). */
  const identityOf = (c: Caller) => (identities ??= new IdentityService(topo(), o.storageKey, o.stateDir)).identityOf(c);
  const submit = async (c: Caller, fn: string, args: string[]) => {
    const r = await ledger.submit(c, fn, args);
    return { txId: r.txId, job: r.result as DpmJobRecord };
  };
  const getJob = async (c: Caller, jobId: string) => (await ledger.evaluate(c, 'dpm:GetJob', [jobId])) as DpmJobRecord;
  /** A COMPLETED job (409 otherwise) and its result envelope held here (404 otherwise). */
  const completedResult = async (c: Caller, jobId: string) => {
    const job = await getJob(c, jobId);
    if (job.status !== 'COMPLETED' || !job.receipt)
      throw new ApiError(409, `job ${job.jobId} is ${job.status}; it has no result`, 'no-result');
    const bytes = await dpm().envelope(jobId, 'result');
    if (!bytes)
      throw new ApiError(404, `no result envelope for job ${job.jobId} is held by this gateway`, 'not-found', { code: 'NOT_FOUND' });
    return { job: job as DpmJobRecord & { receipt: NonNullable<DpmJobRecord['receipt']> }, bytes };
  };
  /** A chaincode refusal, as a problem, from a thrown error (or the error itself). */
  const coded = (err: unknown): ApiError | undefined => {
    if (err instanceof ApiError) return err;
    const c = parseChaincodeReason(String((err as Error)?.message ?? ''));
    return c ? fromChaincode(c.code, c.reason) : undefined;
  };

  /**
   * Only the job's provider identity: the contract's rule (dpm.provider), asked by simulating
   * FailJob as the caller — evaluated on a peer, never ordered, so nothing changes on the ledger.
   */
  const guardProvider = async (c: Caller, jobId: string) => {
    await ledger.evaluate(c, 'dpm:FailJob', [jobId, 'authorization probe (evaluated only, never submitted)']);
  };

  const registeredKey = async (providerId: string, providerMspId: string): Promise<ProviderKey> => {
    const k = await dpm().providerKey(providerId);
    if (!k)
      throw new ApiError(
        409,
        `DPM provider ${providerId} has not registered an encryption certificate with this gateway (PUT /r6/providers/${providerId}/key); nothing was sent`,
        'no-provider-key',
      );
    if (k.mspId !== providerMspId)
      throw new ApiError(
        409,
        `provider ${providerId}'s registered certificate is of ${k.mspId}, the ledger says ${providerMspId}`,
        'no-provider-key',
      );
    try {
      verifyChain(k.certificate, k.mspId, trust(), now(), 'provider');
    } catch (e) {
      if (e instanceof EnvelopeError)
        throw new ApiError(409, `provider ${providerId}'s registered certificate: ${e.message}`, 'no-provider-key');
      throw e;
    }
    return k;
  };

  /** Read every input from the storage agent, verified in full against the ledger's fingerprint. */
  const readInputs = async (inputs: JobInput[]) => {
    if (!storage) throw new ApiError(503, 'no off-chain store is configured on this gateway (MVSEC_GATEWAY_STORAGE_DIR)', 'no-storage');
    const out: { dataId: string; sha256: string; size: number; data: Buffer }[] = [];
    let total = 0;
    for (const input of inputs) {
      const e = await storage.entry(input.dataId);
      if (!e)
        throw new ApiError(
          409,
          `input ${input.dataId} is not held by this gateway's storage agent (R2); nothing was sent`,
          'input-not-here',
        );
      if (e.state === 'DELETED') throw new ApiError(410, `input ${input.dataId} is deleted`, 'deleted');
      total += e.size;
      if (total > maxInputBytes) throw new ApiError(413, `the job's inputs exceed ${maxInputBytes} bytes`);
      let reader;
      try {
        reader = await storage.openVerified(e, { sha256: input.sha256, size: e.size });
        const chunks: Buffer[] = [];
        for await (const c of reader.stream()) chunks.push(c as Buffer);
        const data = Buffer.concat(chunks);
        if (sha256Hex(data) !== input.sha256) throw new IntegrityError(`input ${input.dataId} does not hash to the ledger's fingerprint`);
        out.push({ dataId: input.dataId, sha256: input.sha256, size: data.length, data });
      } catch (err) {
        if (err instanceof IntegrityError || err instanceof KeyError) {
          o.log(`dpm: INTEGRITY input ${input.dataId} refused: ${err.message}`);
          throw new ApiError(
            502,
            `input ${input.dataId} failed verification against the ledger's fingerprint; nothing was sent`,
            'integrity-error',
            {
              code: 'INTEGRITY',
            },
          );
        }
        throw err;
      } finally {
        await reader?.close();
      }
    }
    return out;
  };

  return [
    // ---------------------------------------------------------------- provider key
    route({
      method: 'put',
      path: '/r6/providers/:providerId/key',
      tag: TAG,
      summary:
        "Register the DPM worker's own Fabric enrollment certificate (issued by the provider organisation's CA, attributes role=dpm and principal=providerId), with a proof that the worker holds its key; inputs are then encrypted to it",
      access: 'authenticated',
      params: ProviderParams,
      body: RegisterKey,
      response: LedgerRecord,
      statuses: [400, 403, 404, 422],
      idempotent: true,
      handler: async ({ caller, params, body }) => {
        const { providerId } = params;
        const platform = (await ledger.evaluate(caller, 'platform:GetPlatform', [providerId])) as { type?: string; mspId?: string };
        if (platform.type !== 'DPM') throw fromChaincode('INVALID', `platform ${providerId} is ${platform.type}, not a DPM provider`);
        if (caller.mspId !== platform.mspId || caller.role !== 'dpm' || caller.principal !== providerId)
          throw deniedByLedger(
            `registering the key of DPM provider ${providerId} needs its identity (${platform.mspId}, role dpm, principal ${providerId}); caller is ${caller.principal}@${caller.mspId} (${caller.role})`,
          );
        let cert: X509Certificate;
        try {
          cert = verifyChain(body.certificate, caller.mspId, trust(), now(), 'provider');
        } catch (e) {
          if (e instanceof EnvelopeError) throw new ApiError(422, e.message, 'certificate-refused');
          throw e;
        }
        const attrs = fabricAttrs(cert);
        if (attrs.role !== 'dpm' || attrs.principal !== providerId)
          throw new ApiError(
            422,
            `the certificate carries role=${attrs.role ?? '∅'} principal=${attrs.principal ?? '∅'}; it must be enrolled with role=dpm and principal=${providerId}`,
            'certificate-refused',
          );
        if (commonName(cert).startsWith('gw-'))
          throw new ApiError(
            422,
            `certificate ${commonName(cert)} is an identity the gateway enrolled (and holds the key of); register the worker's own enrollment`,
            'certificate-refused',
          );
        const skew = Math.abs(Date.parse(body.signedAt) - now());
        if (skew > PROOF_WINDOW_MS)
          throw new ApiError(422, `signedAt is ${Math.round(skew / 1000)} s away from the gateway's clock`, 'certificate-refused');
        const certSha = sha256Hex(cert.raw);
        if (
          !verify(
            'sha256',
            keyRegistrationMessage(providerId, certSha, body.signedAt),
            cert.publicKey,
            Buffer.from(body.signature, 'base64'),
          )
        )
          throw new ApiError(422, 'the proof of possession does not verify with the certificate key', 'certificate-refused');
        const k: ProviderKey = {
          providerId,
          mspId: caller.mspId,
          certificate: body.certificate,
          certSha256: certSha,
          registeredBy: { mspId: caller.mspId, principal: caller.principal },
          registeredAt: new Date(now()).toISOString(),
        };
        await dpm().saveProviderKey(k);
        o.log(`dpm: provider ${providerId} registered encryption certificate ${certSha} (${commonName(cert)})`);
        return { body: k };
      },
    }),
    route({
      method: 'get',
      path: '/r6/providers/:providerId/key',
      tag: TAG,
      summary: "A DPM provider's registered encryption certificate (public)",
      access: 'authenticated',
      params: ProviderParams,
      response: LedgerRecord,
      statuses: [404],
      handler: async ({ params }) => {
        const k = await dpm().providerKey(params.providerId);
        if (!k)
          throw new ApiError(404, `provider ${params.providerId} has registered no encryption certificate`, 'not-found', {
            code: 'NOT_FOUND',
          });
        return { body: k };
      },
    }),

    // ---------------------------------------------------------------- requester
    route({
      method: 'post',
      path: '/r6/jobs',
      tag: TAG,
      summary:
        "Submit a DPM job. The ledger decides first (SubmitJob simulated as the caller: every input's policy must allow the metaverse, the provider and the purpose; 403 with the contract's reason otherwise). Then the inputs are read from the storage agent and verified against the ledger's fingerprints, encrypted to the provider's registered certificate key and signed by the caller's Fabric identity; SubmitJob records the envelope's SHA-256 and the inputs' fingerprints; the envelope waits for the provider",
      access: 'authenticated',
      body: SubmitJob,
      response: Submitted,
      successStatus: 201,
      statuses: [...WRITE, 413, 502],
      idempotent: true,
      handler: async ({ caller, body }) => {
        const args = (envelopeSha256: string) => [JSON.stringify({ ...body, envelopeSha256 })];
        // 1. The ledger's decision before a byte is read or leaves (a simulation: nothing is ordered).
        const planned = (await ledger.evaluate(caller, 'dpm:SubmitJob', args(ZERO_SHA))) as DpmJobRecord;
        const key = await registeredKey(body.providerId, planned.providerMspId);
        // 2. The inputs, verified against the fingerprints the ledger bound to the job.
        const inputs = await readInputs(planned.inputs);
        // 3. Sealed to the provider, signed by the caller's Fabric identity.
        const me = await identityOf(caller);
        const bytes = sealEnvelope({
          kind: 'input',
          jobId: body.jobId,
          providerId: body.providerId,
          purpose: body.purpose,
          payload: encodeInputPayload(inputs),
          meta: {
            inputs: inputs.map(({ dataId, sha256, size }) => ({ dataId, sha256, size })),
            inputsDigest: planned.inputsDigest,
            metaverseId: body.metaverseId,
            requester: { mspId: caller.mspId, principal: caller.principal },
          },
          sender: { mspId: me.mspId, certificate: me.certificate.toString('utf8'), privateKey: me.privateKey },
          recipient: { mspId: key.mspId, certificate: key.certificate },
          now: now(),
        });
        for (const i of inputs) i.data.fill(0);
        const envelopeSha256 = sha256Hex(bytes);
        // 4. Recorded on the ledger, then offered for pickup.
        const staged = await dpm().stage(body.jobId, 'input', bytes);
        let r;
        try {
          r = await submit(caller, 'dpm:SubmitJob', args(envelopeSha256));
        } catch (e) {
          await staged.discard();
          throw e;
        }
        await staged.commit();
        return {
          body: {
            txId: r.txId,
            job: r.job as unknown as Record<string, unknown>,
            envelope: { sha256: envelopeSha256, size: bytes.length },
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/r6/jobs/:jobId',
      tag: TAG,
      summary: "The ledger's job (GetJob): requester or provider organisation, auditors, monitors",
      access: 'authenticated',
      params: JobParams,
      response: LedgerRecord,
      statuses: READ,
      handler: async ({ caller, params }) => ({ body: await getJob(caller, params.jobId) }),
    }),
    route({
      method: 'get',
      path: '/r6/jobs/:jobId/result',
      tag: TAG,
      summary: 'The result envelope (base64, encrypted to the requester) and the receipt the ledger holds',
      access: 'authenticated',
      params: JobParams,
      response: LedgerRecord,
      statuses: [403, 404, 409],
      handler: async ({ caller, params }) => {
        const { job, bytes } = await completedResult(caller, params.jobId);
        const sha256 = sha256Hex(bytes);
        return {
          body: {
            jobId: job.jobId,
            receipt: job.receipt,
            resultEnvelope: { sha256, size: bytes.length, envelope: bytes.toString('base64') },
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/r6/jobs/:jobId/output',
      tag: TAG,
      summary:
        "The result opened for the identity that submitted the job: the provider's signature and certificate chain verified, decrypted with the submitter's key, and the output's SHA-256 checked against the receipt on the ledger",
      access: 'authenticated',
      params: JobParams,
      response: LedgerRecord,
      statuses: [403, 404, 409, 502],
      handler: async ({ caller, params }) => {
        const { job, bytes } = await completedResult(caller, params.jobId);
        const by = job.submittedBy ?? {};
        if (by.mspId !== caller.mspId || by.principal !== caller.principal || by.role !== caller.role)
          throw new ApiError(
            403,
            `the result of job ${job.jobId} is encrypted to the identity that submitted it (${by.principal}@${by.mspId})`,
            'not-recipient',
          );
        const me = await identityOf(caller);
        let opened;
        try {
          opened = openEnvelope(
            bytes,
            { certificate: me.certificate.toString('utf8'), privateKey: me.privateKey },
            {
              trust: trust(),
              now: now(),
              expect: {
                kind: 'result',
                jobId: job.jobId,
                providerId: job.providerId,
                purpose: job.purpose,
                senderMspId: job.providerMspId,
              },
            },
          );
        } catch (e) {
          if (e instanceof EnvelopeError) {
            o.log(`dpm: INTEGRITY result of job ${job.jobId} refused: ${e.message}`);
            throw new ApiError(502, `the result envelope of job ${job.jobId} does not open: ${e.message}`, 'integrity-error', {
              code: 'INTEGRITY',
            });
          }
          throw e;
        }
        let out;
        try {
          out = decodeResultPayload(opened.payload);
        } catch (e) {
          if (e instanceof EnvelopeError)
            throw new ApiError(502, `the result of job ${job.jobId}: ${e.message}`, 'integrity-error', { code: 'INTEGRITY' });
          throw e;
        }
        const outputSha256 = sha256Hex(out.data);
        if (outputSha256 !== job.receipt.outputSha256 || opened.senderAttrs.principal !== job.providerId)
          throw new ApiError(502, `the result of job ${job.jobId} is not what the receipt on the ledger binds`, 'integrity-error', {
            code: 'INTEGRITY',
          });
        return {
          body: {
            jobId: job.jobId,
            contentType: out.contentType,
            outputSha256,
            data: out.data.toString('base64'),
            receipt: job.receipt,
            signedBy: { mspId: opened.envelope.sender.mspId, ...opened.senderAttrs, certSha256: certSha256(opened.envelope.sender.cert) },
          },
        };
      },
    }),

    // ---------------------------------------------------------------- provider
    route({
      method: 'get',
      path: '/r6/providers/:providerId/jobs',
      tag: TAG,
      summary:
        "A provider's jobs, paged (ListJobsByProvider: the provider's MSP, auditors, monitors); open=true pages the open ones only (ListOpenJobsByProvider); status filters the page",
      access: 'authenticated',
      params: ProviderParams,
      query: JobsQuery,
      response: LedgerRecord,
      statuses: READ,
      handler: async ({ caller, params, query }) => {
        const page = (await ledger.evaluate(caller, query.open === 'true' ? 'dpm:ListOpenJobsByProvider' : 'dpm:ListJobsByProvider', [
          params.providerId,
          query.pageSize ?? '50',
          bookmarkIn(query.bookmark),
        ])) as { items: DpmJobRecord[]; bookmark?: string } | undefined;
        const items = page?.items ?? [];
        return {
          body: {
            items: query.status ? items.filter((j) => j.status === query.status) : items,
            bookmark: bookmarkOut(page?.bookmark ?? ''),
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/r6/jobs/:jobId/envelope',
      tag: TAG,
      summary:
        "The job's input envelope (base64), only for the job's provider identity (the contract's rule, 403 with its reason) while the job is SUBMITTED or ACCEPTED; its SHA-256 is the one on the ledger",
      access: 'authenticated',
      params: JobParams,
      response: EnvelopeBody,
      statuses: [403, 404, 409, 502],
      handler: async ({ caller, params }) => {
        const job = await getJob(caller, params.jobId);
        await guardProvider(caller, params.jobId);
        const bytes = await dpm().envelope(params.jobId, 'input');
        if (!bytes)
          throw new ApiError(404, `no input envelope for job ${job.jobId} is held by this gateway`, 'not-found', { code: 'NOT_FOUND' });
        const sha256 = sha256Hex(bytes);
        if (sha256 !== job.envelopeSha256) {
          o.log(`dpm: INTEGRITY envelope of job ${job.jobId} hashes to ${sha256}, the ledger says ${job.envelopeSha256}`);
          throw new ApiError(502, `the envelope of job ${job.jobId} is not the one the ledger records`, 'integrity-error', {
            code: 'INTEGRITY',
          });
        }
        return { body: { jobId: job.jobId, sha256, size: bytes.length, envelope: bytes.toString('base64') } };
      },
    }),
    route({
      method: 'post',
      path: '/r6/jobs/:jobId/accept',
      tag: TAG,
      summary: 'Accept a job (AcceptJob, the provider identity)',
      access: 'authenticated',
      params: JobParams,
      response: LedgerRecord,
      statuses: WRITE,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await submit(caller, 'dpm:AcceptJob', [params.jobId]) }),
    }),
    route({
      method: 'post',
      path: '/r6/jobs/:jobId/fail',
      tag: TAG,
      summary: 'Fail a job with a reason (FailJob, the provider identity)',
      access: 'authenticated',
      params: JobParams,
      body: Reason,
      response: LedgerRecord,
      statuses: WRITE,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await submit(caller, 'dpm:FailJob', [params.jobId, body.reason]) }),
    }),
    route({
      method: 'post',
      path: '/r6/jobs/:jobId/result',
      tag: TAG,
      summary:
        "Deliver the result envelope (encrypted to the requester, signed by the provider's registered certificate, binding output fingerprint, inputs digest, input envelope and times) and record the receipt (RecordReceipt as the provider identity); the envelope's SHA-256 becomes the receipt's outputLocation",
      access: 'authenticated',
      params: JobParams,
      body: PostResult,
      response: LedgerRecord,
      statuses: WRITE,
      idempotent: true,
      handler: async ({ caller, params, body }) => {
        const job = await getJob(caller, params.jobId);
        await guardProvider(caller, params.jobId);
        if (job.status !== 'ACCEPTED') throw fromChaincode('CONFLICT', `job ${job.jobId} is ${job.status}; expected ACCEPTED`);
        const bytes = Buffer.from(body.envelope, 'base64');
        let v;
        try {
          v = verifyEnvelope(bytes, {
            trust: trust(),
            now: now(),
            expect: { kind: 'result', jobId: job.jobId, providerId: job.providerId, purpose: job.purpose, senderMspId: job.providerMspId },
          });
        } catch (e) {
          if (e instanceof EnvelopeError) throw envelopeProblem(e, 'result envelope refused');
          throw e;
        }
        const key = await dpm().providerKey(job.providerId);
        if (!key || key.certSha256 !== certSha256(v.envelope.sender.cert))
          throw new ApiError(
            422,
            `the result envelope is not signed by provider ${job.providerId}'s registered certificate`,
            'envelope-refused',
          );
        const input = await dpm().envelope(params.jobId, 'input');
        const requesterCert = input ? decodeEnvelope(input).sender.cert : undefined;
        if (!requesterCert || v.envelope.recipient.certSha256 !== certSha256(requesterCert))
          throw new ApiError(422, `the result envelope is not encrypted to the identity that sent job ${job.jobId}`, 'envelope-refused');
        const m = v.envelope.meta;
        const r = body.receipt;
        const binds: [string, unknown, unknown][] = [
          ['outputSha256', m.outputSha256, r.outputSha256],
          ['startedAt', m.startedAt, r.startedAt],
          ['endedAt', m.endedAt, r.endedAt],
          ['inputsDigest', m.inputsDigest, job.inputsDigest],
          ['inputEnvelopeSha256', m.inputEnvelopeSha256, job.envelopeSha256],
        ];
        for (const [k, inEnvelope, expected] of binds)
          if (inEnvelope !== expected)
            throw new ApiError(
              422,
              `the result envelope's ${k} is ${String(inEnvelope)}, the receipt/job says ${String(expected)}`,
              'envelope-refused',
            );
        const staged = await dpm().stage(params.jobId, 'result', bytes);
        let done;
        try {
          done = await submit(caller, 'dpm:RecordReceipt', [
            job.jobId,
            JSON.stringify({ ...r, inputsDigest: job.inputsDigest, outputLocation: `dpm-result:${v.sha256}` }),
          ]);
        } catch (e) {
          await staged.discard();
          throw coded(e) ?? e;
        }
        await staged.commit();
        return { body: { txId: done.txId, job: done.job, resultEnvelope: { sha256: v.sha256, size: bytes.length } } };
      },
    }),
  ];
}
