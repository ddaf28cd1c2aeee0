/**
 * Trust rules 3–5 against the in-memory stub: each refusal leaves the ledger byte for byte as it
 * was (no state, no block, no event), and each rule has its positive path.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { AccessDecision } from '../../src/access/grant-types';
import type { DataAnchor } from '../../src/data/data-types';
import type { DpmJob } from '../../src/dpm/dpm-types';
import type { Transfer } from '../../src/transfer/transfer-types';
import { id, rejects, SHA_A, SHA_B, World } from '../support/fixtures';

const HOUR = 3600 * 1000;
const ENVELOPE = 'e'.repeat(64);

function snapshot(w: World) {
  const state = w.chain.ledger.sortedKeys().map((k) => [k, Buffer.from(w.chain.ledger.state.get(k)!).toString('base64')]);
  return { blocks: w.chain.ledger.blocks.length, events: w.chain.ledger.events.length, state };
}

/** `p` is refused with `code` and `text`, and nothing at all reached the ledger. */
async function refusedUnchanged(w: World, p: () => Promise<unknown>, code: string, text: string | RegExp): Promise<void> {
  const before = snapshot(w);
  await rejects(p(), code, text);
  assert.deepEqual(snapshot(w), before, 'the refused transaction changed the ledger');
}

const grant = (w: World, grantId: string, resourceType: string, resourceId: string, grantee: object, actions: string[], purpose = '*') => ({
  grantId,
  resourceType,
  resourceId,
  grantee,
  actions,
  purpose,
  validUntil: new Date(w.chain.now + 24 * HOUR).toISOString(),
});

async function world(): Promise<World> {
  const w = new World();
  await w.platforms();
  await w.federate();
  await w.watch();
  await w.avatars();
  return w;
}

