/**
 * Trust rule 4 on the real network, with raw fabric-gateway clients (no project gateway): a
 * transfer consented while every party was ACTIVE is executed after the source avatar, a platform
 * or the federation stopped being ACTIVE; a grant is used after the avatar's metaverse was
 * suspended; a DPM provider starts a job after the requesting metaverse was suspended. The
 * chaincode re-checks at that moment and refuses (DENIED, with the party named); the transfer,
 * the data and the job read back as before and no activity was added.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  DAY,
  evaluate,
  IOT,
  isoIn,
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
interface Transfer {
  status: string;
  steps: { status: string }[];
}

describe('trust rule 4 on the real network: execution, grant use and DPM start re-check every party (X3, X4, X6)', () => {
  let w: World;
  let auditor: Actor;
  let carol: Actor;
  let dataId: string;
  let dataSha: string;
  const both = { endorsingOrganizations: [MVA, MVB] };

  before(async () => {
    w = await buildWorld('t4');
    [auditor, carol] = await Promise.all([actor(IOT, 'auditor'), actor(IOT, 'creator')]);
    dataId = `d-${w.run}`;
    const input = { ...anchorInput(w, dataId), avatarId: w.avatarId };
    dataSha = input.sha256;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(input)]);
  });
  after(() => {
    w?.close();
    auditor?.conn.close();
    carol?.conn.close();
  });

  const activity = (type: string, id: string) =>
    evaluate<Page>(auditor.cc('audit'), 'QueryActivityBySubject', [type, id, '200', '']).then((p) => p.items.length);
  const readTransfer = (id: string) => evaluate<Transfer>(w.mvbAdmin.cc('transfer'), 'GetTransfer', [id]);
  // as the auditor: the owner's own read is refused while the avatar is suspended
  const readData = () => evaluate<Record<string, unknown>>(auditor.cc('data'), 'GetData', [dataId]);

  async function consented(transferId: string): Promise<void> {
    await ok(w.mvaAdmin.cc('transfer'), 'RequestTransfer', [
      JSON.stringify({
        transferId,
        kind: 'SHARE',
        sourceAvatarId: w.avatarId,
        targetMetaverseId: w.mvbId,
        dataId,
        dataSha256: dataSha,
        purpose: 'gameplay',
        expiresAt: isoIn(DAY),
      }),
    ]);
    await ok(w.mvaAdmin.cc('transfer'), 'ApproveTransferAsSource', [transferId], both);
    await ok(w.mvbAdmin.cc('transfer'), 'ApproveTransferAsTarget', [transferId], both);
    await ok(w.alice.cc('transfer'), 'ConsentTransfer', [transferId]);
  }

  /** ExecuteTransfer is refused with `pattern`; transfer, data and both activity trails are as before. */
  async function executionRefused(transferId: string, pattern: RegExp): Promise<void> {
    const before = [
      await readTransfer(transferId),
      await readData(),
      await activity('transfer', transferId),
      await activity('data', dataId),
    ];
    const reason = await refused(() => submit(w.mvbAdmin.cc('transfer'), 'ExecuteTransfer', [transferId, dataSha], both));
    assert.match(reason, pattern);
    const now = [await readTransfer(transferId), await readData(), await activity('transfer', transferId), await activity('data', dataId)];
    assert.deepEqual(now, before, 'the refused execution changed nothing');
    assert.equal((now[0] as Transfer).status, 'CONSENTED');
  }

  it('X3/X6: a transfer consented while all was ACTIVE is not executed once its source avatar or the target platform is suspended; once resumed it executes', async () => {
    const transferId = `tr-s-${w.run}`;
    await consented(transferId);

    await ok(w.mvaAdmin.cc('avatar'), 'SuspendAvatar', [w.avatarId, 'compromised']);
    await executionRefused(
      transferId,
      new RegExp(`DENIED: transfer ${transferId} cannot execute now: avatar ${w.avatarId} is SUSPENDED \\(compromised\\)`),
    );
    await ok(w.mvaAdmin.cc('avatar'), 'ResumeAvatar', [w.avatarId]);

    await ok(w.mvbAdmin.cc('platform'), 'SuspendPlatform', [w.mvbId, 'incident']);
    await executionRefused(
      transferId,
      new RegExp(`DENIED: transfer ${transferId} cannot execute now: platform ${w.mvbId} is SUSPENDED \\(incident\\)`),
    );
    await ok(w.mvbAdmin.cc('platform'), 'ResumePlatform', [w.mvbId]);

    const exec = await ok<Transfer>(w.mvbAdmin.cc('transfer'), 'ExecuteTransfer', [transferId, dataSha], both);
    assert.equal(exec.value.status, 'EXECUTED');
  });

  it('A1/X6: a share grant is not usable while the avatar’s metaverse is suspended (CheckAccess and the write agree); the data is unchanged', async () => {
    await ok(w.alice.cc('access'), 'CreateGrant', [
      JSON.stringify({
        grantId: `g-share-${w.run}`,
        resourceType: 'DATA',
        resourceId: dataId,
        grantee: { type: 'PRINCIPAL', id: carol.principal, mspId: IOT },
        actions: ['share'],
        purpose: 'gameplay',
        validUntil: isoIn(DAY),
      }),
    ]);
    await ok(w.mvaAdmin.cc('platform'), 'SuspendPlatform', [w.mvaId, 'incident']);
    try {
      const expected = `grant g-share-${w.run} cannot be used now: platform ${w.mvaId} is SUSPENDED (incident)`;
      const check = await evaluate<{ allowed: boolean; reason: string }>(carol.cc('access'), 'CheckAccess', [
        'DATA',
        dataId,
        'share',
        'gameplay',
      ]);
      assert.deepEqual(check, { allowed: false, reason: expected });
      const before = [await readData(), await activity('data', dataId)];
      const reason = await refused(() => submit(carol.cc('data'), 'RecordLifecycle', [dataId, 'SHARED', 'gameplay', 'to a friend']));
      assert.ok(reason.includes(`DENIED: ${expected}`), reason);
      assert.deepEqual([await readData(), await activity('data', dataId)], before);
    } finally {
      await ok(w.mvaAdmin.cc('platform'), 'ResumePlatform', [w.mvaId]);
    }
    const check = await evaluate<{ allowed: boolean }>(carol.cc('access'), 'CheckAccess', ['DATA', dataId, 'share', 'gameplay']);
    assert.equal(check.allowed, true);
  });

  it('X4/X6: a DPM job submitted while all was ACTIVE is not started by the provider once the requesting metaverse is suspended; once resumed it is', async () => {
    await ok(w.alice.cc('access'), 'CreateGrant', [JSON.stringify(processGrantInput(w, `gp-${w.run}`))]);
    const jobId = `job-${w.run}`;
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
    await ok(w.mvaAdmin.cc('platform'), 'SuspendPlatform', [w.mvaId, 'incident']);
    const readJob = () => evaluate<{ status: string }>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    const before = [await readJob(), await activity('job', jobId)];
    const reason = await refused(() => submit(w.provider.cc('dpm'), 'AcceptJob', [jobId]));
    assert.match(reason, new RegExp(`DENIED: job ${jobId} cannot start now: platform ${w.mvaId} is SUSPENDED \\(incident\\)`));
    assert.deepEqual([await readJob(), await activity('job', jobId)], before);
    assert.equal((before[0] as { status: string }).status, 'SUBMITTED');
    await ok(w.mvaAdmin.cc('platform'), 'ResumePlatform', [w.mvaId]);
    await ok(w.provider.cc('dpm'), 'AcceptJob', [jobId]);
    assert.equal((await readJob()).status, 'ACCEPTED');
  });

  it('X3: a transfer consented before the federation was revoked is never executed; it stays CONSENTED and the data unshared', async () => {
    const transferId = `tr-f-${w.run}`;
    await consented(transferId);
    await ok(w.mvbAdmin.cc('platform'), 'RevokeFederation', [w.mvbId, w.mvaId, 'ended'], both);
    await executionRefused(transferId, new RegExp(`DENIED: transfer ${transferId} cannot execute now: federation .* is REVOKED`));
  });
});
