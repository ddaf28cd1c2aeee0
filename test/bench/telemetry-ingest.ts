/**
 * R1 telemetry ingest path without the network (issue 5 profiling): where the gateway's CPU goes for
 * signed readings — JSON parsing, zod validation, canonical encoding, SHA-256 leaves, ECDSA P-256
 * verification (one thread, the libuv pool, the worker pool) and a whole TelemetryService.ingest
 * against a ledger double (replay mark persisted to a temporary state dir). Profile it with
 * `node --import tsx --cpu-prof test/bench/telemetry-ingest.ts`.
 *
 * Knobs: BENCH_READINGS (20000), BENCH_PER_REQUEST (500). The last line is JSON (µs per reading).
 */
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Caller } from '../../gateway/src/auth/principal.js';
import type { Ledger } from '../../gateway/src/ledger/ledger.js';
import { parseJson } from '../../gateway/src/http/representation.js';
import { validate } from '../../gateway/src/http/routes.js';
import { Readings } from '../../gateway/src/r1-things/telemetry/routes.js';
import { canonicalJson, leafOf, readingBytes } from 'mvsec-protocol';
import { VerifyPool } from '../../gateway/src/r1-things/telemetry/verify-pool.js';
import { TelemetryService, type IncomingReading } from '../../gateway/src/r1-things/telemetry/service.js';
import { signBytes, signReadingSet } from 'mvsec-client';
import { decodeSignature, parsePublicKey, verifyReading } from '../../gateway/src/r1-things/telemetry/signature.js';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const READINGS = env('BENCH_READINGS', 20_000);
const PER_REQUEST = env('BENCH_PER_REQUEST', 500);
const THINGS = 4;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicText = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
const key = parsePublicKey(publicText);
// THINGS things (one key), each with its own requests of PER_REQUEST readings.
const perThing = Math.floor(READINGS / THINGS);
const lanes: { thingId: string; raws: Buffer[]; setRaws: Buffer[] }[] = [];
for (let t = 0; t < THINGS; t++) {
  const thingId = `bench-thing-${t}`;
  const raws: Buffer[] = [];
  const setRaws: Buffer[] = [];
  for (let start = 0; start < perThing; start += PER_REQUEST) {
    const readings = [];
    for (let seq = start; seq < Math.min(perThing, start + PER_REQUEST); seq++)
      readings.push({ seq, time: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(), sensor: 'wrist', value: [seq % 100, 0.25, -1] });
    raws.push(
      Buffer.from(
        JSON.stringify({ readings: readings.map((x) => ({ ...x, signature: signBytes(privateKey, readingBytes({ thingId, ...x })) })) }),
      ),
    );
    setRaws.push(Buffer.from(JSON.stringify({ readings, setSignature: signReadingSet(privateKey, thingId, readings) })));
  }
  lanes.push({ thingId, raws, setRaws });
}
const raws = lanes.flatMap((l) => l.raws);
const thingOf = lanes.flatMap((l) => l.raws.map(() => l.thingId));

// Wall time is at the mercy of the other work on a shared machine; CPU time (all threads of the
// process: main, libuv pool, workers) is what a reading costs. Each step runs ROUNDS times after a
// warm-up: the best wall time and the least CPU time are reported (the least disturbed round).
const ROUNDS = env('BENCH_ROUNDS', 3);
const results: Record<string, { wallUs: number; cpuUs: number }> = {};
async function time(name: string, f: () => unknown): Promise<void> {
  await f(); // warm-up
  let wallUs = Infinity;
  let cpuUs = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    wallUs = Math.min(wallUs, ((performance.now() - t0) * 1000) / READINGS);
    const c = process.cpuUsage(c0);
    cpuUs = Math.min(cpuUs, (c.user + c.system) / READINGS);
  }
  results[name] = { wallUs: Number(wallUs.toFixed(2)), cpuUs: Number(cpuUs.toFixed(2)) };
  console.log(
    `${name.padEnd(36)} wall ${wallUs.toFixed(2).padStart(8)} µs/reading (${(1e6 / wallUs).toFixed(0).padStart(6)}/s)   cpu ${cpuUs.toFixed(2).padStart(8)} µs/reading`,
  );
}

