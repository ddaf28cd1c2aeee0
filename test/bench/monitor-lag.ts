/**
 * Benchmark (not a test): does the real-time monitor keep up with the network at full load?
 * The monitor (in this process, as in the gateway: its own `monitor` identity, fabric-gateway
 * chaincode events with the durable file checkpointer, the shipped rules of
 * gateway/monitor-rules.json unchanged) follows the chain while a separate Node process (as other
 * clients would be) submits BENCH_TX `data:AnchorData` transactions as fast as the network commits
 * them (BENCH_CONCURRENCY in flight, each awaited to commit), spread over BENCH_THINGS things so the
 * shipped rate rule (more than 100 records of one thing in 60 s) does not suspend the load. Every
 * 200 ms it samples the channel height, the transactions committed (reported by the load process)
 * and the events the monitor has applied. Reports:
 *   - commit rate (committed tx/s over the load window) and the monitor's event rate over the same
 *     window, and their ratio (1.0 = keeps up);
 *   - lag during the load: events behind (committed − applied) and blocks behind
 *     (height − 1 − block of the last applied event), p50 and max;
 *   - catch-up: time from the last commit to the monitor having applied every event;
 *   - capacity: a second, fresh monitor replays the same blocks with nothing else running
 *     (events/s, and that over the commit rate = headroom).
 *
 * Run against a running network (it starts nothing):
 *   MVSEC_DATA_DIR=$PWD/.data-h2 MVSEC_PORT_OFFSET=30000 npx tsx test/bench/monitor-lag.ts
 * Knobs: BENCH_TX (2000), BENCH_CONCURRENCY (48), BENCH_THINGS (40). The last line is JSON.
 */
import '../integration/support/network.js';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Caller } from '../../gateway/src/auth/principal.js';
import { FabricLedger } from '../../gateway/src/ledger/fabric-ledger.js';
import { IdentityService } from '../../gateway/src/ledger/identities.js';
import { fabricEventSource } from '../../gateway/src/monitor/fabric-source.js';
import { Monitor } from '../../gateway/src/monitor/monitor.js';
import { loadRules } from '../../gateway/src/monitor/rules.js';
import { anchorInput, buildWorld, IOT, ok, statusName } from '../integration/support/domain.js';
import { gatewayNetwork } from '../integration/support/network.js';

const TX = Number(process.env.BENCH_TX ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 48);
/** Load spread over this many things so the shipped rate rule (100 records per thing per minute) does not fire. */
const THINGS = Number(process.env.BENCH_THINGS ?? 40);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : 0;
};

