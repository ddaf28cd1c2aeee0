/**
 * Benchmark (not a test): does the real-time monitor keep up with the network at full load?
 * The monitor (in-process, as in the gateway: its own `monitor` identity, fabric-gateway chaincode
 * events with the durable file checkpointer, the shipped rules of gateway/monitor-rules.json with
 * the rate rule's threshold raised so the load itself is not suspended) follows the chain while
 * BENCH_TX `data:AnchorData` transactions are submitted as fast as the network commits them
 * (BENCH_CONCURRENCY in flight, each awaited to commit). Every 200 ms it samples the channel
 * height, transactions committed and events the monitor has applied. Reports:
 *   - commit rate (committed tx/s over the load window) and the monitor's event rate over the same
 *     window, and their ratio (1.0 = keeps up);
 *   - lag during the load: events behind (committed − applied) and blocks behind
 *     (height − 1 − block of the last applied event), p50 and max;
 *   - catch-up: time from the last commit to the monitor having applied every event.
 *
 * Run against a running network (it starts nothing):
 *   MVSEC_DATA_DIR=$PWD/.data-h2 MVSEC_PORT_OFFSET=30000 npx tsx test/bench/monitor-lag.ts
 * Knobs: BENCH_TX (2000), BENCH_CONCURRENCY (48). The last line is JSON.
 */
import '../integration/support/network.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Caller } from '../../gateway/src/auth/principal.js';
import { FabricLedger } from '../../gateway/src/fabric/fabric-ledger.js';
import { IdentityService } from '../../gateway/src/fabric/identities.js';
import { fabricEventSource } from '../../gateway/src/monitor/fabric-source.js';
import { Monitor } from '../../gateway/src/monitor/monitor.js';
import { loadRules } from '../../gateway/src/monitor/rules.js';
import { anchorInput, buildWorld, channelHeight, IOT, statusName } from '../integration/support/domain.js';
import { topology } from '../integration/support/network.js';

const TX = Number(process.env.BENCH_TX ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 48);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : 0;
};

async function main(): Promise<void> {
  const w = await buildWorld('bench-mon');
  const dirs = [mkdtempSync(join(tmpdir(), 'mvsec-bench-mon-')), mkdtempSync(join(tmpdir(), 'mvsec-bench-mon-'))];
  const identities = new IdentityService(topology, randomBytes(32), dirs[0]);
  const ledger = new FabricLedger(topology, identities);
  const identity: Caller = { principal: `monitor-${w.run}`, mspId: IOT, role: 'monitor', issuer: 'gateway', amr: [] };
  const source = await fabricEventSource(topology, identities, identity);
  const rules = loadRules(fileURLToPath(new URL('../../gateway/monitor-rules.json', import.meta.url))).map((r) =>
    r.type === 'rate' ? { ...r, max: 1_000_000_000 } : r,
  );
  let applied = 0;
  let lastBlock = -1n;
  const ourTx = new Set<string>();
  let appliedOurs = 0;
  const monitor = new Monitor({
    rules,
    ledger,
    identity,
    source,
    stateDir: dirs[1],
    log: (l) => console.error(l),
    onProcessed: (e) => {
      applied++;
      lastBlock = e.blockNumber;
      if (ourTx.has(e.transactionId)) appliedOurs++;
    },
  });
  try {
    await monitor.start();
    const contract = w.alice.cc('data');
    let next = 0;
    let committed = 0;
    let failed = 0;
    const invalid: Record<string, number> = {};
    const samples: { t: number; lagEvents: number; lagBlocks: number }[] = [];
    let loading = true;
    const t0 = Date.now();
    const sampler = (async () => {
      while (loading) {
        const h = await channelHeight(w.iotAdmin.conn);
        const lb = lastBlock < 0n ? h - 1n : lastBlock;
        samples.push({ t: Date.now() - t0, lagEvents: Math.max(0, committed - appliedOurs), lagBlocks: Math.max(0, Number(h - 1n - lb)) });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    let appliedAtEnd = 0;
    const worker = async () => {
      for (let i = next++; i < TX; i = next++) {
        try {
          const tx = await contract
            .newProposal('AnchorData', { arguments: [JSON.stringify(anchorInput(w, `mon-${w.run}-${i}`))] })
            .endorse();
          ourTx.add(tx.getTransactionId());
          const status = await (await tx.submit()).getStatus();
          if (status.successful) committed++;
          else invalid[statusName(status.code)] = (invalid[statusName(status.code)] ?? 0) + 1;
        } catch (e) {
          failed++;
          if (failed <= 3) console.error(`#${i}: ${(e as Error).message.split('\n')[0]}`);
        }
        if (committed && committed % 500 === 0) console.error(`  ${committed}/${TX} committed, monitor applied ${appliedOurs}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const loadMs = Date.now() - t0;
    appliedAtEnd = appliedOurs;
    // catch-up: until every committed transaction's event was applied
    const deadline = Date.now() + 300_000;
    while (appliedOurs < committed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const catchUpMs = Date.now() - t0 - loadMs;
    loading = false;
    await sampler;

    const during = samples.filter((s) => s.t <= loadMs);
    const result = {
      transactions: TX,
      concurrency: CONCURRENCY,
      committed,
      failed,
      invalid,
      loadSeconds: +(loadMs / 1000).toFixed(2),
      commitRate: +(committed / (loadMs / 1000)).toFixed(1),
      monitorRate: +(appliedAtEnd / (loadMs / 1000)).toFixed(1),
      ratio: +(appliedAtEnd / committed).toFixed(3),
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
      eventsApplied: applied,
    };
    console.log(
      [
        `${committed} AnchorData transactions committed in ${result.loadSeconds} s (${CONCURRENCY} in flight): commit rate ${result.commitRate} tx/s`,
        `monitor over the same window: ${appliedAtEnd} events applied, ${result.monitorRate} events/s — ratio ${result.ratio}`,
        `lag during the load (sampled every 200 ms): events behind p50 ${result.lagEventsP50}, max ${result.lagEventsMax}; blocks behind p50 ${result.lagBlocksP50}, max ${result.lagBlocksMax}`,
        `catch-up after the last commit: ${catchUpMs} ms${result.allApplied ? '' : ' (NOT every event applied before the deadline)'}`,
      ].join('\n'),
    );
    console.log(JSON.stringify(result));
  } finally {
    await monitor.stop();
    source.close();
    ledger.close();
    w.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
