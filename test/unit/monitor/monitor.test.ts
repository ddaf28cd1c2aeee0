/**
 * M2: the monitor's processing loop against an in-memory chain that honours fabric-gateway's
 * checkpoint semantics, with the real file checkpointer: exactly-once across crashes at each
 * step, idempotent alerts, metrics; and the gateway wiring (routes, SSE, 403 → denial).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { ChaincodeEvent, Checkpointer, CloseableAsyncIterable } from '@hyperledger/fabric-gateway';
import client from 'prom-client';
import type { Caller } from '../../../gateway/src/auth/principal.js';
import { ApiError, fromChaincode } from '../../../gateway/src/http/problem.js';
import { chainHeight } from '../../../gateway/src/monitor/fabric-source.js';
import { ACTIVITY_EVENT, Monitor, type EventSource } from '../../../gateway/src/monitor/monitor.js';
import { alertIdOf, parseRules, type ActivityEvent, type Rule } from '../../../gateway/src/monitor/rules.js';
import { FakeLedger, startTestGateway } from '../gateway/support.js';

const MONITOR: Caller = { principal: 'mvsec-monitor', mspId: 'IoTPlatformMSP', role: 'monitor', issuer: 'gateway', amr: [] };
const T0 = Date.parse('2025-03-01T10:00:00.000Z');

/** An in-memory channel: events by block; delivery after the checkpoint as the peer does it. */
class FakeChain implements EventSource {
  events_: ChaincodeEvent[] = [];
  heightValue = 0n;
  private waiters = new Set<() => void>();
  opened = 0;

  append(block: bigint, txId: string, payload: ActivityEvent | string, eventName = ACTIVITY_EVENT): void {
    this.events_.push({
      blockNumber: block,
      transactionId: txId,
      chaincodeName: 'mvsec',
      eventName,
      payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    });
    if (block + 1n > this.heightValue) this.heightValue = block + 1n;
    for (const w of this.waiters) w();
  }

  async events(checkpoint: Checkpointer, startBlock?: bigint): Promise<CloseableAsyncIterable<ChaincodeEvent>> {
    this.opened++;
    const from = checkpoint.getBlockNumber() ?? startBlock ?? this.heightValue;
    const afterTx = checkpoint.getTransactionId();
    // the peer: events from `from`; inside that block, those after `afterTx`
    let i = this.events_.findIndex((e) => e.blockNumber >= from);
    if (i < 0) i = this.events_.length;
    if (afterTx) {
      const j = this.events_.findIndex((e) => e.blockNumber === from && e.transactionId === afterTx);
      if (j >= 0) i = j + 1;
    }
    let closed = false;
    let wake: (() => void) | undefined;
    const list = this.events_;
    const waiters = this.waiters;
    const iterable = {
      async *[Symbol.asyncIterator]() {
        while (!closed) {
          if (i < list.length) {
            yield list[i++];
            continue;
          }
          await new Promise<void>((r) => {
            wake = r;
            waiters.add(r);
          });
          if (wake) waiters.delete(wake);
        }
        throw new Error('1 CANCELLED: Cancelled on client');
      },
      close() {
        closed = true;
        wake?.();
      },
    };
    return iterable as unknown as CloseableAsyncIterable<ChaincodeEvent>;
  }

  async height(): Promise<bigint> {
    return this.heightValue;
  }

  close(): void {}
}

function anchorEvent(txId: string, atMs: number, thingId = 'watch-1'): ActivityEvent {
  const time = new Date(atMs).toISOString();
  const actor = { mspId: 'IoTPlatformMSP', principal: 'alice', role: 'creator' };
  return {
    txId,
    time,
    fn: 'data:AnchorData',
    actor,
    changes: [
      {
        txId,
        time,
        fn: 'data:AnchorData',
        seq: 0,
        actor,
        subjectType: 'data',
        subjectId: `d-${txId}`,
        action: 'anchored',
        details: JSON.stringify({ thingId }),
      },
    ],
  };
}

const RULES: Rule[] = parseRules({
  version: 1,
  rules: [
    { id: 'rate-spike', type: 'rate', severity: 'CRITICAL', max: 3, windowSeconds: 60, subjects: ['thing'], suspend: true },
    { id: 'denials', type: 'denials', severity: 'WARNING', max: 1, windowSeconds: 60 },
  ],
});

