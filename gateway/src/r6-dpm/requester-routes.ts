/**
 * R6, the requester's side: submit a job (the ledger decides first, inputs verified against the
 * ledger's fingerprints, sealed to the provider's registered certificate and signed by the
 * caller's Fabric identity), read it, its result envelope and the result opened for the submitter.
 */
import { certSha256, EnvelopeError, openEnvelope, sealEnvelope, sha256Hex } from 'mvsec-protocol/dpm';
import { decodeResultPayload, encodeInputPayload } from 'mvsec-protocol/dpm';
import { ApiError } from '../http/problem.js';
import { route, WRITE_STATUSES as WRITE, READ_STATUSES as READ, type AnyRoute } from '../http/routes.js';
import { LedgerRecord } from '../http/schemas.js';
import { JobParams, SubmitJob, Submitted } from './schemas.js';
import { TAG, type DpmService } from './service.js';

const ZERO_SHA = '0'.repeat(64);

export function requesterRoutes(svc: DpmService): AnyRoute[] {
  const { ledger } = svc;
  return [
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
        const input = (envelopeSha256: string) => ({ ...body, envelopeSha256 });
        // 1. The ledger's decision before a byte is read or leaves (a simulation: nothing is ordered).
        const planned = await ledger.dpm.planJob(caller, input(ZERO_SHA));
        const key = await svc.providers.registeredKey(svc.store(), body.providerId, planned.providerMspId);
        // 2. The inputs, verified against the fingerprints the ledger bound to the job.
        const inputs = await svc.readInputs(planned.inputs);
        // 3. Sealed to the provider, signed by the caller's Fabric identity.
        const me = await svc.identityOf(caller);
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
          now: svc.now(),
        });
        for (const i of inputs) i.data.fill(0);
        const envelopeSha256 = sha256Hex(bytes);
        // 4. Recorded on the ledger, then offered for pickup.
        const staged = await svc.store().stage(body.jobId, 'input', bytes);
        let r;
        try {
          r = await ledger.dpm.submitJob(caller, input(envelopeSha256));
        } catch (e) {
          await staged.discard();
          throw e;
        }
        await staged.commit();
        return {
          body: {
            txId: r.txId,
            job: r.result as unknown as Record<string, unknown>,
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
      handler: async ({ caller, params }) => ({ body: await svc.getJob(caller, params.jobId) }),
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
        const { job, bytes } = await svc.completedResult(caller, params.jobId);
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
        const { job, bytes } = await svc.completedResult(caller, params.jobId);
        const by = job.submittedBy ?? {};
        if (by.mspId !== caller.mspId || by.principal !== caller.principal || by.role !== caller.role)
          throw new ApiError(
            403,
            `the result of job ${job.jobId} is encrypted to the identity that submitted it (${by.principal}@${by.mspId})`,
            'not-recipient',
          );
        const me = await svc.identityOf(caller);
        let opened;
        try {
          opened = openEnvelope(
            bytes,
            { certificate: me.certificate.toString('utf8'), privateKey: me.privateKey },
            {
              trust: svc.providers.trust(),
              now: svc.now(),
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
            svc.log(`dpm: INTEGRITY result of job ${job.jobId} refused: ${e.message}`);
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
  ];
}
