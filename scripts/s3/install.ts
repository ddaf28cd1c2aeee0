/**
 * Installs SeaweedFS's `weed` (an Apache-2.0 S3-compatible object server) from the Go module
 * proxy into .fabric/bin/weed, pinned by network/fabric-tools/seaweedfs/go.mod and its committed
 * go.sum, the same way the Fabric binaries are built. Idempotent: a stamp (SHA-256 of go.mod and
 * go.sum) records what was built, so a binary of the pinned version is reused. MVSEC_WEED_BIN
 * points at a `weed` installed elsewhere instead.
 *
 *   npx tsx scripts/s3/install.ts
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, main, OperatorError } from '../lib/log.js';
import { paths, ROOT } from '../lib/paths.js';

const DIR = join(ROOT, 'network', 'fabric-tools', 'seaweedfs');
const MODULE = 'github.com/seaweedfs/seaweedfs';

/** The `weed` binary to run. */
export function weedBin(): string {
  return process.env.MVSEC_WEED_BIN ?? join(paths.fabricBin, 'weed');
}

/** The pinned SeaweedFS version (from the wrapper module's go.mod). */
export function pinnedWeedVersion(): string {
  const m = new RegExp(`^\\s*(?:require )?${MODULE.replace(/\./g, '\\.')} (\\S+)`, 'm').exec(readFileSync(join(DIR, 'go.mod'), 'utf8'));
  if (!m) throw new Error(`network/fabric-tools/seaweedfs/go.mod does not require ${MODULE}`);
  return m[1];
}

function stamp(): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) h.update(readFileSync(join(DIR, f)));
  return h.digest('hex');
}

/** Build `weed` unless a binary of the pinned version is there already; returns its path. */
export async function installWeed(): Promise<string> {
  if (process.env.MVSEC_WEED_BIN) {
    if (!existsSync(process.env.MVSEC_WEED_BIN)) throw new OperatorError(`MVSEC_WEED_BIN=${process.env.MVSEC_WEED_BIN} does not exist`);
    return process.env.MVSEC_WEED_BIN;
  }
  const target = weedBin();
  const stampFile = join(paths.fabricBin, '.stamp-seaweedfs');
  const want = stamp();
  if (existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want) return target;
  const version = pinnedWeedVersion();
  log.step(`building weed from ${MODULE}@${version} (first run: several minutes)`);
  mkdirSync(paths.fabricBin, { recursive: true });
  const started = Date.now();
  // Built next to the target and renamed into place: a concurrent user never runs a half-written binary.
  const tmp = `${target}.${process.pid}.tmp`;
  await new Promise<void>((resolve, reject) => {
    const args = ['build', '-trimpath', '-o', tmp, `${MODULE}/weed`];
    const child = spawn('go', args, {
      cwd: DIR,
      // go.sum (committed) pins the module; the pseudo-version need not be in the public checksum database.
      env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false', GONOSUMDB: MODULE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const onData = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) =>
      reject(new OperatorError(`cannot run go (${e.message}): install Go ≥ 1.26, or set MVSEC_WEED_BIN to a SeaweedFS weed binary`)),
    );
    const ticker = setInterval(() => log.info(`… still building weed (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0) return resolve();
      rmSync(tmp, { force: true });
      reject(new OperatorError(`building weed failed (go ${args.join(' ')} in network/fabric-tools/seaweedfs):\n${tail.trim()}`));
    });
  });
  renameSync(tmp, target);
  writeFileSync(stampFile, want);
  log.ok(`built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
  return target;
}

if (import.meta.url === `file://${process.argv[1]}`) main(async () => void (await installWeed()));
