/**
 * R6, the provider's side (a `dpm` principal whose principal is the provider id): register the
 * worker's encryption certificate, list its jobs, fetch input envelopes, accept, fail, and deliver
 * results with their receipts — every ledger call as the caller's own Fabric identity.
 */
import { certSha256, commonName, decodeEnvelope, EnvelopeError, sha256Hex, verifyEnvelope } from 'mvsec-protocol/dpm';
import { deniedByLedger } from '../http/ledger-errors.js';
import { ApiError, fromChaincode } from '../http/problem.js';
import { route, WRITE_STATUSES as WRITE, READ_STATUSES as READ, type AnyRoute } from '../http/routes.js';
import { bookmarkIn, bookmarkOut, LedgerRecord } from '../http/schemas.js';
import type { Committed } from '../ledger/transactions.js';
import { EnvelopeBody, JobParams, JobsQuery, PostResult, ProviderParams, Reason, RegisterKey } from './schemas.js';
import { envelopeProblem, TAG, type DpmService } from './service.js';

/** A write's answer as the DPM routes give it: the transaction and the job it left. */
const jobOf = <T>(r: Committed<T>) => ({ txId: r.txId, job: r.result });

export function providerRoutes(svc: DpmService): AnyRoute[] {
  const { ledger } = svc;
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
        const platform = await ledger.platforms.get(caller, providerId);
        if (platform.type !== 'DPM') throw fromChaincode('INVALID', `platform ${providerId} is ${platform.type}, not a DPM provider`);
        if (caller.mspId !== platform.mspId || caller.role !== 'dpm' || caller.principal !== providerId)
          throw deniedByLedger(
            `registering the key of DPM provider ${providerId} needs its identity (${platform.mspId}, role dpm, principal ${providerId}); caller is ${caller.principal}@${caller.mspId} (${caller.role})`,
          );
        const { key: k, cert } = svc.providers.registration(caller, providerId, body);
        const certSha = k.certSha256;
        await svc.store().saveProviderKey(k);
        svc.log(`dpm: provider ${providerId} registered encryption certificate ${certSha} (${commonName(cert)})`);
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
        const k = await svc.store().providerKey(params.providerId);
        if (!k)
          throw new ApiError(404, `provider ${params.providerId} has registered no encryption certificate`, 'not-found', {
            code: 'NOT_FOUND',
          });
        return { body: k };
      },
    }),

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
        const list = query.open === 'true' ? ledger.dpm.openJobsOfProvider : ledger.dpm.jobsOfProvider;
        const page = await list.call(ledger.dpm, caller, params.providerId, query.pageSize ?? '50', bookmarkIn(query.bookmark));
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
        const job = await svc.getJob(caller, params.jobId);
        await ledger.dpm.probeProvider(caller, params.jobId);
        const bytes = await svc.store().envelope(params.jobId, 'input');
        if (!bytes)
          throw new ApiError(404, `no input envelope for job ${job.jobId} is held by this gateway`, 'not-found', { code: 'NOT_FOUND' });
        const sha256 = sha256Hex(bytes);
        if (sha256 !== job.envelopeSha256) {
          svc.log(`dpm: INTEGRITY envelope of job ${job.jobId} hashes to ${sha256}, the ledger says ${job.envelopeSha256}`);
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
      handler: async ({ caller, params }) => ({ body: jobOf(await ledger.dpm.acceptJob(caller, params.jobId)) }),
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
      handler: async ({ caller, params, body }) => ({ body: jobOf(await ledger.dpm.failJob(caller, params.jobId, body.reason)) }),
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
        const job = await svc.getJob(caller, params.jobId);
        await ledger.dpm.probeProvider(caller, params.jobId);
        if (job.status !== 'ACCEPTED') throw fromChaincode('CONFLICT', `job ${job.jobId} is ${job.status}; expected ACCEPTED`);
        const bytes = Buffer.from(body.envelope, 'base64');
        let v;
        try {
          v = verifyEnvelope(bytes, {
            trust: svc.providers.trust(),
            now: svc.now(),
            expect: { kind: 'result', jobId: job.jobId, providerId: job.providerId, purpose: job.purpose, senderMspId: job.providerMspId },
          });
        } catch (e) {
          if (e instanceof EnvelopeError) throw envelopeProblem(e, 'result envelope refused');
          throw e;
        }
        const key = await svc.store().providerKey(job.providerId);
        if (!key || key.certSha256 !== certSha256(v.envelope.sender.cert))
          throw new ApiError(
            422,
            `the result envelope is not signed by provider ${job.providerId}'s registered certificate`,
            'envelope-refused',
          );
        const input = await svc.store().envelope(params.jobId, 'input');
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
        const staged = await svc.store().stage(params.jobId, 'result', bytes);
        let done;
        try {
          done = jobOf(
            await ledger.dpm.recordReceipt(caller, job.jobId, {
              ...r,
              inputsDigest: job.inputsDigest,
              outputLocation: `dpm-result:${v.sha256}`,
            }),
          );
        } catch (e) {
          await staged.discard();
          throw e;
        }
        await staged.commit();
        return { body: { txId: done.txId, job: done.job, resultEnvelope: { sha256: v.sha256, size: bytes.length } } };
      },
    }),
  ];
}
