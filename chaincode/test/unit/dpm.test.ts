import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { inputsDigestOf } from '../../src/dpm/dpm-contract';
import type { DpmJob, DpmJobPage } from '../../src/dpm/dpm-types';
import { id, rejects, SHA_A, SHA_B, World } from '../support/fixtures';

const ENVELOPE = 'e'.repeat(64);
const OUT = 'c'.repeat(64);

/** A `process` grant on thing watch-1 for 'analytics', valid a day. */
export function processGrant(w: World, grantId: string, grantee: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    grantId,
    resourceType: 'THING',
    resourceId: 'watch-1',
    grantee,
    actions: ['process'],
    purpose: 'analytics',
    validUntil: new Date(w.chain.now + 86_400_000).toISOString(),
    ...extra,
  };
}

describe('dpm contract', () => {
  let w: World;
  const submit = (overrides: Record<string, unknown> = {}, who = id.aAdmin) =>
    w.chain.submit<DpmJob>(w.dpm, 'SubmitJob', who, [
      {
        jobId: 'job-1',
        metaverseId: 'mv-a',
        providerId: 'dpm-1',
        inputs: ['d-1', 'd-2'],
        purpose: 'analytics',
        envelopeSha256: ENVELOPE,
        ...overrides,
      },
    ]);
  const receipt = (overrides: Record<string, unknown> = {}) => ({
    outputSha256: OUT,
    startedAt: new Date(w.chain.now - 500).toISOString(),
    endedAt: new Date(w.chain.now).toISOString(),
    summary: 'gait analysis, 2 inputs',
    ...overrides,
  });

  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.anchor('d-1', SHA_A);
    await w.anchor('d-2', SHA_B);
    // the owner gives MetaverseA the right to have the watch's data processed (trust rule 5)
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [processGrant(w, 'g-process-a', { type: 'MSP', id: 'MetaverseAMSP' })]);
  });

  it('U1/X4/F3: a job whose inputs all allow the provider and purpose is accepted; the provider records the receipt', async () => {
    const job = await submit();
    assert.equal(job.status, 'SUBMITTED');
    assert.deepEqual(job.inputs, [
      { dataId: 'd-1', sha256: SHA_A },
      { dataId: 'd-2', sha256: SHA_B },
    ]);
    assert.equal(job.inputsDigest, inputsDigestOf(job.inputs));
    await w.chain.submit(w.dpm, 'AcceptJob', id.dpm1, ['job-1']);
    const done = await w.chain.submit<DpmJob>(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt({ inputsDigest: job.inputsDigest })]);
    assert.equal(done.status, 'COMPLETED');
    assert.equal(done.receipt?.outputSha256, OUT);
    assert.equal(done.receipt?.recordedBy.principal, 'dpm-1');
  });

  it("X4: refused when an input's policy does not allow the provider or the purpose", async () => {
    await rejects(submit({ providerId: 'dpm-2' }), 'DENIED', 'does not allow DPM provider dpm-2');
    await rejects(submit({ purpose: 'marketing' }), 'DENIED', "does not allow purpose 'marketing'");
    await w.chain.submit(w.thing, 'RegisterThing', id.alice, [
      {
        thingId: 'closed',
        platformId: 'iot-1',
        kind: 'SENSOR',
        accessMode: 'AUTONOMOUS',
        publicKey: 'pk',
        classification: 'PUBLIC',
        policy: { storage: 'ANY', encryptionRequired: false },
      },
    ]);
    await w.anchor('d-3', SHA_A, { thingId: 'closed' });
    await rejects(submit({ inputs: ['d-1', 'd-3'] }), 'DENIED', 'input d-3');
  });

  it('X4: refused for a suspended thing, a wrong requester MSP or role', async () => {
    await rejects(submit({}, id.bAdmin), 'DENIED', 'belongs to MetaverseAMSP');
    await rejects(submit({}, id.aUser), 'DENIED', 'needs role admin, creator or avatar-agent');
    await w.chain.submit(w.thing, 'SuspendThing', id.alice, ['watch-1', 'x']);
    await rejects(submit(), 'DENIED', 'is SUSPENDED');
  });

  it('R6: only the provider identity (its MSP, role dpm, its principal) accepts and records the receipt', async () => {
    await submit();
    await rejects(w.chain.submit(w.dpm, 'AcceptJob', id.aAdmin, ['job-1']), 'DENIED', 'caller is of MetaverseAMSP');
    await rejects(w.chain.submit(w.dpm, 'AcceptJob', id.dpmAdmin, ['job-1']), 'DENIED', 'needs role dpm');
    await rejects(w.chain.submit(w.dpm, 'AcceptJob', id.dpm2, ['job-1']), 'DENIED', 'is not provider dpm-1');
    await w.chain.submit(w.dpm, 'AcceptJob', id.dpm1, ['job-1']);
    await rejects(w.chain.submit(w.dpm, 'RecordReceipt', id.dpm2, ['job-1', receipt()]), 'DENIED', 'is not provider dpm-1');
    await rejects(
      w.chain.submit(w.dpm, 'RecordReceipt', { mspId: 'MetaverseAMSP', role: 'dpm', principal: 'dpm-1' }, ['job-1', receipt()]),
      'DENIED',
    );
  });

  it('F3: receipt steps in order, times consistent, inputs digest bound; one receipt only', async () => {
    await submit();
    await rejects(w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt()]), 'CONFLICT', 'expected ACCEPTED');
    await w.chain.submit(w.dpm, 'AcceptJob', id.dpm1, ['job-1']);
    await rejects(
      w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt({ inputsDigest: 'f'.repeat(64) })]),
      'CONFLICT',
      'inputsDigest',
    );
    await rejects(
      w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt({ endedAt: new Date(w.chain.now + 60_000).toISOString() })]),
      'INVALID',
      'after the transaction time',
    );
    await w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt()]);
    await rejects(w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt()]), 'CONFLICT', 'is COMPLETED');
  });

  it('failure is recorded by the provider; jobs are read by parties and auditors and listed per provider', async () => {
    await submit();
    await submit({ jobId: 'job-2' });
    const failed = await w.chain.submit<DpmJob>(w.dpm, 'FailJob', id.dpm1, ['job-2', 'input could not be decrypted']);
    assert.equal(failed.status, 'FAILED');
    await w.chain.evaluate(w.dpm, 'GetJob', id.dpm1, ['job-1']);
    await w.chain.evaluate(w.dpm, 'GetJob', id.auditor, ['job-1']);
    await rejects(w.chain.evaluate(w.dpm, 'GetJob', id.bUser, ['job-1']), 'DENIED');
    const page = await w.chain.evaluate<DpmJobPage>(w.dpm, 'ListJobsByProvider', id.dpm1, ['dpm-1', '10', '']);
    assert.deepEqual(
      page.items.map((j) => j.jobId),
      ['job-1', 'job-2'],
    );
  });

  it("R6: a provider's open jobs are indexed apart: completed and failed ones leave the index its worker polls", async () => {
    for (const jobId of ['job-1', 'job-2', 'job-3']) await submit({ jobId });
    const open = async () =>
      (await w.chain.evaluate<DpmJobPage>(w.dpm, 'ListOpenJobsByProvider', id.dpm1, ['dpm-1', '10', ''])).items.map((j) => j.jobId);
    assert.deepEqual(await open(), ['job-1', 'job-2', 'job-3']);
    await w.chain.submit(w.dpm, 'AcceptJob', id.dpm1, ['job-1']);
    assert.deepEqual(await open(), ['job-1', 'job-2', 'job-3'], 'accepted is still open');
    await w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt()]);
    await w.chain.submit(w.dpm, 'FailJob', id.dpm1, ['job-3', 'bad input']);
    assert.deepEqual(await open(), ['job-2']);
    const all = await w.chain.evaluate<DpmJobPage>(w.dpm, 'ListJobsByProvider', id.dpm1, ['dpm-1', '10', '']);
    assert.equal(all.items.length, 3, 'the full list keeps every job');
    await rejects(w.chain.evaluate(w.dpm, 'ListOpenJobsByProvider', id.bUser, ['dpm-1', '10', '']), 'DENIED');
  });
});
