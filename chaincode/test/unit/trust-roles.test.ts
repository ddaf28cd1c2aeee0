/**
 * Trust rule 1: roles are bound to organisations. A role attribute is only as good as the CA that
 * issued it: the ledger (settings~roles, defaults in common/config.ts) says which organisations
 * may issue which roles, and a majority of the peer organisations' admins changes it.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { authorize } from '../../src/auth/authorize';
import { type Caller, callerOf } from '../../src/auth/identity';
import { keys } from '../../src/common/keys';
import type { RoleIssuers, RoleIssuersProposal } from '../../src/governance/governance-types';
import type { Thing } from '../../src/thing/thing-types';
import type { Transfer } from '../../src/transfer/transfer-types';
import { id, rejects, SHA_A, World } from '../support/fixtures';
import { MemoryStub } from '../support/memory-ledger';

const HOUR = 3600 * 1000;
const dpmMonitor = { mspId: 'DPMProviderMSP', role: 'monitor', principal: 'dpm-monitor' };
const dpmAuditor = { mspId: 'DPMProviderMSP', role: 'auditor', principal: 'dpm-auditor' };
const iotAdmin2 = { mspId: 'IoTPlatformMSP', role: 'admin', principal: 'iot-admin-2' };
const MONITOR_REFUSAL =
  'DENIED: role monitor from DPMProviderMSP is not recognised: only IoTPlatformMSP, MetaverseAMSP, MetaverseBMSP may issue monitor (ledger setting role issuers, defaults)';

describe('trust rule 1: roles are bound to organisations', () => {
  let w: World;
  const snapshot = () => JSON.stringify([...w.chain.ledger.state.entries()]);
  const thingStatus = async () => (await w.chain.evaluate<Thing>(w.thing, 'GetThing', id.alice, ['watch-1'])).status;
  const issuers = () => w.chain.evaluate<RoleIssuers>(w.governance, 'GetRoleIssuers', id.alice);
  const alert = (alertId: string, suspend = true) => ({
    alertId,
    severity: 'CRITICAL',
    rule: 'r',
    subjectType: 'THING',
    subjectId: 'watch-1',
    description: 'd',
    suspend,
  });

  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
  });

  describe('defaults (no ledger record yet)', () => {
    it('GetRoleIssuers answers the defaults of common/config.ts: monitor/auditor from peer orgs, dpm from DPMProviderMSP, agents by platform kind', async () => {
      const s = await issuers();
      assert.equal(s.source, 'DEFAULT');
      assert.equal(s.version, 0);
      const by = Object.fromEntries(s.issuers.map((e) => [e.role, e.anyMember ? '*' : e.mspIds.join(',')]));
      assert.deepEqual(by, {
        admin: '*',
        auditor: 'IoTPlatformMSP,MetaverseAMSP,MetaverseBMSP',
        creator: '*',
        dpm: 'DPMProviderMSP',
        'entity-agent': '*',
        monitor: 'IoTPlatformMSP,MetaverseAMSP,MetaverseBMSP',
        'storage-agent': '*',
        'thing-agent': 'IoTPlatformMSP',
        'avatar-agent': 'MetaverseAMSP,MetaverseBMSP',
        user: '*',
      });
    });

    it('a DPM-CA monitor cannot suspend or resume a thing through alerts, nor read what a monitor reads; ledger unchanged', async () => {
      const before = snapshot();
      await assert.rejects(w.chain.submit(w.alert, 'RaiseAlert', dpmMonitor, [alert('al-x')]), { message: MONITOR_REFUSAL });
      assert.equal(await thingStatus(), 'ACTIVE');
      await w.chain.submit(w.alert, 'RaiseAlert', id.monitor, [alert('al-1')]);
      assert.equal(await thingStatus(), 'SUSPENDED');
      const suspended = snapshot();
      await rejects(
        w.chain.submit(w.alert, 'ResolveAlert', dpmMonitor, ['al-1', { resume: true }]),
        'DENIED',
        'role monitor from DPMProviderMSP is not recognised',
      );
      assert.equal(await thingStatus(), 'SUSPENDED');
      assert.equal(snapshot(), suspended);
      for (const [c, fn, args] of [
        [w.alert, 'GetAlert', ['al-1']],
        [w.alert, 'ListOpenAlerts', ['10', '']],
        [w.audit, 'QueryActivityBySubject', ['thing', 'watch-1', '10', '']],
        [w.audit, 'GetHistory', ['thing', 'watch-1']],
        [w.thing, 'GetThing', ['watch-1']],
      ] as const) {
        await rejects(w.chain.evaluate(c, fn, dpmMonitor, [...args]), 'DENIED', 'role monitor from DPMProviderMSP is not recognised');
      }
      assert.notEqual(before, suspended);
    });

    it('a designated monitor suspends through an alert and resumes by resolving it (the legitimate path)', async () => {
      await w.chain.submit(w.alert, 'RaiseAlert', id.monitor, [alert('al-1')]);
      assert.equal(await thingStatus(), 'SUSPENDED');
      await w.chain.submit(w.alert, 'ResolveAlert', id.monitor, ['al-1', { resolution: 'ok', resume: true }]);
      assert.equal(await thingStatus(), 'ACTIVE');
    });

    it("a DPM admin's auditor cannot query activity or history; an auditor of a peer organisation can", async () => {
      await w.anchor('d-r', SHA_A, { classification: 'RESTRICTED' });
      for (const [c, fn, args] of [
        [w.audit, 'QueryActivityBySubject', ['thing', 'watch-1', '10', '']],
        [w.audit, 'QueryActivityByTime', ['2025-03-01', '10', '']],
        [w.audit, 'GetHistory', ['thing', 'watch-1']],
        [w.data, 'GetData', ['d-r']],
      ] as const) {
        await rejects(w.chain.evaluate(c, fn, dpmAuditor, [...args]), 'DENIED', 'role auditor from DPMProviderMSP is not recognised');
        await w.chain.evaluate(c, fn, id.auditor, [...args]);
      }
    });

    it('dpm only from DPM organisations, agents only from their platform kind', async () => {
      await rejects(
        w.chain.evaluate(w.platform, 'GetPlatform', { mspId: 'MetaverseAMSP', role: 'dpm', principal: 'dpm-1' }, ['dpm-1']),
        'DENIED',
        'role dpm from MetaverseAMSP is not recognised: only DPMProviderMSP may issue dpm',
      );
      await rejects(
        w.chain.evaluate(w.platform, 'GetPlatform', { mspId: 'IoTPlatformMSP', role: 'avatar-agent', principal: 'x' }, ['mv-a']),
        'DENIED',
        'role avatar-agent from IoTPlatformMSP is not recognised: only MetaverseAMSP, MetaverseBMSP may issue avatar-agent',
      );
      await w.chain.evaluate(w.platform, 'GetPlatform', id.dpm1, ['dpm-1']);
      await w.chain.evaluate(w.platform, 'GetPlatform', id.dpmAdmin, ['dpm-1']); // admin: any member
    });

    it('fails closed: without the role issuers read in this transaction, no role is recognised', () => {
      const attrs: Record<string, string> = { role: 'admin', principal: 'p' };
      const ctx = {
        clientIdentity: { getAttributeValue: (k: string) => attrs[k] ?? null, getMSPID: () => 'IoTPlatformMSP', getID: () => 'x' },
      };
      const caller = callerOf(ctx as never);
      assert.equal(caller.role, null);
      assert.match(
        authorize(caller, 'registry.read').reason,
        /role admin from IoTPlatformMSP cannot be recognised: the role issuers were not read/,
      );
    });

    it('the role issuers are read once per transaction (cached on the context), whatever the number of checks', async () => {
      const key = keys.roleIssuers(new MemoryStub(w.chain.ledger, { txId: 't', timestampMs: 0, fcn: 'f', args: [], mspId: 'x' }));
      const original = MemoryStub.prototype.getState;
      let reads = 0;
      MemoryStub.prototype.getState = async function (this: MemoryStub, k: string) {
        if (k === key) reads += 1;
        return original.call(this, k);
      };
      try {
        await w.avatars(); // three mappings and the owner's three approvals
        assert.equal(reads, 6);
        reads = 0;
        await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' });
        assert.equal(reads, 1);
      } finally {
        MemoryStub.prototype.getState = original;
      }
    });
  });

  describe('administrative transactions check the organisation', () => {
    beforeEach(async () => {
      await w.avatars();
      await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' });
      await w.federate();
      await w.chain.submit(w.transfer, 'RequestTransfer', id.aAgent, [
        {
          transferId: 'tr-1',
          kind: 'SHARE',
          sourceAvatarId: 'av-a1',
          targetMetaverseId: 'mv-b',
          dataId: 'd-1',
          dataSha256: SHA_A,
          purpose: 'gameplay',
          expiresAt: new Date(w.chain.now + HOUR).toISOString(),
        },
      ]);
      w.chain.now += 2 * HOUR;
    });

    it("a DPM admin cannot expire another organisation's transfer; an admin of a party or a designated monitor can", async () => {
      const before = snapshot();
      await rejects(
        w.chain.submit(w.transfer, 'ExpireTransfer', id.dpmAdmin, ['tr-1']),
        'DENIED',
        'marking transfer tr-1 expired needs an admin of MetaverseAMSP, MetaverseBMSP, IoTPlatformMSP (its source, target or owner organisation) or a monitor of a designated organisation; caller is dpm-admin@DPMProviderMSP (role admin)',
      );
      await rejects(w.chain.submit(w.transfer, 'ExpireTransfer', dpmMonitor, ['tr-1']), 'DENIED', 'not recognised');
      assert.equal(snapshot(), before);
      const t = await w.chain.submit<Transfer>(w.transfer, 'ExpireTransfer', id.bAdmin, ['tr-1']);
      assert.equal(t.status, 'EXPIRED');
    });

    it("the owner organisation's admin and a designated monitor may expire (policy)", () => {
      const t = { transferId: 't', sourceMspId: 'MetaverseAMSP', targetMspId: 'MetaverseBMSP', ownerMspId: 'IoTPlatformMSP' } as Transfer;
      const c = (mspId: string, role: Caller['role']): Caller => ({ mspId, role, principal: 'p', id: '' });
      assert.equal(authorize(c('IoTPlatformMSP', 'admin'), 'transfer.expire', { transfer: t }).allowed, true);
      assert.equal(authorize(c('MetaverseAMSP', 'monitor'), 'transfer.expire', { transfer: t }).allowed, true);
      assert.equal(authorize(c('DPMProviderMSP', 'admin'), 'transfer.expire', { transfer: t }).allowed, false);
      assert.equal(authorize(c('MetaverseAMSP', 'user'), 'transfer.expire', { transfer: t }).allowed, false);
    });

    it("platforms are changed and suspended only by their own organisation's admins", async () => {
      await rejects(
        w.chain.submit(w.platform, 'SuspendPlatform', id.dpmAdmin, ['iot-1', 'x']),
        'DENIED',
        'platform iot-1 belongs to IoTPlatformMSP',
      );
      await rejects(
        w.chain.submit(w.platform, 'SuspendPlatform', id.aAdmin, ['mv-b', 'x']),
        'DENIED',
        'platform mv-b belongs to MetaverseBMSP',
      );
    });
  });

  describe('changing the role issuers needs a majority of the peer organisations', () => {
    const restrictMonitor = { proposalId: 'p-1', issuers: { monitor: ['IoTPlatformMSP'] }, reason: 'one monitoring org' };

    it('one approval is not enough; a second from the same MSP does not count; a second organisation applies it', async () => {
      const p = await w.chain.submit<RoleIssuersProposal>(w.governance, 'ProposeRoleIssuers', id.iotAdmin, [restrictMonitor]);
      assert.equal(p.status, 'OPEN');
      assert.deepEqual(
        p.approvals.map((a) => a.mspId),
        ['IoTPlatformMSP'],
      );
      assert.equal((await issuers()).version, 0);
      await w.chain.evaluate(w.alert, 'ListOpenAlerts', id.monitor, ['10', '']); // MetaverseAMSP monitor still recognised
      await rejects(
        w.chain.submit(w.governance, 'ApproveRoleIssuers', iotAdmin2, ['p-1']),
        'CONFLICT',
        'IoTPlatformMSP already approved proposal p-1',
      );
      await rejects(w.chain.submit(w.governance, 'ApproveRoleIssuers', id.iotAdmin, ['p-1']), 'CONFLICT', 'already approved');
      await rejects(
        w.chain.submit(w.governance, 'ApproveRoleIssuers', id.dpmAdmin, ['p-1']),
        'DENIED',
        'needs an admin of a peer organisation',
      );
      await rejects(
        w.chain.submit(w.governance, 'ApproveRoleIssuers', id.aCreator, ['p-1']),
        'DENIED',
        'needs an admin of a peer organisation',
      );
      assert.equal((await issuers()).version, 0);
      const applied = await w.chain.submit<RoleIssuersProposal>(w.governance, 'ApproveRoleIssuers', id.aAdmin, ['p-1']);
      assert.equal(applied.status, 'APPLIED');
      assert.equal(applied.appliedVersion, 1);
      const s = await issuers();
      assert.equal(s.source, 'LEDGER');
      assert.equal(s.version, 1);
      assert.deepEqual(s.approvedBy, ['IoTPlatformMSP', 'MetaverseAMSP']);
      assert.deepEqual(s.issuers.find((e) => e.role === 'monitor')?.mspIds, ['IoTPlatformMSP']);
      assert.deepEqual(s.issuers.find((e) => e.role === 'auditor')?.mspIds, ['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP']);
      // In force from the next transaction: MetaverseAMSP's monitor is no monitor any more.
      await rejects(
        w.chain.evaluate(w.alert, 'ListOpenAlerts', id.monitor, ['10', '']),
        'DENIED',
        'role monitor from MetaverseAMSP is not recognised: only IoTPlatformMSP may issue monitor (ledger setting role issuers, version 1)',
      );
      await w.chain.evaluate(w.alert, 'ListOpenAlerts', { mspId: 'IoTPlatformMSP', role: 'monitor', principal: 'm' }, ['10', '']);
      await rejects(w.chain.submit(w.governance, 'ApproveRoleIssuers', id.bAdmin, ['p-1']), 'CONFLICT', 'already APPLIED');
    });

    it('a proposal made for an older version does not apply; proposals are validated', async () => {
      await w.chain.submit(w.governance, 'ProposeRoleIssuers', id.iotAdmin, [restrictMonitor]);
      await w.chain.submit(w.governance, 'ProposeRoleIssuers', id.bAdmin, [
        { proposalId: 'p-2', issuers: { dpm: ['DPMProviderMSP', 'MetaverseBMSP'] } },
      ]);
      await w.chain.submit(w.governance, 'ApproveRoleIssuers', id.aAdmin, ['p-1']);
      await rejects(
        w.chain.submit(w.governance, 'ApproveRoleIssuers', id.aAdmin, ['p-2']),
        'CONFLICT',
        'was made for role issuers version 0; the setting is now version 1',
      );
      await rejects(
        w.chain.submit(w.governance, 'ProposeRoleIssuers', id.iotAdmin, [{ ...restrictMonitor, proposalId: 'p-3' }]),
        'INVALID',
        'changes nothing',
      );
      await rejects(
        w.chain.submit(w.governance, 'ProposeRoleIssuers', id.iotAdmin, [{ proposalId: 'p-4', issuers: { admin: ['IoTPlatformMSP'] } }]),
        'INVALID',
        'MetaverseAMSP, MetaverseBMSP must stay issuers of admin',
      );
      await rejects(
        w.chain.submit(w.governance, 'ProposeRoleIssuers', id.iotAdmin, [{ proposalId: 'p-5', issuers: { root: '*' } }]),
        'INVALID',
        'unknown role "root"',
      );
      await rejects(
        w.chain.submit(w.governance, 'ProposeRoleIssuers', id.iotAdmin, [{ proposalId: 'p-1', issuers: { dpm: '*' } }]),
        'CONFLICT',
        'already exists',
      );
      await rejects(
        w.chain.submit(w.governance, 'ProposeRoleIssuers', id.dpmAdmin, [{ proposalId: 'p-6', issuers: { monitor: '*' } }]),
        'DENIED',
        'peer organisation',
      );
      await rejects(
        w.chain.submit(w.governance, 'ProposeRoleIssuers', dpmMonitor, [{ proposalId: 'p-7', issuers: { monitor: '*' } }]),
        'DENIED',
        'not recognised',
      );
    });

    it("a DPM job is re-decided at acceptance with the submitter's role as the role issuers recognise it now", async () => {
      await w.anchor('d-1', SHA_A);
      await w.chain.submit(w.access, 'CreateGrant', id.alice, [
        {
          grantId: 'g-p',
          resourceType: 'THING',
          resourceId: 'watch-1',
          grantee: { type: 'MSP', id: 'MetaverseAMSP' },
          actions: ['process'],
          purpose: 'analytics',
          validUntil: new Date(w.chain.now + 86_400_000).toISOString(),
        },
      ]);
      const job = (jobId: string) => ({
        jobId,
        metaverseId: 'mv-a',
        providerId: 'dpm-1',
        inputs: ['d-1'],
        purpose: 'analytics',
        envelopeSha256: 'e'.repeat(64),
      });
      await w.chain.submit(w.dpm, 'SubmitJob', id.aCreator, [job('job-1')]);
      await w.chain.submit(w.governance, 'ProposeRoleIssuers', id.iotAdmin, [
        { proposalId: 'p-c', issuers: { creator: ['DPMProviderMSP', 'IoTPlatformMSP', 'MetaverseBMSP'] } },
      ]);
      await w.chain.submit(w.governance, 'ApproveRoleIssuers', id.bAdmin, ['p-c']);
      await rejects(w.chain.submit(w.dpm, 'AcceptJob', id.dpm1, ['job-1']), 'DENIED', 'role creator from MetaverseAMSP is not recognised');
    });

    it('a designated organisation can be added by the majority (a DPM monitor is then recognised)', async () => {
      await w.chain.submit(w.governance, 'ProposeRoleIssuers', id.aAdmin, [
        { proposalId: 'p-dpm', issuers: { monitor: ['DPMProviderMSP', 'IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP'] } },
      ]);
      await w.chain.submit(w.governance, 'ApproveRoleIssuers', id.bAdmin, ['p-dpm']);
      await w.chain.evaluate(w.alert, 'ListOpenAlerts', dpmMonitor, ['10', '']);
      const p = await w.chain.evaluate<RoleIssuersProposal>(w.governance, 'GetRoleIssuersProposal', id.auditor, ['p-dpm']);
      assert.deepEqual(
        p.approvals.map((a) => a.mspId),
        ['MetaverseAMSP', 'MetaverseBMSP'],
      );
    });
  });
});
