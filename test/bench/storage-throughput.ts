/**
 * Benchmark (not a test): the storage agent's write path — stream a file in, hash it (SHA-256 of
 * the plaintext, the ledger fingerprint), encrypt it (AES-256-GCM records under a fresh data key),
 * hash the stored bytes (content address), write, fsync, rename into place, wrap and store the data
 * key — against a plain streamed copy of the same file to the same disk with the same fsync, in one
 * run. Rounds alternate ABBA (copy, store, store, copy) so machine drift hits both sides alike.
 * Also samples the process RSS during each store and reports the peak growth over the RSS before it.
 *
 *   npx tsx test/bench/storage-throughput.ts            (256 MiB, 2 ABBA pairs)
 *   BENCH_MIB=64 BENCH_PAIRS=1 BENCH_DIR=/some/disk npx tsx test/bench/storage-throughput.ts
 *
 * Goals (issue 5): store ≥ 0.5× the copy's throughput; peak RSS growth < 64 MiB. It also prints a
 * JSON line (copyMiBs, storeMiBs, ratio, peakRssGrowthMiB, …) and exits 1 when a goal is missed.
 *
 * With MVSEC_S3_* set (e.g. `eval "$(npm run -s s3 -- env)"` after `npm run s3 -- start`) it also
 * stores to the S3 backend (multipart upload, server-side commit) in the same ABBA rounds and
 * reports that ratio too (informational, no goal).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Backend } from '../../gateway/src/r2-storage/s3-backend.js';
import { ObjectStore } from '../../gateway/src/r2-storage/store.js';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.BENCH_MIB ?? 256);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 2);
const base = process.env.BENCH_DIR ?? join(process.cwd(), '.data-bench-storage');

/** CPU seconds used by the whole machine so far (Linux /proc/stat), to tell how busy other processes were. */
function machineCpu(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100; // user nice system irq softirq steal (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** Run a timed round and note how many cores other processes used meanwhile. */
const others: number[] = [];
async function timed<T>(fn: () => Promise<T>): Promise<T> {
  const m0 = machineCpu();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await fn();
  const m1 = machineCpu();
  const c = process.cpuUsage(c0);
  if (m0 !== undefined && m1 !== undefined)
    others.push(Math.max(0, m1 - m0 - (c.user + c.system) / 1e6) / (Number(process.hrtime.bigint() - t0) / 1e9));
  return r;
}

async function makeInput(path: string): Promise<void> {
  const fh = await open(path, 'w');
  const block = randomBytes(4 * MIB);
  for (let i = 0; i < SIZE_MIB / 4; i++) {
    block.writeUInt32BE(i, 0);
    await fh.write(block);
  }
  await fh.sync();
  await fh.close();
}

async function plainCopy(src: string, dst: string): Promise<number> {
  const t = process.hrtime.bigint();
  await pipeline(createReadStream(src, { highWaterMark: MIB }), createWriteStream(dst, { highWaterMark: MIB }));
  const fh = await open(dst, 'r+');
  await fh.sync();
  await fh.close();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  rmSync(dst);
  return s;
}

// The S3 SDK is loaded only for the S3 row: loaded alone into this small process it leaves V8 marking
// back to back (see docs/performance.md), which the gateway's own heap does not.
const s3Mod = process.env.MVSEC_S3_ENDPOINT ? await import('../../gateway/src/r2-storage/s3-backend.js') : undefined;
const s3Config = s3Mod?.s3ConfigFromEnv();
const s3 =
  s3Mod && s3Config
    ? new s3Mod.S3Backend({ ...s3Config, prefix: `${s3Config.prefix}bench-${randomBytes(4).toString('hex')}/` })
    : undefined;

async function store(src: string, dir: string, backend?: S3Backend): Promise<{ seconds: number; peakRss: number }> {
  rmSync(dir, { recursive: true, force: true });
  const s = new ObjectStore({ dir, storageKey: randomBytes(32), ...(backend ? { backend } : {}) });
  globalThis.gc?.();
  const rss0 = process.memoryUsage.rss();
  let peak = 0;
  // rss() only: memoryUsage() also gathers heap statistics on the thread being measured
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss() - rss0);
  }, 5);
  const t = process.hrtime.bigint();
  const o = await s.put(createReadStream(src, { highWaterMark: MIB }), { owner: 'IoTPlatformMSP|bench' });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss() - rss0);
  if (o.size !== SIZE_MIB * MIB) throw new Error(`stored ${o.size} bytes`);
  if (backend) await backend.remove(o.address);
  rmSync(dir, { recursive: true, force: true });
  return { seconds, peakRss: peak };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(base.replace(/\/$/, '') + '-'));
  try {
    const input = join(dir, 'input.bin');
    console.log(`input: ${SIZE_MIB} MiB of random data in ${dir}`);
    await makeInput(input);
    // warm-up (page cache, JIT), not counted
    await plainCopy(input, join(dir, 'warm.bin'));
    await store(input, join(dir, 'warm-store'));
    const copies: number[] = [];
    const stores: number[] = [];
    const s3Stores: number[] = [];
    let peakRss = 0;
    let s3PeakRss = 0;
    if (s3) await store(input, join(dir, 'warm-s3'), s3);
    const load0 = loadavg();
    for (let p = 0; p < PAIRS; p++) {
      for (const kind of ['copy', 'store', 'store', 'copy'] as const) {
        if (kind === 'copy') copies.push(await timed(() => plainCopy(input, join(dir, 'copy.bin'))));
        else {
          const r = await timed(() => store(input, join(dir, 'store')));
          stores.push(r.seconds);
          peakRss = Math.max(peakRss, r.peakRss);
          if (s3) {
            const q = await store(input, join(dir, 'store-s3'), s3);
            s3Stores.push(q.seconds);
            s3PeakRss = Math.max(s3PeakRss, q.peakRss);
          }
        }
      }
    }
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const copyMiBs = (SIZE_MIB * copies.length) / sum(copies);
    const storeMiBs = (SIZE_MIB * stores.length) / sum(stores);
    const ratio = storeMiBs / copyMiBs;
    const peakRssGrowthMiB = peakRss / MIB;
    console.log(`plain copy (stream + fsync):            ${copyMiBs.toFixed(0)} MiB/s  (${copies.map((s) => s.toFixed(2)).join(', ')} s)`);
    console.log(`store (hash + encrypt + hash + fsync):  ${storeMiBs.toFixed(0)} MiB/s  (${stores.map((s) => s.toFixed(2)).join(', ')} s)`);
    console.log(`ratio store / copy: ${ratio.toFixed(2)} (goal ≥ 0.5)`);
    console.log(`peak RSS growth during a store: ${peakRssGrowthMiB.toFixed(1)} MiB (goal < 64 MiB)`);
    const othersCores = others.length ? sum(others) / others.length : undefined;
    const load = `load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`;
    console.log(
      `machine: ${cpus().length} CPUs, ${load}${othersCores !== undefined ? `; other processes used ${othersCores.toFixed(2)} cores during the rounds` : ''}`,
    );
    const s3MiBs = s3Stores.length ? (SIZE_MIB * s3Stores.length) / sum(s3Stores) : undefined;
    if (s3MiBs !== undefined) {
      console.log(`store to S3 (${s3Config!.endpoint}):  ${s3MiBs.toFixed(0)} MiB/s  (${s3Stores.map((s) => s.toFixed(2)).join(', ')} s)`);
      console.log(`ratio S3 store / copy: ${(s3MiBs / copyMiBs).toFixed(2)}; peak RSS growth ${(s3PeakRss / MIB).toFixed(1)} MiB`);
    }
    console.log(
      JSON.stringify({
        sizeMiB: SIZE_MIB,
        rounds: copies.length,
        copyMiBs,
        storeMiBs,
        ratio,
        peakRssGrowthMiB,
        loadavg: load0,
        ...(othersCores !== undefined ? { otherProcessesCores: othersCores } : {}),
        ...(s3MiBs !== undefined ? { s3MiBs, s3Ratio: s3MiBs / copyMiBs, s3PeakRssGrowthMiB: s3PeakRss / MIB } : {}),
      }),
    );
    if (ratio < 0.5 || peakRssGrowthMiB >= 64) process.exitCode = 1;
  } finally {
    s3?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