describe('trust rule 3: a transfer’s source is the data’s holder; the target is cleared for its classification', () => {
  let w: World;
  const request = (who: (typeof id)[keyof typeof id], overrides: Record<string, unknown> = {}) =>
    w.chain.submit<Transfer>(w.transfer, 'RequestTransfer', who, [
      {
        transferId: 'tr-1',
        kind: 'SHARE',
        sourceAvatarId: 'av-a1',
        targetMetaverseId: 'mv-b',
        dataId: 'd-a',
        dataSha256: SHA_A,
        purpose: 'gameplay',
        expiresAt: new Date(w.chain.now + 2 * HOUR).toISOString(),
        ...overrides,
      },
    ]);

  beforeEach(async () => {
    w = await world();
    // a low-level metaverse of a third organisation (one metaverse per MSP, rule 6), federated with mv-b, allowed by the owner
    await w.chain.submit(w.platform, 'RegisterPlatform', id.iotAdmin, [
      { platformId: 'mv-b2', type: 'METAVERSE', name: 'Game C', capabilityLevel: 1 },
    ]);
    await w.chain.submit(w.platform, 'ProposeFederation', id.iotAdmin, ['mv-b2', 'mv-b', 'partners']);
    await w.chain.submit(w.platform, 'AcceptFederation', id.bAdmin, ['mv-b', 'mv-b2']);
    await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, [
      'watch-1',
      {
        storage: 'ANY',
        allowedMetaverses: ['mv-a', 'mv-b', 'mv-b2'],
        allowedDpmProviders: ['dpm-1'],
        purposes: ['analytics', 'gameplay'],
        retentionDays: 30,
        encryptionRequired: true,
      },
    ]);
    await w.anchor('d-a', SHA_A, { avatarId: 'av-a1' });
  });

  it('X3/A1: MetaverseB naming its own avatar as the source of data held by avatar av-a1 of mv-a is DENIED; nothing is written', async () => {
    await refusedUnchanged(
      w,
      () => request(id.bAdmin, { sourceAvatarId: 'av-b1', targetMetaverseId: 'mv-a' }),
      'DENIED',
      "data d-a is held by avatar av-a1 of mv-a (MetaverseAMSP); a transfer's source must be its holder, not avatar av-b1 of mv-b (MetaverseBMSP)",
    );
  });

  it('X3/X2: a target metaverse below the data’s classification is refused (CONFLICT) before authorization, even to the holder', async () => {
    await w.anchor('d-r', SHA_B, { avatarId: 'av-a1', classification: 'RESTRICTED' });
    await refusedUnchanged(
      w,
      () => request(id.aAdmin, { dataId: 'd-r', dataSha256: SHA_B }),
      'CONFLICT',
      'target metaverse mv-b has capability level 2; data d-r is RESTRICTED (needs 3)',
    );
    // the same to a low-level metaverse, by MetaverseB, with its own avatar: refused before any rule about B
    await refusedUnchanged(
      w,
      () => request(id.bAdmin, { dataId: 'd-r', dataSha256: SHA_B, sourceAvatarId: 'av-b1', targetMetaverseId: 'mv-b2' }),
      'CONFLICT',
      'target metaverse mv-b2 has capability level 1; data d-r is RESTRICTED (needs 3)',
    );
  });

  it('X3/X2: a named target avatar below the data’s classification is refused (CONFLICT)', async () => {
    await w.chain.submit(w.avatar, 'MapAvatar', id.bAdmin, [
      { avatarId: 'av-b2', thingId: 'watch-1', metaverseId: 'mv-b', mode: 'PASSIVE', capabilityLevel: 1 },
    ]);
    await refusedUnchanged(
      w,
      () => request(id.aAdmin, { targetAvatarId: 'av-b2' }),
      'CONFLICT',
      'target avatar av-b2 has capability level 1; data d-a is CONFIDENTIAL (needs 2)',
    );
    const t = await request(id.aAdmin, { targetAvatarId: 'av-b1' });
    assert.equal(t.status, 'REQUESTED');
  });

  it("X3: thing-level data anchored by the owner's organisation has no metaverse holder: no avatar may be named its source", async () => {
    await w.anchor('d-t', SHA_B);
    await refusedUnchanged(
      w,
      () => request(id.aAdmin, { dataId: 'd-t', dataSha256: SHA_B }),
      'DENIED',
      "data d-t is held by IoTPlatformMSP (the owner's organisation); a transfer's source must be its holder, not avatar av-a1 of mv-a (MetaverseAMSP)",
    );
  });

  it('X3: thing-level data anchored by MetaverseA (with a write grant) is held by A: A’s avatar is a source, B’s is not', async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      grant(w, 'g-w', 'THING', 'watch-1', { type: 'PRINCIPAL', id: 'a-admin', mspId: 'MetaverseAMSP' }, ['write']),
    ]);
    await w.anchor('d-t', SHA_B, {}, id.aAdmin);
    await refusedUnchanged(
      w,
      () => request(id.bAdmin, { dataId: 'd-t', dataSha256: SHA_B, sourceAvatarId: 'av-b1', targetMetaverseId: 'mv-a' }),
      'DENIED',
      "is held by IoTPlatformMSP (the owner's organisation) and MetaverseAMSP (which anchored it)",
    );
    const t = await request(id.aAdmin, { dataId: 'd-t', dataSha256: SHA_B });
    assert.equal(t.sourceMspId, 'MetaverseAMSP');
  });

  it('X3: the holder’s request goes through; the approving source platform is the holder’s', async () => {
    const t = await request(id.aAgent);
    assert.equal(t.status, 'REQUESTED');
    assert.equal(t.sourceMspId, 'MetaverseAMSP');
    await rejects(w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.bAdmin, ['tr-1']), 'DENIED', 'needs an admin of MetaverseAMSP');
    await w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']);
  });
});