/** Child process: the load (its own Node process, as other clients would be), reporting progress over IPC. */
async function child(): Promise<void> {
  const w = await buildWorld('bench-mon');
  const things = Array.from({ length: THINGS }, (_, i) => `${w.thingId}-${i}`);
  for (const thingId of things)
    await ok(w.alice.cc('thing'), 'RegisterThing', [
      JSON.stringify({
        thingId,
        platformId: w.iotId,
        kind: 'DEVICE',
        accessMode: 'AUTONOMOUS',
        publicKey: `pk-${thingId}`,
        classification: 'CONFIDENTIAL',
        policy: { storage: 'ANY', allowedMetaverses: [w.mvaId], purposes: ['analytics'], encryptionRequired: true },
      }),
    ]);
  const send = (m: unknown) => process.send!(m);
  send({ type: 'ready' });
  await new Promise<void>((r) => process.once('message', () => r()));
  const contract = w.alice.cc('data');
  let next = 0;
  let committed = 0;
  let failed = 0;
  const invalid: Record<string, number> = {};
  const ticker = setInterval(() => send({ type: 'progress', committed }), 100);
  send({ type: 'start' });
  const worker = async () => {
    for (let i = next++; i < TX; i = next++) {
      try {
        const input = { ...anchorInput(w, `mon-${w.run}-${i}`), thingId: things[i % things.length] };
        const tx = await contract.newProposal('AnchorData', { arguments: [JSON.stringify(input)] }).endorse();
        const status = await (await tx.submit()).getStatus();
        if (status.successful) committed++;
        else invalid[statusName(status.code)] = (invalid[statusName(status.code)] ?? 0) + 1;
      } catch (e) {
        failed++;
        if (failed <= 3) console.error(`#${i}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  clearInterval(ticker);
  send({ type: 'done', committed, failed, invalid });
  w.close();
  process.disconnect();
}

interface Msg {
  type: 'ready' | 'start' | 'progress' | 'done';
  committed?: number;
  failed?: number;
  invalid?: Record<string, number>;
}

async function main(): Promise<void> {
  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'mvsec-bench-mon-')));
  const load = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, MVSEC_BENCH_CHILD: '1' }, execArgv: process.execArgv });
  const inbox: Msg[] = [];
  let waiter: (() => void) | undefined;
  let committed = 0;
  load.on('message', (m: Msg) => {
    if (m.type === 'progress') committed = Math.max(committed, m.committed ?? 0);
    else {
      inbox.push(m);
      waiter?.();
    }
  });
  const expect = async (type: Msg['type']) => {
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0];
      await new Promise<void>((r) => (waiter = r));
    }
  };
  await expect('ready');
  const run = randomBytes(4).toString('hex');
  const identities = new IdentityService(gatewayNetwork(), randomBytes(32), dirs[0]);
  const ledger = new FabricLedger(gatewayNetwork(), identities);
  const identity: Caller = { principal: `monitor-${run}`, mspId: IOT, role: 'monitor', issuer: 'gateway', amr: [] };
  const source = await fabricEventSource(gatewayNetwork(), identities, identity);
  const rules = loadRules(fileURLToPath(new URL('../../gateway/monitor-rules.json', import.meta.url)));
  let appliedOurs = 0;
  let lastBlock = -1n;
  const monitor = new Monitor({
    rules,
    ledger,
    identity,
    source,
    stateDir: dirs[1],
    log: (l) => console.error(l),
    onProcessed: (e, payload) => {
      lastBlock = e.blockNumber;
      if (payload?.fn === 'data:AnchorData') appliedOurs++;
    },
  });
  const heightOf = async () => source.height();
  try {
    await monitor.start();
    const firstBlock = await heightOf();
    load.send('go');
    await expect('start');
    const t0 = Date.now();
    const samples: { t: number; lagEvents: number; lagBlocks: number }[] = [];
    let loading = true;
    const sampler = (async () => {
      while (loading) {
        const h = await heightOf();
        const lb = lastBlock < 0n ? h - 1n : lastBlock;
        samples.push({ t: Date.now() - t0, lagEvents: Math.max(0, committed - appliedOurs), lagBlocks: Math.max(0, Number(h - 1n - lb)) });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    let lastLog = 0;
    const progress = setInterval(() => {
      if (committed - lastLog >= 500) {
        lastLog = committed;
        console.error(`  ${committed}/${TX} committed, monitor applied ${appliedOurs}`);
      }
    }, 500);
    const done = await expect('done');
    committed = done.committed ?? committed;
    const loadMs = Date.now() - t0;
    const appliedAtEnd = appliedOurs;
    const deadline = Date.now() + 300_000;
    while (appliedOurs < committed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const catchUpMs = Date.now() - t0 - loadMs;
    loading = false;
    clearInterval(progress);
    await sampler;

    // Capacity: a second monitor replays the same blocks from the load's first block, nothing else running.
    const replaySource = await fabricEventSource(gatewayNetwork(), identities, identity);
    let replayed = 0;
    let replayDone: () => void = () => {};
    const allReplayed = new Promise<void>((r) => (replayDone = r));
    const replay = new Monitor({
      rules,
      ledger,
      identity,
      source: replaySource,
      stateDir: dirs[2],
      startBlock: firstBlock,
      log: (l) => console.error(l),
      onProcessed: (_e, payload) => {
        if (payload?.fn === 'data:AnchorData' && ++replayed === committed) replayDone();
      },
    });
    const r0 = Date.now();
    await replay.start();
    await Promise.race([allReplayed, new Promise((r) => setTimeout(r, 300_000))]);
    const replayMs = Date.now() - r0;
    await replay.stop();
    replaySource.close();

    const during = samples.filter((s) => s.t <= loadMs);
    const result = {
      transactions: TX,
      concurrency: CONCURRENCY,
      things: THINGS,
      committed,
      failed: done.failed,
      invalid: done.invalid,
      loadSeconds: +(loadMs / 1000).toFixed(2),
      commitRate: +(committed / (loadMs / 1000)).toFixed(1),
      monitorRate: +(appliedAtEnd / (loadMs / 1000)).toFixed(1),
      ratio: +(appliedAtEnd / committed).toFixed(3),
      overallRatio: +(loadMs / (loadMs + catchUpMs)).toFixed(3),
      lagEventsP50: pct(
        during.map((s) => s.lagEvents),
        50,
      ),
      lagEventsMax: Math.max(0, ...during.map((s) => s.lagEvents)),
      lagBlocksP50: pct(
        during.map((s) => s.lagBlocks),
        50,
      ),
      lagBlocksMax: Math.max(0, ...during.map((s) => s.lagBlocks)),
      catchUpMs,
      allApplied: appliedOurs === committed,
      alerts: monitor.recentAlerts().length,
      replayEventsPerSecond: +(replayed / (replayMs / 1000)).toFixed(1),
      headroom: +(replayed / (replayMs / 1000) / (committed / (loadMs / 1000))).toFixed(2),
    };
    console.log(
      [
        `${committed} AnchorData transactions on ${THINGS} things committed in ${result.loadSeconds} s (${CONCURRENCY} in flight, load in its own process): commit rate ${result.commitRate} tx/s`,
        `monitor over the same window: ${appliedAtEnd} events applied, ${result.monitorRate} events/s — ratio ${result.ratio}`,
        `lag during the load (sampled every 200 ms): events behind p50 ${result.lagEventsP50}, max ${result.lagEventsMax}; blocks behind p50 ${result.lagBlocksP50}, max ${result.lagBlocksMax}`,
        `catch-up after the last commit: ${catchUpMs} ms${result.allApplied ? '' : ' (NOT every event applied before the deadline)'}; commit rate / (load + catch-up) ratio ${result.overallRatio}; alerts raised ${result.alerts}`,
        `capacity: a fresh monitor replaying those blocks alone applies ${result.replayEventsPerSecond} events/s (${replayed} events in ${replayMs} ms) = ${result.headroom}× the commit rate`,
      ].join('\n'),
    );
    console.log(JSON.stringify(result));
  } finally {
    await monitor.stop();
    source.close();
    ledger.close();
    if (load.connected) load.disconnect();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

(process.env.MVSEC_BENCH_CHILD === '1' ? child() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