const parsed = raws.map((r) => parseJson(r));
const bodies = parsed.map((p) => validate(Readings, p, 'body').readings as IncomingReading[]);
const all = bodies.flatMap((b, i) => b.map((r) => ({ thingId: thingOf[i], ...r })));
const bytes = all.map((r) => readingBytes({ thingId: r.thingId, seq: r.seq, time: r.time, sensor: r.sensor, value: r.value }));

await time('JSON parse (parseJson)', () => raws.forEach((r) => parseJson(r)));
await time('validation (Readings)', () => parsed.forEach((p) => validate(Readings, p, 'body')));
await time('canonical bytes', () => all.forEach((r) => readingBytes(r)));
await time('SHA-256 leaves', () => bytes.forEach((b) => leafOf(b)));
await time('verify, sync, one thread', () =>
  all.forEach((r, i) => {
    const s = decodeSignature(r.signature!)!;
    if (!verify('sha256', bytes[i], { key, dsaEncoding: s.encoding }, s.bytes)) throw new Error('bad');
  }),
);
await time('verify, libuv pool (callbacks)', () => Promise.all(all.map((r, i) => verifyReading(key, bytes[i], r.signature!))));
const pool = new VerifyPool();
const texts = bodies.map((b, i) => b.map((r) => canonicalJson({ thingId: thingOf[i], ...r, signature: undefined })));
await time(`verify + leaves, worker pool (${availableParallelism()})`, () =>
  Promise.all(
    bodies.map((b, i) =>
      pool.verify(
        key,
        texts[i],
        b.map((r) => r.signature!),
      ),
    ),
  ).then((rs) => {
    if (rs.some((r) => r.ok.includes(false))) throw new Error('bad');
  }),
);
const setSignatures = lanes.flatMap((l) => l.setRaws.map((raw) => (JSON.parse(raw.toString()) as { setSignature: string }).setSignature));
await time(`signed sets: leaves + root + 1 verify, pool`, () =>
  Promise.all(bodies.map((_, i) => pool.verifySet(key, thingOf[i], texts[i], setSignatures[i]))).then((rs) => {
    if (rs.some((r) => !r.ok)) throw new Error('bad');
  }),
);
await pool.close();

const caller: Caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator', issuer: 'gateway', amr: ['pwd'] };
const ledger = {
  evaluate: async (_c: Caller, fn: string, args: string[]) =>
    fn === 'thing:GetThing'
      ? { thingId: args[0], status: 'ACTIVE', accessMode: 'AUTONOMOUS', publicKey: publicText }
      : { allowed: true, reason: 'ok' },
  submit: async () => ({ txId: 'tx', result: {} }),
  ready: async () => ({ ready: true, detail: 'bench' }),
  close: () => {},
} as unknown as Ledger;
// Whole path: the things post at once, one request each in flight (as the network bench does).
for (const mode of ['reading', 'set'] as const)
  await time(`ingest (whole path, ${THINGS} in flight, ${mode === 'set' ? 'signed sets' : 'signed readings'})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvsec-ingest-'));
    const svc = TelemetryService.inStateDir(dir, { ledger, sealKey: randomBytes(32), batchMaxReadings: 1000, log: () => {} });
    try {
      await Promise.all(
        lanes.map(async ({ thingId, raws, setRaws }) => {
          for (const raw of mode === 'set' ? setRaws : raws) {
            const body = validate(Readings, parseJson(raw), 'body');
            await svc.ingest(caller, thingId, body.readings as IncomingReading[], body.setSignature);
          }
        }),
      );
      await svc.flush();
    } finally {
      svc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
console.log(JSON.stringify({ readings: READINGS, perRequest: PER_REQUEST, usPerReading: results }));