/** A ledger that keeps alerts by id: a second RaiseAlert of the same id is a CONFLICT, as in the chaincode. */
function alertLedger(): FakeLedger & { alerts: Map<string, Record<string, unknown>> } {
  const ledger = new FakeLedger() as FakeLedger & { alerts: Map<string, Record<string, unknown>> };
  ledger.alerts = new Map();
  ledger.on('alert:RaiseAlert', (c) => {
    const input = JSON.parse(c.args[0]) as Record<string, unknown>;
    const id = input.alertId as string;
    if (ledger.alerts.has(id)) throw fromChaincode('CONFLICT', `alert ${id} already exists`);
    ledger.alerts.set(id, input);
    return { ...input, status: 'OPEN', suspended: !!input.suspend, raisedAt: '2025-03-01T10:00:09.000Z' };
  });
  return ledger;
}

const until = async (what: string, cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mvsec-unit-monitor-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('monitor loop', () => {
  const running: Monitor[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((m) => m.stop()));
  });

  function monitor(chain: FakeChain, ledger: FakeLedger, stateDir: string, extra: Partial<ConstructorParameters<typeof Monitor>[0]> = {}) {
    const m = new Monitor({ rules: RULES, ledger, identity: MONITOR, source: chain, stateDir, log: () => {}, startBlock: 1n, ...extra });
    running.push(m);
    return m;
  }

  it('raises the rate-spike alert on the ledger as its own identity, with suspension, and pushes it to subscribers', async () => {
    const chain = new FakeChain();
    const ledger = alertLedger();
    const m = monitor(chain, ledger, tmp());
    const pushed: string[] = [];
    m.subscribe((a) => pushed.push(a.alertId));
    await m.start();
    for (let i = 1; i <= 5; i++) chain.append(BigInt(i), `tx${i}`, anchorEvent(`tx${i}`, T0 + i * 1000));
    await until('5 events', () => m.processed === 5);
    const raises = ledger.submits('alert:RaiseAlert');
    assert.equal(raises.length, 1, 'one alert for the burst (the 5th record is in its quiet period)');
    assert.deepEqual(raises[0].caller, MONITOR);
    const input = JSON.parse(raises[0].args[0]);
    assert.equal(input.alertId, alertIdOf('rate-spike', 'THING', 'watch-1', 'tx1'));
    assert.equal(input.suspend, true);
    assert.deepEqual(input.evidence, ['tx1', 'tx2', 'tx3', 'tx4']);
    assert.deepEqual(pushed, [input.alertId]);
  });

  it('a crash after the state was saved but before the checkpoint: the redelivered event is skipped, every event applied once', async () => {
    const chain = new FakeChain();
    const ledger = alertLedger();
    const dir = tmp();
    for (let i = 1; i <= 8; i++) chain.append(BigInt(i), `tx${i}`, anchorEvent(`tx${i}`, T0 + i * 100_000));
    const applied: string[] = [];
    const a = monitor(chain, ledger, dir, {
      onProcessed: (e) => applied.push(e.transactionId),
      beforeCheckpoint: (e) => {
        if (e.transactionId === 'tx4') throw new Error('killed');
      },
    });
    await a.start();
    await a.done();
    assert.match(a.failure?.message ?? '', /crash before checkpoint of tx4/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')), { blockNumber: '3', transactionId: 'tx3' });
    const skipped: string[] = [];
    const b = monitor(chain, ledger, dir, {
      onProcessed: (e) => applied.push(e.transactionId),
      onSkipped: (e) => skipped.push(e.transactionId),
    });
    await b.start();
    for (let i = 9; i <= 10; i++) chain.append(BigInt(i), `tx${i}`, anchorEvent(`tx${i}`, T0 + i * 100_000));
    await until('all events', () => applied.length >= 10);
    assert.deepEqual(skipped, ['tx4'], 'the event whose checkpoint was lost is redelivered and recognised');
    assert.deepEqual(
      applied,
      Array.from({ length: 10 }, (_, i) => `tx${i + 1}`),
    );
    assert.equal(b.processed, 10, 'the persisted count continues across the restart');
  });

  it('a crash while raising an alert (after the ledger recorded it): the event is re-applied, the same alert id is met as CONFLICT and no second alert exists', async () => {
    const chain = new FakeChain();
    const ledger = alertLedger();
    const dir = tmp();
    for (let i = 1; i <= 4; i++) chain.append(BigInt(i), `tx${i}`, anchorEvent(`tx${i}`, T0 + i * 1000));
    const ref: { m?: Monitor } = {};
    let crashed = false;
    const real = ledger.handlers.get('alert:RaiseAlert')!;
    ledger.on('alert:RaiseAlert', (c) => {
      const out = real(c);
      if (!crashed) {
        crashed = true;
        void ref.m!.stop(); // the process dies right after the ledger committed the alert
        throw new ApiError(503, 'connection lost', 'fabric-unavailable');
      }
      return out;
    });
    const a = (ref.m = monitor(chain, ledger, dir));
    await a.start();
    await a.done();
    assert.equal(a.processed, 3, 'the 4th event was not applied');
    assert.equal(ledger.alerts.size, 1);
    const b = monitor(chain, ledger, dir);
    const pushed: { alertId: string; existing: boolean }[] = [];
    b.subscribe((x) => pushed.push({ alertId: x.alertId, existing: x.existing }));
    await b.start();
    await until('the 4th event', () => b.processed === 4);
    assert.equal(ledger.alerts.size, 1, 'still one alert on the ledger');
    assert.deepEqual(pushed, [{ alertId: alertIdOf('rate-spike', 'THING', 'watch-1', 'tx1'), existing: true }]);
    assert.equal(ledger.submits('alert:RaiseAlert').length, 2);
    const reg = new client.Registry();
    b.registerMetrics(reg);
    assert.doesNotMatch(await reg.metrics(), /mvsec_monitor_alert_failures_total\{/);
  });

  it('first start pins the current height (nothing lost before the first event); ignores other event names and unreadable payloads', async () => {
    const chain = new FakeChain();
    chain.append(1n, 'old', anchorEvent('old', T0));
    const ledger = alertLedger();
    const dir = tmp();
    const seen: string[] = [];
    const m = new Monitor({
      rules: RULES,
      ledger,
      identity: MONITOR,
      source: chain,
      stateDir: dir,
      log: () => {},
      onProcessed: (e) => seen.push(e.transactionId),
    });
    running.push(m);
    await m.start();
    assert.equal(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).blockNumber, '2');
    chain.append(2n, 'other', 'x', 'some.other');
    chain.append(3n, 'junk', '{not json');
    chain.append(4n, 'new', anchorEvent('new', T0));
    await until('3 events', () => seen.length === 3);
    assert.deepEqual(seen, ['other', 'junk', 'new']);
    assert.equal(ledger.submits().length, 0);
  });

  it('metrics: events processed, last block, lag behind the chain height, alerts by rule', async () => {
    const chain = new FakeChain();
    const ledger = alertLedger();
    const reg = new client.Registry();
    const m = monitor(chain, ledger, tmp());
    m.registerMetrics(reg);
    await m.start();
    for (let i = 1; i <= 4; i++) chain.append(BigInt(i), `tx${i}`, anchorEvent(`tx${i}`, T0 + i));
    await until('4 events', () => m.processed === 4);
    chain.heightValue = 12n; // 7 blocks without monitor events committed after block 4
    const text = await reg.metrics();
    assert.match(text, /^mvsec_monitor_events_total 4$/m);
    assert.match(text, /^mvsec_monitor_last_block 4$/m);
    assert.match(text, /^mvsec_monitor_lag_blocks 7$/m);
    assert.match(text, /^mvsec_monitor_alerts_total\{rule="rate-spike",severity="CRITICAL"\} 1$/m);
  });

  it('a permanent refusal (e.g. INVALID) is counted and logged, and the stream goes on', async () => {
    const chain = new FakeChain();
    const ledger = new FakeLedger().on('alert:RaiseAlert', () => {
      throw fromChaincode('NOT_FOUND', 'thing watch-1');
    });
    const logs: string[] = [];
    const reg = new client.Registry();
    const m = new Monitor({
      rules: RULES,
      ledger,
      identity: MONITOR,
      source: chain,
      stateDir: tmp(),
      log: (l) => logs.push(l),
      startBlock: 1n,
    });
    running.push(m);
    m.registerMetrics(reg);
    await m.start();
    for (let i = 1; i <= 5; i++) chain.append(BigInt(i), `tx${i}`, anchorEvent(`tx${i}`, T0 + i));
    await until('5 events', () => m.processed === 5);
    assert.match(await reg.metrics(), /^mvsec_monitor_alert_failures_total\{rule="rate-spike"\} 1$/m);
    assert.ok(logs.some((l) => /refused by the ledger: NOT_FOUND: thing watch-1/.test(l)));
  });

  it('reads the height out of a serialized BlockchainInfo', () => {
    // height 300 (varint ac 02), currentBlockHash (field 2, 2 bytes)
    assert.equal(chainHeight(Uint8Array.from([0x12, 0x02, 0xaa, 0xbb, 0x08, 0xac, 0x02])), 300n);
    assert.equal(chainHeight(new Uint8Array()), 0n);
  });
});

