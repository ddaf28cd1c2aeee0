/**
 * Installs the Fabric binaries (peer, orderer, configtxgen, osnadmin, cryptogen, fabric-ca-server,
 * fabric-ca-client) from the Go module proxy into .fabric/bin, pinned by the go.mod/go.sum under
 * network/fabric-tools/. Idempotent: a stamp records what was built, so the second run is instant.
 * Binaries already installed elsewhere (Fabric's release tarball) are used when FABRIC_BIN_DIR
 * points at them.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, main, OperatorError } from '../lib/log.js';
import { paths, ROOT } from '../lib/paths.js';
import { run } from '../lib/proc.js';

const TOOLS = join(ROOT, 'network', 'fabric-tools');

/** The binaries each pinned Go module provides. */
const MODULES = [
  {
    dir: 'fabric',
    module: 'github.com/hyperledger/fabric',
    binaries: ['peer', 'orderer', 'configtxgen', 'osnadmin', 'cryptogen'],
  },
  {
    dir: 'ca',
    module: 'github.com/hyperledger/fabric-ca',
    binaries: ['fabric-ca-server', 'fabric-ca-client'],
  },
] as const;

export const FABRIC_BINARIES = MODULES.flatMap((m) => m.binaries);

/** The pinned version of a module, read from its go.mod. */
function pinnedVersion(dir: string, module: string): string {
  const gomod = readFileSync(join(TOOLS, dir, 'go.mod'), 'utf8');
  const m = new RegExp(`^require ${module.replace(/\./g, '\\.')} (\\S+)`, 'm').exec(gomod);
  if (!m) throw new Error(`network/fabric-tools/${dir}/go.mod does not require ${module}`);
  return m[1];
}

function stampOf(dir: string): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) h.update(readFileSync(join(TOOLS, dir, f)));
  return h.digest('hex');
}

let pathBinDir: string | null | undefined;

/**
 * A directory on PATH that holds every Fabric binary, with a `peer` of the pinned version (a user
 * who installed matching binaries gets them used); null when there is none.
 */
function matchingBinariesOnPath(): string | null {
  if (pathBinDir !== undefined) return pathBinDir;
  pathBinDir = null;
  const wanted = fabricVersionLabel(pinnedVersion('fabric', 'github.com/hyperledger/fabric'));
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    if (dir === paths.fabricBin || !FABRIC_BINARIES.every((b) => existsSync(join(dir, b)))) continue;
    try {
      const out = execFileSync(join(dir, 'peer'), ['version'], { encoding: 'utf8', timeout: 10_000 });
      if (new RegExp(`^\\s*Version: ${wanted.replace(/\./g, '\\.')}$`, 'm').test(out)) return (pathBinDir = dir);
    } catch {
      /* not runnable: ignore */
    }
  }
  return pathBinDir;
}

/** The directory holding the Fabric binaries to use: FABRIC_BIN_DIR, matching ones on PATH, or our build. */
export function fabricBinDir(): string {
  return process.env.FABRIC_BIN_DIR ?? matchingBinariesOnPath() ?? paths.fabricBin;
}

export function bin(name: string): string {
  return join(fabricBinDir(), name);
}

async function goAvailable(): Promise<string> {
  try {
    const { stdout } = await run('go', ['version'], { timeoutMs: 20_000 });
    return stdout.trim();
  } catch {
    throw new OperatorError(
      'Go is not installed (or not on PATH), so the Fabric binaries cannot be built from the Go module proxy.\n' +
        'Either install Go ≥ 1.26, or download Fabric release binaries (peer, orderer, configtxgen, osnadmin, ' +
        'fabric-ca-server, fabric-ca-client) and their config/ folder, then set FABRIC_BIN_DIR=<release>/bin.',
    );
  }
}

/** `go build` with its progress streamed, so a first run's long build is visibly alive. */
function goBuild(dir: string, pkgs: string[], ldflags: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['build', '-trimpath', '-o', paths.fabricBin + '/', '-ldflags', ldflags, ...pkgs];
    const child = spawn('go', args, {
      cwd: join(TOOLS, dir),
      // The pinned Fabric commit is not in the public checksum database; go.sum (committed) pins it.
      env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false', GONOSUMDB: 'github.com/hyperledger/fabric' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.startsWith('go: downloading')) log.info(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const ticker = setInterval(() => log.info(`… still building ${dir} binaries`), 30_000);
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0) return resolve();
      reject(
        new OperatorError(
          `building the Fabric binaries failed (go ${args.join(' ')} in network/fabric-tools/${dir}):\n${tail.trim()}\n` +
            'If the Go module proxy is unreachable, use Fabric release binaries instead: FABRIC_BIN_DIR=<release>/bin.',
        ),
      );
    });
  });
}

