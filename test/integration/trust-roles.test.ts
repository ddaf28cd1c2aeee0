/**
 * Trust rule 1 on the real network, played by a hostile member with a raw fabric-gateway client
 * (no project gateway): roles are bound to organisations. The DPM provider's CA issues `monitor`
 * and `auditor` certificates to its own people; the chaincode recognises those roles only from the
 * organisations the ledger setting `settings~roles` names (defaults: the peer organisations), so
 * they are refused with the reason and the ledger is unchanged. The setting changes only when a
 * majority of the peer organisations' admins approve, each in its own transaction with its own key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  DAY,
  DPM,
  evaluate,
  IOT,
  isoIn,
  MVA,
  ok,
  refused,
  submit,
  type Actor,
  type World,
} from './support/domain.js';

interface RoleIssuer {
  role: string;
  anyMember: boolean;
  mspIds: string[];
}
interface RoleIssuers {
  version: number;
  source: string;
  issuers: RoleIssuer[];
  approvedBy?: string[];
}
interface Proposal {
  status: string;
  approvals: { mspId: string }[];
  appliedVersion?: number;
}

const notRecognised = (role: string) =>
  new RegExp(
    `DENIED: role ${role} from ${DPM} is not recognised: only ${IOT}, ${MVA}, MetaverseBMSP may issue ${role} \\(ledger setting role issuers`,
  );

describe('trust rule 1 on the real network: roles are bound to organisations', () => {
  let w: World;
  let dpmMonitor: Actor;
  let dpmAuditor: Actor;
  let iotMonitor: Actor;
  let iotAuditor: Actor;
  let iotAdmin2: Actor;
  let restricted: string;

  before(async () => {
    w = await buildWorld('roles');
    [dpmMonitor, dpmAuditor, iotMonitor, iotAuditor, iotAdmin2] = await Promise.all([
      actor(DPM, 'monitor'),
      actor(DPM, 'auditor'),
      actor(IOT, 'monitor'),
      actor(IOT, 'auditor'),
      actor(IOT, 'admin'),
    ]);
    restricted = `d-restr-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [
      JSON.stringify({ ...anchorInput(w, restricted), avatarId: w.avatarId, classification: 'RESTRICTED' }),
    ]);
  });
  after(() => {
    w?.close();
    for (const a of [dpmMonitor, dpmAuditor, iotMonitor, iotAuditor, iotAdmin2]) a?.conn.close();
  });

  const thingStatus = async () => (await evaluate<{ status: string }>(w.alice.cc('thing'), 'GetThing', [w.thingId])).status;
  const setting = () => evaluate<RoleIssuers>(w.alice.cc('governance'), 'GetRoleIssuers', []);
  const alert = (alertId: string) =>
    JSON.stringify({
      alertId,
      severity: 'CRITICAL',
      rule: 'trust-roles',
      subjectType: 'THING',
      subjectId: w.thingId,
      description: 'test',
      suspend: true,
    });

  it("A1: a DPM-CA identity with role=monitor cannot suspend or resume the IoT platform's thing (DENIED, thing status unchanged)", async () => {
    const raised = await refused(() => submit(dpmMonitor.cc('alert'), 'RaiseAlert', [alert(`al-dpm-${w.run}`)]));
    assert.match(raised, notRecognised('monitor'));
    assert.equal(await thingStatus(), 'ACTIVE');
    // a designated organisation's monitor suspends through the alert path (legitimate) …
    const alertId = `al-iot-${w.run}`;
    const { value } = await ok<{ suspended: boolean }>(iotMonitor.cc('alert'), 'RaiseAlert', [alert(alertId)]);
    assert.equal(value.suspended, true);
    assert.equal(await thingStatus(), 'SUSPENDED');
    // … the DPM monitor cannot resume it …
    const resumed = await refused(() => submit(dpmMonitor.cc('alert'), 'ResolveAlert', [alertId, JSON.stringify({ resume: true })]));
    assert.match(resumed, notRecognised('monitor'));
    assert.equal(await thingStatus(), 'SUSPENDED');
    const stillOpen = await evaluate<{ status: string }>(iotMonitor.cc('alert'), 'GetAlert', [alertId]);
    assert.equal(stillOpen.status, 'OPEN');
    // … and the designated monitor resumes it by resolving its alert.
    await ok(iotMonitor.cc('alert'), 'ResolveAlert', [alertId, JSON.stringify({ resolution: 'checked', resume: true })]);
    assert.equal(await thingStatus(), 'ACTIVE');
  });

  it('A1: a DPM-CA monitor reads nothing a monitor reads (alerts, activity, history, transfers, data)', async () => {
    for (const [contract, fn, args] of [
      ['alert', 'ListOpenAlerts', ['10', '']],
      ['audit', 'QueryActivityBySubject', ['thing', w.thingId, '10', '']],
      ['audit', 'GetHistory', ['thing', w.thingId]],
      ['data', 'GetData', [restricted]],
    ] as const) {
      assert.match(await refused(() => evaluate(dpmMonitor.cc(contract), fn, [...args])), notRecognised('monitor'), `${contract}:${fn}`);
      await evaluate(iotMonitor.cc(contract), fn, [...args]);
    }
  });

  it("A1: a DPM admin's role=auditor identity cannot query activity or history nor read RESTRICTED data; a peer organisation's auditor can", async () => {
    for (const [contract, fn, args] of [
      ['audit', 'QueryActivityBySubject', ['data', restricted, '10', '']],
      ['audit', 'QueryActivityByTime', [new Date().toISOString().slice(0, 10), '10', '']],
      ['audit', 'GetHistory', ['data', restricted]],
      ['data', 'GetData', [restricted]],
    ] as const) {
      assert.match(await refused(() => evaluate(dpmAuditor.cc(contract), fn, [...args])), notRecognised('auditor'), `${contract}:${fn}`);
      await evaluate(iotAuditor.cc(contract), fn, [...args]);
    }
    const anchor = await evaluate<{ classification: string }>(iotAuditor.cc('data'), 'GetData', [restricted]);
    assert.equal(anchor.classification, 'RESTRICTED');
  });

  it("A2: a DPM admin cannot expire another organisation's transfer; an admin of a party passes authorization (only the time stops it)", async () => {
    const transferId = `tr-${w.run}`;
    const input = anchorInput(w, restricted);
    await ok(w.mvaAdmin.cc('transfer'), 'RequestTransfer', [
      JSON.stringify({
        transferId,
        kind: 'SHARE',
        sourceAvatarId: w.avatarId,
        targetMetaverseId: w.mvbId,
        dataId: restricted,
        dataSha256: input.sha256,
        purpose: 'gameplay',
        expiresAt: isoIn(DAY),
      }),
    ]);
    const before = await evaluate<{ status: string; updatedAt: string }>(w.mvaAdmin.cc('transfer'), 'GetTransfer', [transferId]);
    const denied = await refused(() => submit(w.dpmAdmin.cc('transfer'), 'ExpireTransfer', [transferId]));
    assert.match(
      denied,
      new RegExp(
        `DENIED: marking transfer ${transferId} expired needs an admin of ${MVA}, MetaverseBMSP, ${IOT} \\(its source, target or owner organisation\\) or a monitor of a designated organisation`,
      ),
    );
    assert.match(await refused(() => submit(dpmMonitor.cc('transfer'), 'ExpireTransfer', [transferId])), notRecognised('monitor'));
    assert.match(await refused(() => submit(w.mvbAdmin.cc('transfer'), 'ExpireTransfer', [transferId])), /CONFLICT: transfer .* not yet/);
    assert.match(await refused(() => submit(iotMonitor.cc('transfer'), 'ExpireTransfer', [transferId])), /CONFLICT: transfer .* not yet/);
    assert.deepEqual(await evaluate(w.mvaAdmin.cc('transfer'), 'GetTransfer', [transferId]), before);
  });

  describe('governance: the role issuers change only by a majority (2 of 3) of the peer organisations', () => {
    let original: RoleIssuer | undefined;
    const monitorIssuers = (s: RoleIssuers) => s.issuers.find((e) => e.role === 'monitor');
    const restore = async () => {
      const now = await setting();
      const current = monitorIssuers(now);
      if (!original || JSON.stringify(current) === JSON.stringify(original)) return;
      const proposalId = `p-restore-${w.run}-${now.version}`;
      const value = original.anyMember ? '*' : original.mspIds;
      await ok(w.mvbAdmin.cc('governance'), 'ProposeRoleIssuers', [JSON.stringify({ proposalId, issuers: { monitor: value } })]);
      await ok(w.iotAdmin.cc('governance'), 'ApproveRoleIssuers', [proposalId]);
    };
    after(restore);

    it('one approval is not enough; a second from the same MSP does not count; a second organisation applies it; then the majority restores it', async () => {
      const start = await setting();
      original = monitorIssuers(start);
      assert.deepEqual(original?.mspIds, [IOT, MVA, 'MetaverseBMSP'], 'the designated monitor organisations (defaults)');
      const proposalId = `p-dpm-monitor-${w.run}`;
      const proposed = await ok<Proposal>(w.iotAdmin.cc('governance'), 'ProposeRoleIssuers', [
        JSON.stringify({ proposalId, issuers: { monitor: [DPM, IOT, MVA, 'MetaverseBMSP'] }, reason: 'DPM provider runs monitoring' }),
      ]);
      assert.equal(proposed.value.status, 'OPEN');
      // one approval (the proposer's): setting unchanged, the DPM monitor still refused
      assert.equal((await setting()).version, start.version);
      assert.match(
        await refused(() => evaluate(dpmMonitor.cc('alert'), 'ListOpenAlerts', ['10', ''])),
        /role monitor from DPMProviderMSP is not recognised/,
      );
      // a second approval from the same MSP (another admin of IoTPlatformMSP) does not count
      const twice = await refused(() => submit(iotAdmin2.cc('governance'), 'ApproveRoleIssuers', [proposalId]));
      assert.match(twice, new RegExp(`CONFLICT: ${IOT} already approved proposal ${proposalId}`));
      // the DPM provider's admin (no peer organisation) has no vote
      assert.match(
        await refused(() => submit(w.dpmAdmin.cc('governance'), 'ApproveRoleIssuers', [proposalId])),
        /DENIED: approving a change of ledger settings needs an admin of a peer organisation/,
      );
      assert.equal((await setting()).version, start.version);
      // a second organisation's admin applies it
      const applied = await ok<Proposal>(w.mvaAdmin.cc('governance'), 'ApproveRoleIssuers', [proposalId]);
      assert.equal(applied.value.status, 'APPLIED');
      assert.deepEqual(
        applied.value.approvals.map((a) => a.mspId),
        [IOT, MVA],
      );
      const changed = await setting();
      assert.equal(changed.version, start.version + 1);
      assert.equal(changed.source, 'LEDGER');
      assert.deepEqual(monitorIssuers(changed)?.mspIds, [DPM, IOT, MVA, 'MetaverseBMSP']);
      await evaluate(dpmMonitor.cc('alert'), 'ListOpenAlerts', ['10', '']); // now recognised
      // the majority restores the designation; the DPM monitor is refused again
      await restore();
      const restored = await setting();
      assert.equal(restored.version, start.version + 2);
      assert.deepEqual(monitorIssuers(restored), original);
      assert.match(
        await refused(() => evaluate(dpmMonitor.cc('alert'), 'ListOpenAlerts', ['10', ''])),
        /role monitor from DPMProviderMSP is not recognised/,
      );
    });
  });
});
