/**
 * M2/X6 on the real network: the monitor follows the chaincode events under its own `monitor`
 * identity (enrolled at the org's CA), raises alerts on the ledger and suspends through the
 * chaincode; restarted after a crash it applies every event exactly once; a refused
 * cross-metaverse attempt through the gateway raises an alert on the ledger and on the live stream.
 * No fixed sleeps: the ledger is polled with a deadline.
 */
import './support/network.js';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../gateway/src/app.js';
import type { Caller } from '../../gateway/src/auth/principal.js';
import { totpCode } from '../../gateway/src/auth/totp.js';
import { testConfig } from '../../gateway/src/config.js';
import { FabricLedger } from '../../gateway/src/ledger/fabric-ledger.js';
import { IdentityService } from '../../gateway/src/ledger/identities.js';
import { fabricEventSource } from '../../gateway/src/monitor/fabric-source.js';
import { Monitor, type RaisedAlert } from '../../gateway/src/monitor/monitor.js';
import { alertIdOf, parseRules } from '../../gateway/src/monitor/rules.js';
import { listen } from '../../gateway/src/server.js';
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
  refused,
  type Actor,
  type World,
} from './support/domain.js';
import { gatewayNetwork } from './support/network.js';

interface Alert {
  alertId: string;
  rule: string;
  severity: string;
  subjectType: string;
  subjectId: string;
  evidence: string[];
  suspended: boolean;
  raisedBy: { mspId: string; principal: string; role: string };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

describe('M2 monitor on the real network', () => {
  let w: World;
  let auditor: Actor;
  let identities: IdentityService;
  let ledger: FabricLedger;
  let monitorId: Caller;
  const dirs: string[] = [];
  const monitors: Monitor[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'mvsec-it-monitor-'));
    dirs.push(d);
    return d;
  };
  const newMonitor = async (rules: unknown[], stateDir: string, extra: Partial<ConstructorParameters<typeof Monitor>[0]> = {}) => {
    const source = await fabricEventSource(gatewayNetwork(), identities, monitorId);
    const m = new Monitor({
      rules: parseRules({ version: 1, rules }),
      ledger,
      identity: monitorId,
      source,
      stateDir,
      log: (l) => console.error(l),
      ...extra,
    });
    monitors.push(m);
    const stop = m.stop.bind(m);
    m.stop = async () => {
      await stop();
      source.close();
    };
    return m;
  };
  const alertsOf = async (subjectType: string, subjectId: string) =>
    (await evaluate<{ items: Alert[] }>(auditor.cc('alert'), 'ListAlertsBySubject', [subjectType, subjectId, '50', ''])).items;
  const anchor = async (thingId: string, dataId: string) =>
    (await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify({ ...anchorInput(w, dataId), thingId })])).tx.txId;

  before(async () => {
    w = await buildWorld('mon');
    auditor = await actor(IOT, 'auditor');
    identities = new IdentityService(gatewayNetwork(), randomBytes(32), tmp());
    ledger = new FabricLedger(gatewayNetwork(), identities);
    monitorId = { principal: `monitor-${w.run}`, mspId: IOT, role: 'monitor', issuer: 'gateway', amr: [] };
  });

  after(async () => {
    await Promise.all(monitors.map((m) => m.stop()));
    ledger?.close();
    auditor?.conn.close();
    w?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('M2/X6: an abnormal burst of writes on one thing raises the CRITICAL rate-spike alert under the monitor identity, which suspends the thing; further writes are refused', async () => {
    const thingId = `burst-${w.run}`;
    await ok(w.alice.cc('thing'), 'RegisterThing', [
      JSON.stringify({
        thingId,
        platformId: w.iotId,
        kind: 'SENSOR',
        accessMode: 'AUTONOMOUS',
        publicKey: `pk-${thingId}`,
        classification: 'CONFIDENTIAL',
        policy: { storage: 'ANY', allowedMetaverses: [w.mvaId], purposes: ['analytics'] },
      }),
    ]);
    const m = await newMonitor(
      [{ id: 'rate-spike', type: 'rate', severity: 'CRITICAL', max: 4, windowSeconds: 3600, subjects: ['thing'], suspend: true }],
      tmp(),
    );
    const pushed: RaisedAlert[] = [];
    m.subscribe((a) => pushed.push(a));
    await m.start();

    const burst: string[] = [];
    for (let i = 0; i < 5; i++) burst.push(await anchor(thingId, `${thingId}-d${i}`));

    const alert = await eventually('the rate-spike alert on the ledger', async () =>
      (await alertsOf('THING', thingId)).find((a) => a.rule === 'rate-spike'),
    );
    assert.equal(alert.alertId, alertIdOf('rate-spike', 'THING', thingId, burst[0]), 'id derived from rule, subject and first tx');
    assert.equal(alert.severity, 'CRITICAL');
    assert.deepEqual(alert.evidence, burst, 'the five transactions of the burst are the evidence');
    assert.equal(alert.suspended, true);
    assert.deepEqual(
      alert.raisedBy,
      { mspId: IOT, principal: monitorId.principal, role: 'monitor' },
      "raised under the monitor's own identity",
    );

    const thing = await evaluate<{ status: string; statusReason: string; suspendedByAlert: string }>(auditor.cc('thing'), 'GetThing', [
      thingId,
    ]);
    assert.equal(thing.status, 'SUSPENDED');
    assert.equal(thing.suspendedByAlert, alert.alertId);
    const why = await refused(() =>
      ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify({ ...anchorInput(w, `${thingId}-late`), thingId })]),
    );
    assert.match(why, new RegExp(`DENIED: thing ${thingId} is SUSPENDED \\(alert ${alert.alertId}: rate-spike\\)`));

    await eventually('the alert pushed live', async () => (pushed.length ? true : undefined), 10_000);
    assert.deepEqual(
      pushed.map((p) => [p.alertId, p.existing]),
      [[alert.alertId, false]],
    );
    await m.stop();
  });

  it('M2: the monitor crashed mid-stream (after applying an event, before its checkpoint) and restarted applies every committed event exactly once', async () => {
    const stateDir = tmp();
    const lax = [
      { id: 'rate-spike', type: 'rate', severity: 'CRITICAL', max: 1000, windowSeconds: 60, subjects: ['thing'], suspend: true },
    ];
    const committed: string[] = [];
    const applied: string[] = [];
    const skipped: string[] = [];
    let crashAt: string | undefined;
    const crashOn = `eo-${w.run}-3"`; // the 4th write's data id, as it appears in the event payload
    const a = await newMonitor(lax, stateDir, {
      onProcessed: (e) => applied.push(e.transactionId),
      beforeCheckpoint: (e) => {
        if (crashAt === undefined && Buffer.from(e.payload).toString('utf8').includes(crashOn)) {
          crashAt = e.transactionId;
          throw new Error('killed');
        }
      },
    });
    await a.start();
    for (let i = 0; i < 6; i++) committed.push(await anchor(w.thingId, `eo-${w.run}-${i}`));
    await eventually('the crash', async () => (crashAt ? true : undefined));
    await a.done();
    assert.match(a.failure?.message ?? '', /crash before checkpoint/);
    assert.equal(crashAt, committed[3]);
    for (let i = 6; i < 9; i++) committed.push(await anchor(w.thingId, `eo-${w.run}-${i}`)); // while no monitor runs

    const b = await newMonitor(lax, stateDir, {
      onProcessed: (e) => applied.push(e.transactionId),
      onSkipped: (e) => skipped.push(e.transactionId),
    });
    await b.start();
    for (let i = 9; i < 12; i++) committed.push(await anchor(w.thingId, `eo-${w.run}-${i}`)); // while it runs again
    await eventually('every committed transaction applied', async () => (committed.every((t) => applied.includes(t)) ? true : undefined));
    await b.stop();

    const ours = applied.filter((t) => committed.includes(t));
    assert.equal(new Set(ours).size, ours.length, `no transaction applied twice: ${ours.join(' ')}`);
    assert.deepEqual(ours, committed, 'each committed transaction applied once, in commit order');
    assert.deepEqual(skipped, [crashAt], 'the event whose checkpoint was lost was redelivered and recognised as applied');
  });

  it('M2/X3: a refused cross-metaverse attempt through the gateway raises the denied-movement alert on the ledger and on the SSE stream', async () => {
    const m = await newMonitor(
      [{ id: 'denied-movement', type: 'denials', severity: 'WARNING', max: 0, windowSeconds: 60, pathPattern: '^/(r3|r6)/' }],
      tmp(),
    );
    await m.start();
    const gw = createApp(testConfig(), { ledger, monitor: m, log: (l) => console.error(l) });
    const running = await listen(gw.app, { host: '127.0.0.1', port: 0 });
    const ctrl = new AbortController();
    try {
      const signIn = async (role: Caller['role'], mspId: string, principal: string) => {
        const username = `${principal}-${randomUUID().slice(0, 6)}`;
        const password = `pw-${username}-long-enough`;
        const { totp } = await gw.login.createUser({ username, password, mspId, role, principal });
        const code = totp ? await totpCode(totp.secret, Date.now()) : undefined;
        const r = await fetch(`${running.url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password, ...(code ? { totp: code } : {}) }),
        });
        return ((await r.json()) as { accessToken: string }).accessToken;
      };
      const auditorToken = await signIn('auditor', IOT, `aud-${w.run}`);
      const mallory = `mallory-${w.run}`;
      const malloryToken = await signIn('creator', MVA, mallory);

      const stream = await fetch(`${running.url}/monitor/alerts/stream`, {
        headers: { authorization: `Bearer ${auditorToken}` },
        signal: ctrl.signal,
      });
      assert.equal(stream.status, 200);
      const reader = stream.body!.getReader();
      let text = '';
      const next = async () => {
        const { value } = await reader.read();
        text += Buffer.from(value ?? new Uint8Array()).toString('utf8');
      };
      while (!text.includes('mvsec monitor alerts')) await next();

      const dataId = `mv-${w.run}`;
      const content = `reading ${dataId}`;
      await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify({ ...anchorInput(w, dataId, content), avatarId: w.avatarId })]);
      const attempt = await fetch(`${running.url}/r3/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${malloryToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          transferId: `tr-${w.run}`,
          kind: 'MOVE',
          sourceAvatarId: w.avatarId,
          targetMetaverseId: w.mvbId,
          dataId,
          dataSha256: (anchorInput(w, dataId, content) as { sha256: string }).sha256,
          purpose: 'gameplay',
          expiresAt: isoIn(DAY),
        }),
      });
      const problem = (await attempt.json()) as { status: number; detail: string };
      assert.equal(attempt.status, 403, JSON.stringify(problem));
      assert.match(problem.detail, /^DENIED: /);

      const principal = `${mallory}@${MVA}`;
      const alert = await eventually('the denied-movement alert on the ledger', async () =>
        (await alertsOf('PRINCIPAL', principal)).find((a) => a.rule === 'denied-movement'),
      );
      assert.equal(alert.severity, 'WARNING');
      assert.equal(alert.suspended, false);
      assert.equal(alert.raisedBy.role, 'monitor');
      while (!text.includes(`id: ${alert.alertId}`)) await next();
      const data = JSON.parse(new RegExp(`id: ${alert.alertId}\\ndata: (\\{.*\\})\\n`).exec(text)![1]);
      assert.equal(data.subjectId, principal);
      assert.match(data.description, /\/r3\/transfers: DENIED: /);

      const listed = await fetch(`${running.url}/monitor/alerts?subjectType=PRINCIPAL&subjectId=${encodeURIComponent(principal)}`, {
        headers: { authorization: `Bearer ${auditorToken}` },
      });
      assert.deepEqual(
        ((await listed.json()) as { items: Alert[] }).items.map((a) => a.alertId),
        [alert.alertId],
      );
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      assert.match(metrics, /^mvsec_monitor_alerts_total\{rule="denied-movement",severity="WARNING"\} 1$/m);
      assert.match(metrics, /^mvsec_monitor_lag_blocks \d+$/m);
    } finally {
      ctrl.abort();
      await running.close();
      await m.stop();
    }
  });

  it('X3/X5/M2: executing toward a metaverse the policy no longer allows is refused by the chaincode; nothing moves, so the policy-movement rule has nothing to flag', async () => {
    const applied: string[] = [];
    const m = await newMonitor([{ id: 'policy-movement', type: 'policy', severity: 'CRITICAL', suspend: true }], tmp(), {
      onProcessed: (e) => applied.push(e.transactionId),
    });
    await m.start();
    const dataId = `pm-${w.run}`;
    const content = `reading ${dataId}`;
    const sha = (anchorInput(w, dataId, content) as { sha256: string }).sha256;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify({ ...anchorInput(w, dataId, content), avatarId: w.avatarId })]);
    const transferId = `pm-tr-${w.run}`;
    await ok(w.alice.cc('transfer'), 'RequestTransfer', [
      JSON.stringify({
        transferId,
        kind: 'MOVE',
        sourceAvatarId: w.avatarId,
        targetMetaverseId: w.mvbId,
        dataId,
        dataSha256: sha,
        purpose: 'gameplay',
        expiresAt: isoIn(DAY),
      }),
    ]);
    // the owner withdraws metaverse B from the policy while the transfer is under way
    await ok(w.alice.cc('thing'), 'SetThingPolicy', [
      w.thingId,
      JSON.stringify({
        storage: 'ANY',
        allowedMetaverses: [w.mvaId],
        allowedDpmProviders: [w.dpmId],
        purposes: ['analytics', 'gameplay'],
        retentionDays: 30,
        encryptionRequired: true,
      }),
    ]);
    const both = { endorsingOrganizations: [MVA, MVB] };
    await ok(w.mvaAdmin.cc('transfer'), 'ApproveTransferAsSource', [transferId], both);
    await ok(w.mvbAdmin.cc('transfer'), 'ApproveTransferAsTarget', [transferId], both);
    const consent = await ok(w.alice.cc('transfer'), 'ConsentTransfer', [transferId]);
    const reason = await refused(() => ok(w.mvbAdmin.cc('transfer'), 'ExecuteTransfer', [transferId, sha], both));
    assert.match(reason, /DENIED: thing \S+ policy no longer allows metaverse/);

    const transfer = await evaluate<{ status: string }>(auditor.cc('transfer'), 'GetTransfer', [transferId]);
    assert.equal(transfer.status, 'CONSENTED', 'the refused execution changed nothing');
    // the monitor has seen every committed event up to the consent, and flagged none of them
    await eventually('the monitor to process the consent', async () => (applied.includes(consent.tx.txId) ? true : undefined));
    assert.equal((await alertsOf('THING', w.thingId)).filter((a) => a.rule === 'policy-movement').length, 0);
    await m.stop();
  });
});