/** Copy core.yaml/orderer.yaml from the Fabric module (or a release's config/ folder). */
async function installSampleConfig(): Promise<void> {
  mkdirSync(paths.fabricConfig, { recursive: true });
  const candidates: string[] = [];
  if (process.env.FABRIC_CFG_DIR) candidates.push(process.env.FABRIC_CFG_DIR);
  if (process.env.FABRIC_BIN_DIR) candidates.push(join(process.env.FABRIC_BIN_DIR, '..', 'config'));
  try {
    const { stdout } = await run('go', ['env', 'GOMODCACHE'], { timeoutMs: 20_000 });
    const version = pinnedVersion('fabric', 'github.com/hyperledger/fabric');
    candidates.push(join(stdout.trim(), `github.com/hyperledger/fabric@${version}`, 'sampleconfig'));
  } catch {
    /* no Go: rely on FABRIC_CFG_DIR or the release layout */
  }
  const dir = candidates.find((c) => existsSync(join(c, 'core.yaml')) && existsSync(join(c, 'orderer.yaml')));
  if (!dir) {
    throw new OperatorError(
      `cannot find Fabric's core.yaml and orderer.yaml (looked in ${candidates.join(', ')}); ` +
        'set FABRIC_CFG_DIR to the config/ folder of a Fabric release',
    );
  }
  for (const f of ['core.yaml', 'orderer.yaml']) copyFileSync(join(dir, f), join(paths.fabricConfig, f));
}

/** Make sure every Fabric binary and the sample configuration are present; build what is missing. */
export async function installFabric(): Promise<void> {
  const onPath = process.env.FABRIC_BIN_DIR ? null : matchingBinariesOnPath();
  if (onPath) {
    log.ok(`using the Fabric binaries of the pinned version found on PATH in ${onPath}`);
  } else if (process.env.FABRIC_BIN_DIR) {
    const missing = FABRIC_BINARIES.filter((b) => !existsSync(bin(b)));
    if (missing.length) throw new OperatorError(`FABRIC_BIN_DIR=${process.env.FABRIC_BIN_DIR} lacks ${missing.join(', ')}`);
    log.ok(`using Fabric binaries from FABRIC_BIN_DIR=${process.env.FABRIC_BIN_DIR}`);
  } else {
    mkdirSync(paths.fabricBin, { recursive: true });
    for (const m of MODULES) {
      const stampFile = join(paths.fabricBin, `.stamp-${m.dir}`);
      const stamp = stampOf(m.dir);
      const present = m.binaries.every((b) => existsSync(bin(b)));
      if (present && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) continue;
      const version = pinnedVersion(m.dir, m.module);
      log.step(`building ${m.binaries.join(', ')} from ${m.module}@${version} (first run: a few minutes)`);
      log.info(await goAvailable());
      const ldflags = m.dir === 'fabric' ? `-X github.com/hyperledger/fabric/common/metadata.Version=${fabricVersionLabel(version)}` : '';
      await goBuild(
        m.dir,
        m.binaries.map((b) => `${m.module}/cmd/${b}`),
        ldflags,
      );
      writeFileSync(stampFile, stamp);
      log.ok(`built ${m.binaries.join(', ')} into ${paths.fabricBin}`);
    }
  }
  if (!existsSync(join(paths.fabricConfig, 'core.yaml')) || !existsSync(join(paths.fabricConfig, 'orderer.yaml'))) {
    await installSampleConfig();
  }
}

/** v0.0.0-20240618194258-7c3876255bf0 → 3.0.0-snapshot-7c3876255bf0 (what `peer version` prints). */
function fabricVersionLabel(version: string): string {
  const commit = version.split('-').pop();
  return `3.0.0-snapshot-${commit}`;
}

if (import.meta.url === `file://${process.argv[1]}`) main(installFabric);
