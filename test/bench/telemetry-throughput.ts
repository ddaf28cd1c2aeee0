/**
 * R1 telemetry throughput (issue 5, Performance): signed readings accepted and anchored per second
 * through the real gateway (HTTP, ECDSA P-256 verification per reading, replay rule, batches of
 * `BENCH_BATCH` readings or 1 s anchored with one data:AnchorBatch each), with the p95 time from a
 * reading's acceptance to its batch's commit — against committed transactions per second of one
 * reading per transaction (data:AnchorData of the reading's fingerprint) on the same network, same
 * gateway, same identity. Signing happens before the clock starts (the things sign, not the gateway).
 *
 *   MVSEC_DATA_DIR=… MVSEC_PORT_OFFSET=… npx tsx test/bench/telemetry-throughput.ts
 *
 * Knobs: BENCH_READINGS (default 40000), BENCH_THINGS (8), BENCH_PER_REQUEST (500), BENCH_BATCH (1000),
 * BENCH_TX (one-per-tx transactions, 400), BENCH_CONCURRENCY (in flight for the baseline, 32).
 * The last line of the output is JSON.
 */
import '../../scripts/lib/test-env.js';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { availableParallelism } from 'node:os';
import type { Caller } from '../../gateway/src/auth/principal.js';
import { readingBytes } from 'mvsec-protocol';
import { signBytes, signReadingSet } from '../../gateway/src/r1-things/telemetry/signature.js';
import { startLiveGateway, type Client } from '../integration/gateway-support.js';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const READINGS = env('BENCH_READINGS', 40_000);
const THINGS = env('BENCH_THINGS', 8);
const PER_REQUEST = env('BENCH_PER_REQUEST', 500);
const BATCH = env('BENCH_BATCH', 1000);
const TX = env('BENCH_TX', 400);
const CONCURRENCY = env('BENCH_CONCURRENCY', 32);
type Signing = 'set' | 'reading';
/** BENCH_SIGNING: set (one signature per request), reading (one per reading), or both, measured in this order. */
const MODES = (process.env.BENCH_SIGNING ?? 'set,reading').split(',').map((m) => m.trim()) as Signing[];
if (!MODES.every((m) => m === 'set' || m === 'reading')) throw new Error('BENCH_SIGNING: set, reading or set,reading');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const asCaller = (c: Client): Caller => ({ principal: c.principal, mspId: c.mspId, role: c.role, issuer: 'gateway', amr: ['pwd'] });

