/**
 * Benchmark (issue 4): the same domain write (platform:RegisterPlatform) through the gateway's
 * REST API and through a raw @hyperledger/fabric-gateway client, same network, same org and peer,
 * same concurrency, in one run. Prints committed tx/s and p50/p95 latency of each and the ratios.
 *
 * Run against a network of its own:
 *   MVSEC_DATA_DIR=$PWD/.data-bench MVSEC_PORT_OFFSET=10000 npx tsx scripts/network.ts up
 *   MVSEC_DATA_DIR=$PWD/.data-bench MVSEC_PORT_OFFSET=10000 npx tsx test/bench/gateway-vs-raw.ts [count] [concurrency]
 */
import '../../scripts/lib/test-env.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectAs, contractOf, newUser, org } from '../integration/support/network.js';

const COUNT = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const ROUNDS = 2; // alternate raw / gateway twice so drift affects both alike

interface Stats {
  txPerSecond: number;
  p50: number;
  p95: number;
}

async function measure(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await one(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { txPerSecond: count / seconds, p50: pct(50), p95: pct(95) };
}

async function main(): Promise<void> {
  const iot = org('IoTPlatformMSP');
  // The gateway runs in a process of its own, as deployed; this process is only its HTTP client.
  const child = fork(fileURLToPath(new URL('./support/gateway-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const gw = await new Promise<{ url: string; token: string; run: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; token: string; run: string }));
    child.once('exit', (code) => reject(new Error(`gateway process exited (${code}) before it was ready`)));
  });
  const rawUser = await newUser(iot, { role: 'admin' });
  const raw = connectAs(iot, rawUser.name);
  const platform = contractOf(raw, 'platform');
  const body = (prefix: string, i: number) => ({
    platformId: `${prefix}-${gw.run}-${i}`,
    type: 'IOT',
    name: `bench ${i}`,
    capabilityLevel: 1,
  });

  const viaRaw = (round: number) => async (i: number) => {
    await platform.submitTransaction('RegisterPlatform', JSON.stringify(body(`raw${round}`, i)));
  };
  const viaGateway = (round: number) => async (i: number) => {
    const r = await fetch(`${gw.url}/r5/platforms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body(`gw${round}`, i)),
    });
    const text = await r.text();
    if (r.status !== 201) throw new Error(`gateway answered ${r.status}: ${text}`);
  };

  try {
    await measure(20, 4, viaRaw(-1)); // warm-up: connections, chaincode, JIT
    await measure(20, 4, viaGateway(-1));
    const rawRuns: Stats[] = [];
    const gwRuns: Stats[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rawRuns.push(await measure(COUNT, CONCURRENCY, viaRaw(round)));
      gwRuns.push(await measure(COUNT, CONCURRENCY, viaGateway(round)));
    }
    const avg = (xs: Stats[], k: keyof Stats) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    const r = { tps: avg(rawRuns, 'txPerSecond'), p50: avg(rawRuns, 'p50'), p95: avg(rawRuns, 'p95') };
    const g = { tps: avg(gwRuns, 'txPerSecond'), p50: avg(gwRuns, 'p50'), p95: avg(gwRuns, 'p95') };
    console.log(`platform:RegisterPlatform, ${COUNT} tx x ${ROUNDS} rounds each, ${CONCURRENCY} in flight`);
    console.log(`raw fabric-gateway client: ${r.tps.toFixed(1)} tx/s, p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms`);
    console.log(`gateway REST API:          ${g.tps.toFixed(1)} tx/s, p50 ${g.p50.toFixed(0)} ms, p95 ${g.p95.toFixed(0)} ms`);
    console.log(
      `ratio gateway/raw: throughput ${(g.tps / r.tps).toFixed(2)}x (goal >= 0.9), p95 ${(g.p95 / r.p95).toFixed(2)}x (goal <= 1.2)`,
    );
  } finally {
    raw.close();
    child.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
