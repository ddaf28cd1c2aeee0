/**
 * Trust rule 8 on the real network (the DPM provider part): the DPM organisation's CA can issue
 * any number of certificates carrying the provider's `role=dpm` and `principal` attributes; only
 * the identity whose key the provider's admin bound on the ledger (platform:BindProviderIdentity,
 * buildWorld binds `w.provider`) may accept a job, fail it or record its receipt. The chaincode
 * reads the creator's certificate itself (the SHA-256 of its public key).
 */
import { createHash, X509Certificate } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  DPM,
  evaluate,
  isoIn,
  ok,
  processGrantInput,
  refused,
  sha256,
  submit,
  type Actor,
  type World,
} from './support/domain.js';

interface Job {
  jobId: string;
  status: string;
  createdAt: string;
  receipt?: { outputSha256: string; recordedBy: { principal: string } };
}
interface ProviderIdentity {
  spkiSha256: string;
  subject: string;
}

const keyOf = (pem: string) =>
  createHash('sha256')
    .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');

describe('trust rule 8: the DPM provider is the identity bound on the ledger (real network)', () => {
  let w: World;
  let rogue: Actor;
  let dataId: string;
  let n = 0;

  const submitJob = async () => {
    const jobId = `job-${w.run}-${++n}`;
    await ok(w.mvaAdmin.cc('dpm'), 'SubmitJob', [
      JSON.stringify({
        jobId,
        metaverseId: w.mvaId,
        providerId: w.dpmId,
        inputs: [dataId],
        purpose: 'analytics',
        envelopeSha256: sha256(`envelope ${jobId}`),
      }),
    ]);
    return jobId;
  };
  const receiptFor = async (jobId: string) => {
    const job = await evaluate<Job>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    return JSON.stringify({
      outputSha256: sha256(`output ${jobId}`),
      startedAt: job.createdAt,
      endedAt: isoIn(-1),
      summary: 'gait analysis',
    });
  };
  const notBound = (a: Actor) =>
    new RegExp(
      `DENIED: ${a.principal}@${DPM} \\(role dpm\\) is not the identity bound to provider ${w.dpmId} \\(certificate key sha256 ${keyOf(a.certificate)}\\)`,
    );

  before(async () => {
    w = await buildWorld('r8');
    dataId = `d-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, dataId))]);
    await ok(w.alice.cc('access'), 'CreateGrant', [JSON.stringify(processGrantInput(w, `gp-${w.run}`))]);
    // a second certificate from the DPM organisation's CA carrying the provider's principal
    rogue = await actor(DPM, 'dpm', w.dpmId);
    assert.equal(rogue.principal, w.provider.principal);
    assert.notEqual(keyOf(rogue.certificate), keyOf(w.provider.certificate));
  });
  after(() => {
    rogue?.conn.close();
    w?.close();
  });

  it('X4/A2: the ledger lists the bound key of the provider, the one buildWorld’s provider admin bound', async () => {
    const bound = await evaluate<ProviderIdentity[]>(w.mvaAdmin.cc('platform'), 'ListProviderIdentities', [w.dpmId]);
    assert.deepEqual(
      bound.map((b) => b.spkiSha256),
      [keyOf(w.provider.certificate)],
    );
  });

  it('X4: a second DPM-CA certificate with the provider’s principal cannot accept a job, fail it or record a receipt; the job is unchanged', async () => {
    const jobId = await submitJob();
    assert.match(await refused(() => submit(rogue.cc('dpm'), 'AcceptJob', [jobId])), notBound(rogue));
    assert.match(await refused(() => submit(rogue.cc('dpm'), 'FailJob', [jobId, 'sabotage'])), notBound(rogue));
    assert.equal((await evaluate<Job>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId])).status, 'SUBMITTED');

    await ok(w.provider.cc('dpm'), 'AcceptJob', [jobId]);
    const receipt = await receiptFor(jobId);
    assert.match(await refused(() => submit(rogue.cc('dpm'), 'RecordReceipt', [jobId, receipt])), notBound(rogue));
    const accepted = await evaluate<Job>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    assert.equal(accepted.status, 'ACCEPTED');
    assert.equal(accepted.receipt, undefined, 'no receipt from the unbound certificate');

    await ok(w.provider.cc('dpm'), 'RecordReceipt', [jobId, receipt]);
    const done = await evaluate<Job>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    assert.equal(done.status, 'COMPLETED');
    assert.equal(done.receipt?.outputSha256, sha256(`output ${jobId}`));
  });

  it('A2: only the provider’s admin binds an identity; the provider itself and another organisation’s admin are refused', async () => {
    const self = await refused(() => submit(rogue.cc('platform'), 'BindProviderIdentity', [w.dpmId, rogue.certificate]));
    assert.match(self, /DENIED: /);
    const other = await refused(() => submit(w.mvaAdmin.cc('platform'), 'BindProviderIdentity', [w.dpmId, rogue.certificate]));
    assert.match(other, new RegExp(`DENIED: platform ${w.dpmId} belongs to ${DPM}; only its admins may change it`));
    const jobId = await submitJob();
    assert.match(await refused(() => submit(rogue.cc('dpm'), 'AcceptJob', [jobId])), notBound(rogue));
  });

  it('X4: once the provider’s admin binds the second certificate (a new worker), it may act; unbound again, it may not', async () => {
    await ok(w.dpmAdmin.cc('platform'), 'BindProviderIdentity', [w.dpmId, rogue.certificate]);
    const jobId = await submitJob();
    await ok(rogue.cc('dpm'), 'AcceptJob', [jobId]);
    await ok(w.dpmAdmin.cc('platform'), 'UnbindProviderIdentity', [w.dpmId, keyOf(rogue.certificate)]);
    const receipt = await receiptFor(jobId);
    assert.match(await refused(() => submit(rogue.cc('dpm'), 'RecordReceipt', [jobId, receipt])), notBound(rogue));
    await ok(w.provider.cc('dpm'), 'RecordReceipt', [jobId, receipt]);
  });
});
