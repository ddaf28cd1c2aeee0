/**
 * Trust rule 5 on the real network, played by legitimate members with raw fabric-gateway clients
 * (no project gateway): a MetaverseB creator without any `process` right sends MetaverseA's
 * RESTRICTED data to a DPM provider; MetaverseB tries again with the owner's process grant (still
 * A's data); a MetaverseA admin issues itself a process grant on its own avatar. The chaincode
 * refuses each (DENIED, with the reason) and nothing is written: no job, no "sent-to-dpm" activity.
 * With the owner's grant to one principal the job runs, and only that principal (besides the
 * provider and auditors) reads the job and its receipt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  evaluate,
  IOT,
  isoIn,
  mapAvatar,
  MVA,
  MVB,
  ok,
  processGrantInput,
  refused,
  sha256,
  submit,
  type Actor,
  type World,
} from './support/domain.js';

interface Page {
  items: { action: string }[];
  bookmark: string;
}
interface Job {
  jobId: string;
  status: string;
  createdAt: string;
  outputReaders: { type: string; id: string; mspId?: string }[];
  receipt?: { outputSha256: string };
}

describe('trust rule 5 on the real network: a DPM job needs a right to have its inputs processed (X4, A1, A2)', () => {
  let w: World;
  let auditor: Actor;
  let bCreator: Actor;
  let aCreator: Actor;
  let avB: string;
  let dataId: string;

  before(async () => {
    w = await buildWorld('t5');
    [auditor, bCreator, aCreator] = await Promise.all([actor(IOT, 'auditor'), actor(MVB, 'creator'), actor(MVA, 'creator')]);
    avB = `avb-${w.run}`;
    await mapAvatar(w.mvbAdmin, w.alice, { avatarId: avB, thingId: w.thingId, metaverseId: w.mvbId, mode: 'ACTIVE', capabilityLevel: 3 });
    // MetaverseA's RESTRICTED data: the owner's reading kept by A's avatar
    dataId = `d-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [
      JSON.stringify({ ...anchorInput(w, dataId), avatarId: w.avatarId, classification: 'RESTRICTED' }),
    ]);
  });
  after(() => {
    w?.close();
    for (const a of [auditor, bCreator, aCreator]) a?.conn.close();
  });

  const job = (jobId: string, metaverseId: string) =>
    JSON.stringify({
      jobId,
      metaverseId,
      providerId: w.dpmId,
      inputs: [dataId],
      purpose: 'analytics',
      envelopeSha256: sha256(`envelope ${jobId}`),
    });
  const dataActivity = () => evaluate<Page>(auditor.cc('audit'), 'QueryActivityBySubject', ['data', dataId, '200', '']);

  /** SubmitJob by `who` is refused with `pattern`; no job exists and the data has no new activity. */
  async function submitRefused(who: Actor, jobId: string, metaverseId: string, pattern: RegExp): Promise<void> {
    const before = await dataActivity();
    const reason = await refused(() => submit(who.cc('dpm'), 'SubmitJob', [job(jobId, metaverseId)]));
    assert.match(reason, pattern);
    const missing = await refused(() => evaluate(auditor.cc('dpm'), 'GetJob', [jobId]));
    assert.match(missing, /NOT_FOUND: job .* does not exist/, 'no job was recorded');
    assert.deepEqual(await dataActivity(), before, 'no sent-to-dpm activity');
  }

  it("X4/A1: a MetaverseB creator with no process right cannot send MetaverseA's RESTRICTED data to the DPM provider", async () => {
    await submitRefused(
      bCreator,
      `job-b-${w.run}`,
      w.mvbId,
      new RegExp(
        `DENIED: input ${dataId} is held by avatar ${w.avatarId} of ${w.mvaId} \\(${MVA}\\); ${MVB} cannot send another organisation's data for processing`,
      ),
    );
  });

  it("X4: even with the owner's process grant, one metaverse cannot send another metaverse's data for processing", async () => {
    await ok(w.alice.cc('access'), 'CreateGrant', [JSON.stringify(processGrantInput(w, `gp-b-${w.run}`, { type: 'MSP', id: MVB }))]);
    await submitRefused(bCreator, `job-b2-${w.run}`, w.mvbId, new RegExp(`DENIED: input ${dataId} is held by avatar ${w.avatarId}`));
  });

  it('X4/A1: a MetaverseA creator without a process right is refused, naming the missing right', async () => {
    await submitRefused(
      aCreator,
      `job-a0-${w.run}`,
      w.mvaId,
      new RegExp(
        `DENIED: input ${dataId}: ${aCreator.principal}@${MVA} \\(role creator\\) has no right to have it processed: no 'process' grant from thing ${w.thingId}'s owner for purpose 'analytics'`,
      ),
    );
  });

  it('X4/A2: a process grant MetaverseA issued itself on its own avatar is no right: it must come from the thing’s owner', async () => {
    await ok(w.mvaAdmin.cc('access'), 'CreateGrant', [
      JSON.stringify({
        grantId: `g-self-${w.run}`,
        resourceType: 'AVATAR',
        resourceId: w.avatarId,
        grantee: { type: 'MSP', id: MVA },
        actions: ['process'],
        purpose: '*',
        validUntil: isoIn(3600_000),
      }),
    ]);
    await submitRefused(
      aCreator,
      `job-self-${w.run}`,
      w.mvaId,
      new RegExp(`grant g-self-${w.run} was issued by ${w.mvaAdmin.principal}@${MVA}, who does not control thing ${w.thingId}`),
    );
  });

  it("X4/A1: with the owner's process grant to one MetaverseA principal the job runs; only that principal, the provider and auditors read the job and its receipt", async () => {
    await ok(w.alice.cc('access'), 'CreateGrant', [
      JSON.stringify(processGrantInput(w, `gp-a-${w.run}`, { type: 'PRINCIPAL', id: aCreator.principal, mspId: MVA })),
    ]);
    const jobId = `job-a-${w.run}`;
    const { value } = await ok<Job>(aCreator.cc('dpm'), 'SubmitJob', [job(jobId, w.mvaId)]);
    assert.deepEqual(value.outputReaders, [{ type: 'PRINCIPAL', id: aCreator.principal, mspId: MVA }]);
    await ok(w.provider.cc('dpm'), 'AcceptJob', [jobId]);
    await ok(w.provider.cc('dpm'), 'RecordReceipt', [
      jobId,
      JSON.stringify({ outputSha256: sha256(`output ${jobId}`), startedAt: value.createdAt, endedAt: isoIn(-1), summary: 'gait analysis' }),
    ]);
    for (const reader of [aCreator, w.provider, auditor]) {
      const j = await evaluate<Job>(reader.cc('dpm'), 'GetJob', [jobId]);
      assert.equal(j.receipt?.outputSha256, sha256(`output ${jobId}`));
    }
    for (const other of [w.mvaAdmin, w.mvbAdmin, bCreator]) {
      const reason = await refused(() => evaluate(other.cc('dpm'), 'GetJob', [jobId]));
      assert.match(
        reason,
        new RegExp(
          `DENIED: job ${jobId} and its output reach only whom its process rights name \\(principal ${aCreator.principal}@${MVA}\\); caller is ${other.principal}@${other.mspId}`,
        ),
      );
    }
  });
});