describe('trust rule 4: execution, grant use and DPM acceptance re-check that every party is ACTIVE', () => {
  let w: World;
  const consented = async (targetAvatarId?: string) => {
    await w.chain.submit(w.transfer, 'RequestTransfer', id.aAgent, [
      {
        transferId: 'tr-1',
        kind: 'MOVE',
        sourceAvatarId: 'av-a1',
        targetMetaverseId: 'mv-b',
        ...(targetAvatarId ? { targetAvatarId } : {}),
        dataId: 'd-1',
        dataSha256: SHA_A,
        purpose: 'gameplay',
        expiresAt: new Date(w.chain.now + 2 * HOUR).toISOString(),
      },
    ]);
    await w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']);
    await w.chain.submit(w.transfer, 'ApproveTransferAsTarget', id.bAdmin, ['tr-1']);
    await w.chain.submit(w.transfer, 'ConsentTransfer', id.alice, ['tr-1']);
  };
  const execute = () => w.chain.submit<Transfer>(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]);

  beforeEach(async () => {
    w = await world();
    await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' });
  });

  it('X3/X6: a suspended source or target avatar, or a suspended platform on either side, stops execution; once ACTIVE again it executes', async () => {
    await consented('av-b1');
    const cases: [string, string[], string, string[], string][] = [
      ['SuspendAvatar', ['av-a1', 'lost'], 'avatar av-a1 is SUSPENDED (lost)', ['ResumeAvatar', 'av-a1'], 'a'],
      ['SuspendAvatar', ['av-b1', 'audit'], 'avatar av-b1 is SUSPENDED (audit)', ['ResumeAvatar', 'av-b1'], 'b'],
      ['SuspendPlatform', ['mv-a', 'incident'], 'platform mv-a is SUSPENDED (incident)', ['ResumePlatform', 'mv-a'], 'a'],
      ['SuspendPlatform', ['mv-b', 'incident'], 'platform mv-b is SUSPENDED (incident)', ['ResumePlatform', 'mv-b'], 'b'],
    ];
    for (const [suspend, args, reason, [resume, subject], side] of cases) {
      const admin = side === 'a' ? id.aAdmin : id.bAdmin;
      const contract = suspend === 'SuspendAvatar' ? w.avatar : w.platform;
      await w.chain.submit(contract, suspend, admin, args);
      await refusedUnchanged(w, execute, 'DENIED', `transfer tr-1 cannot execute now: ${reason}`);
      await w.chain.submit(contract, resume, admin, [subject]);
    }
    const t = await execute();
    assert.equal(t.status, 'EXECUTED');
  });

  it('X3: a federation revoked after consent stops execution; the transfer stays CONSENTED and the data unshared', async () => {
    await consented();
    await w.chain.submit(w.platform, 'RevokeFederation', id.aAdmin, ['mv-a', 'mv-b', 'ended']);
    await refusedUnchanged(w, execute, 'DENIED', /transfer tr-1 cannot execute now: federation .* is REVOKED/);
    const t = await w.chain.evaluate<Transfer>(w.transfer, 'GetTransfer', id.aAdmin, ['tr-1']);
    assert.equal(t.status, 'CONSENTED');
    const d = await w.chain.evaluate<DataAnchor>(w.data, 'GetData', id.alice, ['d-1']);
    assert.equal(d.stage, 'COLLECTED');
  });

  it('A1/X6: a share grant is used only while the thing’s platform and the avatar’s metaverse are ACTIVE (write and CheckAccess agree)', async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      grant(w, 'g-share', 'DATA', 'd-1', { type: 'PRINCIPAL', id: 'carol', mspId: 'IoTPlatformMSP' }, ['share']),
    ]);
    const check = () => w.chain.evaluate<AccessDecision>(w.access, 'CheckAccess', id.carol, ['DATA', 'd-1', 'share', 'gameplay']);
    assert.equal((await check()).allowed, true);
    await w.chain.submit(w.platform, 'SuspendPlatform', id.aAdmin, ['mv-a', 'incident']);
    const share = () => w.chain.submit(w.data, 'RecordLifecycle', id.carol, ['d-1', 'SHARED', 'gameplay', 'to a friend']);
    await refusedUnchanged(w, share, 'DENIED', 'grant g-share cannot be used now: platform mv-a is SUSPENDED (incident)');
    assert.deepEqual(await check(), { allowed: false, reason: 'grant g-share cannot be used now: platform mv-a is SUSPENDED (incident)' });
    await w.chain.submit(w.platform, 'ResumePlatform', id.aAdmin, ['mv-a']);
    await w.chain.submit(w.platform, 'SuspendPlatform', id.iotAdmin, ['iot-1', 'maintenance']);
    await refusedUnchanged(w, share, 'DENIED', 'platform iot-1 is SUSPENDED (maintenance)');
    await w.chain.submit(w.platform, 'ResumePlatform', id.iotAdmin, ['iot-1']);
    const d = await w.chain.submit<DataAnchor>(w.data, 'RecordLifecycle', id.carol, ['d-1', 'SHARED', 'gameplay', 'to a friend']);
    assert.equal(d.stage, 'SHARED');
  });

  describe('DPM acceptance', () => {
    beforeEach(async () => {
      await w.chain.submit(w.access, 'CreateGrant', id.alice, [
        grant(w, 'g-proc', 'THING', 'watch-1', { type: 'MSP', id: 'MetaverseAMSP' }, ['process'], 'analytics'),
      ]);
      await w.chain.submit(w.dpm, 'SubmitJob', id.aAdmin, [
        { jobId: 'job-1', metaverseId: 'mv-a', providerId: 'dpm-1', inputs: ['d-1'], purpose: 'analytics', envelopeSha256: ENVELOPE },
      ]);
    });
    const accept = () => w.chain.submit<DpmJob>(w.dpm, 'AcceptJob', id.dpm1, ['job-1']);

    it('X4/X6: the provider cannot start a job once the avatar, the thing, the metaverse or the provider is suspended; then it can', async () => {
      const cases: [typeof w.avatar | typeof w.platform | typeof w.thing, string, (typeof id)[keyof typeof id], string, string, string][] =
        [
          [w.avatar, 'av-a1', id.aAdmin, 'SuspendAvatar', 'ResumeAvatar', 'avatar av-a1 is SUSPENDED (x)'],
          [w.thing, 'watch-1', id.iotAdmin, 'SuspendThing', 'ResumeThing', 'thing watch-1 is SUSPENDED (x)'],
          [w.platform, 'mv-a', id.aAdmin, 'SuspendPlatform', 'ResumePlatform', 'platform mv-a is SUSPENDED (x)'],
          [w.platform, 'dpm-1', id.dpmAdmin, 'SuspendPlatform', 'ResumePlatform', 'platform dpm-1 is SUSPENDED (x)'],
        ];
      for (const [contract, subject, admin, suspend, resume, reason] of cases) {
        await w.chain.submit(contract, suspend, admin, [subject, 'x']);
        await refusedUnchanged(w, accept, 'DENIED', `job job-1 cannot start now: ${reason}`);
        await w.chain.submit(contract, resume, admin, [subject]);
      }
      assert.equal((await accept()).status, 'ACCEPTED');
    });

    it('X4/A1: a process grant revoked after submission stops the job from starting', async () => {
      await w.chain.submit(w.access, 'RevokeGrant', id.alice, ['g-proc', 'changed my mind']);
      await refusedUnchanged(
        w,
        accept,
        'DENIED',
        /job job-1 cannot start now: input d-1: a-admin@MetaverseAMSP .* has no right to have it processed: .*grant g-proc is REVOKED/,
      );
    });
  });
});