const gw = await startLiveGateway({ telemetry: { batchMaxReadings: BATCH, batchMaxWaitMs: 1000 } });
try {
  const r = gw.run;
  const [iotAdmin, alice] = await Promise.all([gw.as('IoTPlatformMSP', 'admin'), gw.as('IoTPlatformMSP', 'creator')]);
  const iot = `bt-iot-${r}`;
  const p = await iotAdmin.call('POST', '/r5/platforms', { platformId: iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 });
  if (p.status !== 201) throw new Error(JSON.stringify(p.body));
  const perThing = Math.floor(READINGS / THINGS);
  const total = perThing * THINGS;

  /** Register fresh things, sign (before the clock), post, wait until every batch committed. */
  const measure = async (mode: Signing) => {
    const things: { id: string; key: KeyObject }[] = [];
    for (let i = 0; i < THINGS; i++) {
      const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const id = `bt-${mode}${i}-${r}`;
      const t = await alice.call('POST', '/r1/things', {
        thingId: id,
        platformId: iot,
        kind: 'DEVICE',
        accessMode: 'AUTONOMOUS',
        publicKey: k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        classification: 'CONFIDENTIAL',
        policy: { storage: 'ON_PLATFORM', purposes: ['analytics'], encryptionRequired: true },
      });
      if (t.status !== 201) throw new Error(JSON.stringify(t.body));
      things.push({ id, key: k.privateKey });
    }

    // The things sign before the clock starts, yielding to the event loop between requests: signing takes
    // seconds on a loaded machine, and the server must be able to close its idle keep-alive sockets meanwhile
    // (otherwise the client reuses a socket the server closes at that very moment: ECONNRESET).
    const bodies: { id: string; reqs: string[] }[] = [];
    for (const { id, key } of things) {
      const reqs: string[] = [];
      for (let start = 0; start < perThing; start += PER_REQUEST) {
        await new Promise((resolve) => setImmediate(resolve));
        const readings = [];
        for (let seq = start; seq < Math.min(perThing, start + PER_REQUEST); seq++)
          readings.push({ seq, time: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(), sensor: 'wrist', value: [seq % 100, 0.25, -1] });
        reqs.push(
          JSON.stringify(
            mode === 'set'
              ? { readings, setSignature: signReadingSet(key, id, readings) }
              : { readings: readings.map((x) => ({ ...x, signature: signBytes(key, readingBytes({ thingId: id, ...x })) })) },
          ),
        );
      }
      bodies.push({ id, reqs });
    }
    console.log(
      `[${mode}] signed ${total} readings of ${THINGS} things (${mode === 'set' ? 'one signature per request' : 'one signature per reading'}); posting ${PER_REQUEST} per request, ${THINGS} requests in flight, batches of ${BATCH} or 1 s`,
    );

    const before = { ...gw.telemetry.stats, timeToAnchorMs: gw.telemetry.stats.timeToAnchorMs.length };
    // BENCH_PROFILE=<file>: a CPU profile of the main thread while accepting (open it in Chrome DevTools).
    const profiler = process.env.BENCH_PROFILE ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      bodies.map(async ({ id, reqs }) => {
        for (const body of reqs) {
          const res = await fetch(`${gw.url}/r1/things/${id}/readings`, {
            method: 'POST',
            headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', accept: 'application/json' },
            body,
          });
          if (res.status !== 202) throw new Error(`${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      }),
    );
    const tAccepted = performance.now();
    // CPU of this process (gateway with its worker threads, and the posting client) while accepting:
    // what a reading costs, independently of how much of the shared machine the process got.
    const cpu = process.cpuUsage(c0);
    const cpuUsPerReading = (cpu.user + cpu.system) / total;
    const coresUsed = (cpu.user + cpu.system) / 1000 / (tAccepted - t0);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(`${process.env.BENCH_PROFILE}.${mode}.cpuprofile`, JSON.stringify(profile));
      profiler.disconnect();
    }
    await gw.telemetry.flush();
    const tAnchored = performance.now();
    const s = gw.telemetry.stats;
    const batches = s.batchesAnchored - before.batchesAnchored;
    if (s.batchesRefused !== before.batchesRefused) throw new Error(`${s.batchesRefused - before.batchesRefused} batches refused`);
    const latencies = s.timeToAnchorMs.slice(before.timeToAnchorMs);
    const acceptedPerSec = total / ((tAccepted - t0) / 1000);
    const anchoredPerSec = total / ((tAnchored - t0) / 1000);
    const p50 = pct(latencies, 50);
    const p95 = pct(latencies, 95);
    console.log(
      `[${mode}] process CPU while accepting: ${cpuUsPerReading.toFixed(0)} µs per reading, ${coresUsed.toFixed(2)} cores busy on average (of ${availableParallelism()})`,
    );
    console.log(
      `[${mode}] ${total} readings accepted in ${((tAccepted - t0) / 1000).toFixed(2)} s (${acceptedPerSec.toFixed(0)}/s), all anchored after ${((tAnchored - t0) / 1000).toFixed(2)} s (${anchoredPerSec.toFixed(0)}/s) in ${batches} AnchorBatch transactions; time to anchor p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms`,
    );
    return {
      acceptedPerSec: Math.round(acceptedPerSec),
      anchoredPerSec: Math.round(anchoredPerSec),
      cpuUsPerReading: Math.round(cpuUsPerReading),
      coresUsed: Number(coresUsed.toFixed(2)),
      anchorTxs: batches,
      timeToAnchorP50Ms: Math.round(p50),
      timeToAnchorP95Ms: Math.round(p95),
      things: things.map((t) => t.id),
    };
  };

  const results: Partial<Record<Signing, Awaited<ReturnType<typeof measure>>>> = {};
  for (const mode of MODES) results[mode] = await measure(mode);
  const things = Object.values(results).flatMap((x) => x.things.map((id) => ({ id })));

  // Baseline: one reading per transaction (AnchorData of the reading's fingerprint), same gateway ledger, same identity.
  const caller = asCaller(alice);
  const oneTx = (i: number) =>
    gw.ledger.submit(caller, 'data:AnchorData', [
      JSON.stringify({
        dataId: `bt-r-${r}-${i}`,
        thingId: things[i % THINGS].id,
        sha256: createHash('sha256').update(`reading ${i}`).digest('hex'),
        size: 64,
        category: 'reading',
        classification: 'CONFIDENTIAL',
        storage: { placement: 'ON_PLATFORM', storeId: 'local', uri: `local://bt-r-${r}-${i}` },
        keyId: 'k1',
        encrypted: true,
      }),
    ]);
  for (let i = 0; i < 16; i++) await oneTx(TX + i); // warm-up (ids after the measured ones)
  let next = 0;
  const b0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TX) await oneTx(next++);
    }),
  );
  const perTxPerSec = TX / ((performance.now() - b0) / 1000);
  console.log(
    `one reading per transaction (data:AnchorData): ${TX} committed in ${((performance.now() - b0) / 1000).toFixed(2)} s = ${perTxPerSec.toFixed(1)} readings/s`,
  );
  const summary: Record<string, unknown> = { readings: total, things: THINGS, perRequest: PER_REQUEST, batch: BATCH };
  for (const [mode, x] of Object.entries(results)) {
    const { things: _t, ...figures } = x;
    const ratio = x.anchoredPerSec / perTxPerSec;
    console.log(`[${mode}] ratio (batched, accepted and anchored / one per transaction): ${ratio.toFixed(1)}×`);
    summary[mode] = { ...figures, ratio: Number(ratio.toFixed(1)) };
  }
  summary.oneReadingPerTxPerSec = Number(perTxPerSec.toFixed(1));
  console.log(JSON.stringify(summary));
} finally {
  await gw.close();
}