describe('monitor in the gateway', () => {
  it('GET /monitor/alerts reads the ledger as the caller (monitor/auditor/admin only); the stream pushes alerts; a 403 is reported as a denial', async () => {
    const ledger = alertLedger();
    ledger.on('alert:ListOpenAlerts', () => ({ items: [{ alertId: 'a1' }], bookmark: '' }));
    ledger.on('alert:ListAlertsBySubject', (c) => ({ items: [{ subject: c.args.slice(0, 2) }], bookmark: '' }));
    ledger.on('thing:GetThing', () => {
      throw new Error('chaincode response 500, DENIED: nope');
    });
    const chain = new FakeChain();
    const m = new Monitor({ rules: RULES, ledger, identity: MONITOR, source: chain, stateDir: tmp(), log: () => {}, startBlock: 1n });
    await m.start();
    const gw = await startTestGateway({}, { ledger, monitor: m });
    try {
      const auditor = await gw.tokenFor('auditor');
      const user = await gw.tokenFor('user', 'MetaverseAMSP', 'mallory');
      const open = await gw.request('GET', '/monitor/alerts', { token: auditor });
      assert.equal(open.status, 200);
      assert.deepEqual(open.body.items, [{ alertId: 'a1' }]);
      const call = ledger.calls.find((c) => c.fn === 'alert:ListOpenAlerts')!;
      assert.equal(call.caller.role, 'auditor');
      assert.deepEqual(call.args, ['50', '']);
      const bySubject = await gw.request('GET', '/monitor/alerts?subjectType=THING&subjectId=w1&pageSize=5', { token: auditor });
      assert.deepEqual(bySubject.body.items, [{ subject: ['THING', 'w1'] }]);
      assert.equal((await gw.request('GET', '/monitor/alerts?subjectType=THING', { token: auditor })).status, 400);
      assert.equal((await gw.request('GET', '/monitor/alerts', { token: user })).status, 403);

      // live stream
      const ctrl = new AbortController();
      const res = await fetch(`${gw.url}/monitor/alerts/stream`, { headers: { authorization: `Bearer ${auditor}` }, signal: ctrl.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const readUntil = async (re: RegExp) => {
        while (!re.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended: ${text}`);
          text += Buffer.from(value).toString('utf8');
        }
      };
      await readUntil(/mvsec monitor alerts/);
      await until('a subscriber', () => m.subscriberCount === 1);

      // the user was refused /monitor/alerts (403) and is now refused twice by the ledger → more than 1 denial in 60 s
      for (let i = 0; i < 2; i++) assert.equal((await gw.request('GET', '/r1/things/t-1', { token: user })).status, 403);
      await m.drain();
      const raised = ledger.submits('alert:RaiseAlert').map((c) => JSON.parse(c.args[0]));
      assert.equal(raised.length, 1, 'one alert per window');
      assert.equal(raised[0].subjectType, 'PRINCIPAL');
      assert.equal(raised[0].subjectId, 'mallory@MetaverseAMSP');
      assert.equal(raised[0].rule, 'denials');
      await readUntil(/event: alert\nid: denials-[0-9a-f]{32}\ndata: \{.*\}\n\n/);
      const data = JSON.parse(/data: (\{.*\})\n/.exec(text)![1]);
      assert.equal(data.alertId, raised[0].alertId);
      assert.equal(data.existing, false);
      ctrl.abort();
      await until('the subscriber left', () => m.subscriberCount === 0);

      const metrics = await gw.request('GET', '/metrics');
      assert.match(metrics.body as string, /^mvsec_monitor_denials_total 3$/m);
      assert.match(metrics.body as string, /^mvsec_monitor_alerts_total\{rule="denials",severity="WARNING"\} 1$/m);
      const openapi = await gw.request('GET', '/openapi.json');
      assert.ok(openapi.body.paths['/monitor/alerts/stream'], 'documented in OpenAPI');
    } finally {
      await gw.close();
      await m.stop();
    }
  });
});