describe('trust rule 5: a DPM job needs a right to have each input processed; its output reaches only whom the right names', () => {
  let w: World;
  const submit = (who: (typeof id)[keyof typeof id], overrides: Record<string, unknown> = {}) =>
    w.chain.submit<DpmJob>(w.dpm, 'SubmitJob', who, [
      {
        jobId: 'job-1',
        metaverseId: 'mv-a',
        providerId: 'dpm-1',
        inputs: ['d-r'],
        purpose: 'analytics',
        envelopeSha256: ENVELOPE,
        ...overrides,
      },
    ]);

  beforeEach(async () => {
    w = await world();
    await w.anchor('d-r', SHA_A, { avatarId: 'av-a1', classification: 'RESTRICTED' });
  });

  it('X4/A1: without a process right a metaverse member is refused (DENIED); nothing is written', async () => {
    await refusedUnchanged(
      w,
      () => submit(id.aCreator),
      'DENIED',
      "input d-r: a-creator@MetaverseAMSP (role creator) has no right to have it processed: no 'process' grant from thing watch-1's owner for purpose 'analytics'",
    );
  });

  it("X4: MetaverseB cannot send MetaverseA's data for processing, even with the owner's process grant", async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      grant(w, 'g-b', 'THING', 'watch-1', { type: 'MSP', id: 'MetaverseBMSP' }, ['process'], 'analytics'),
    ]);
    await refusedUnchanged(
      w,
      () => submit(id.bAdmin, { metaverseId: 'mv-b' }),
      'DENIED',
      "input d-r is held by avatar av-a1 of mv-a (MetaverseAMSP); MetaverseBMSP cannot send another organisation's data for processing",
    );
  });

  it('X4/A2: a process grant a metaverse issued on its own avatar is no right: the right comes from the thing’s owner', async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.aAdmin, [
      grant(w, 'g-self', 'AVATAR', 'av-a1', { type: 'MSP', id: 'MetaverseAMSP' }, ['process']),
    ]);
    await refusedUnchanged(
      w,
      () => submit(id.aCreator),
      'DENIED',
      'grant g-self was issued by a-admin@MetaverseAMSP, who does not control thing watch-1',
    );
  });

  it("X4/A1: with the owner's process grant to one principal the job runs; only that principal (and the provider, auditors) reads it", async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      grant(w, 'g-p', 'THING', 'watch-1', { type: 'PRINCIPAL', id: 'a-creator', mspId: 'MetaverseAMSP' }, ['process'], 'analytics'),
    ]);
    const job = await submit(id.aCreator);
    assert.deepEqual(job.outputReaders, [{ type: 'PRINCIPAL', id: 'a-creator', mspId: 'MetaverseAMSP' }]);
    await w.chain.submit(w.dpm, 'AcceptJob', id.dpm1, ['job-1']);
    await w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, [
      'job-1',
      { outputSha256: 'c'.repeat(64), startedAt: job.createdAt, endedAt: new Date(w.chain.now).toISOString(), summary: 'done' },
    ]);
    const read = (who: (typeof id)[keyof typeof id]) => w.chain.evaluate<DpmJob>(w.dpm, 'GetJob', who, ['job-1']);
    assert.equal((await read(id.aCreator)).status, 'COMPLETED');
    assert.equal((await read(id.dpm1)).status, 'COMPLETED');
    assert.equal((await read(id.auditor)).status, 'COMPLETED');
    for (const other of [id.aAdmin, id.bAdmin, id.alice]) {
      await rejects(
        read(other),
        'DENIED',
        `job job-1 and its output reach only whom its process rights name (principal a-creator@MetaverseAMSP); caller is ${other.principal}@${other.mspId}`,
      );
    }
  });

  it('X4: thing-level data the owner holds is processed by the metaverse the owner granted (U1 smartwatch); the grant names the readers', async () => {
    await w.anchor('d-t', SHA_B);
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      grant(w, 'g-a', 'THING', 'watch-1', { type: 'MSP', id: 'MetaverseAMSP' }, ['process', 'read'], 'analytics'),
    ]);
    const job = await submit(id.aAdmin, { inputs: ['d-t', 'd-r'] });
    assert.deepEqual(job.outputReaders, [{ type: 'MSP', id: 'MetaverseAMSP' }]);
    assert.equal((await w.chain.evaluate<DpmJob>(w.dpm, 'GetJob', id.aAgent, ['job-1'])).jobId, 'job-1');
    await rejects(
      w.chain.evaluate(w.dpm, 'GetJob', id.bAdmin, ['job-1']),
      'DENIED',
      'reach only whom its process rights name (MSP MetaverseAMSP)',
    );
  });
});
