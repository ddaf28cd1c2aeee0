/**
 * A real S3-compatible server for the S3 backend (S2): SeaweedFS `weed server` (master, volume,
 * filer and S3 gateway in one process) on loopback, its data in `<MVSEC_DATA_DIR>/s3`, with its own
 * random access key (never a default one) and a bucket. Ports follow MVSEC_PORT_OFFSET so parallel
 * networks do not collide: S3 on 8333 + offset, the SeaweedFS internals on 8334–8336 (HTTP) and
 * 8343–8346 (gRPC) + offset.
 *
 *   npx tsx scripts/s3/server.ts start|stop|status|env
 *
 * `env` prints the MVSEC_S3_* variables the gateway and `npm run storage` read.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Backend, type S3BackendConfig } from '../../gateway/src/r2-storage/s3-backend.js';
import { log, main, OperatorError } from '../lib/log.js';
import { DATA } from '../lib/paths.js';
import { assertPortFree, daemonPid, logTail, startDaemon, stopDaemon, tcpOpen } from '../lib/proc.js';
import { waitFor } from '../lib/wait.js';
import { installWeed } from './install.js';

const NAME = 's3';
const HOST = '127.0.0.1';
export const S3_DIR = join(DATA, 's3');
/** In the command line of our weed process only (guards against pid reuse and other users' servers). */
const MARKER = `-dir=${join(S3_DIR, 'data')}`;
const DEFAULT_BUCKET = 'mvsec';

export interface S3Ports {
  s3: number;
  s3Grpc: number;
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
}

export function s3Ports(offset = Number(process.env.MVSEC_PORT_OFFSET ?? 0)): S3Ports {
  const base = Number(process.env.MVSEC_S3_BASE_PORT ?? 8333) + offset;
  return {
    s3: base,
    master: base + 1,
    volume: base + 2,
    filer: base + 3,
    s3Grpc: base + 10,
    masterGrpc: base + 11,
    volumeGrpc: base + 12,
    filerGrpc: base + 13,
  };
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** This data dir's S3 credentials, created once (mode 600). */
function credentials(): Credentials {
  const file = join(S3_DIR, 'credentials.json');
  if (!existsSync(file)) {
    mkdirSync(S3_DIR, { recursive: true, mode: 0o700 });
    const c: Credentials = {
      accessKeyId: `MVSEC${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(24).toString('base64url'),
    };
    writeFileSync(file, JSON.stringify(c), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
}

/** The S3 backend configuration for this data dir's server. */
export function localS3Config(o: { bucket?: string; prefix?: string; storeId?: string } = {}): S3BackendConfig {
  const c = credentials();
  return {
    endpoint: `http://${HOST}:${s3Ports().s3}`,
    bucket: o.bucket ?? DEFAULT_BUCKET,
    region: 'us-east-1',
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    forcePathStyle: true,
    storeId: o.storeId ?? 's3',
    placement: 'EXTERNAL',
    prefix: o.prefix ?? '',
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
  };
}

/** The MVSEC_S3_* variables for a configuration (what the gateway and the storage command read). */
export function s3Env(c: S3BackendConfig): Record<string, string> {
  return {
    MVSEC_S3_ENDPOINT: c.endpoint,
    MVSEC_S3_BUCKET: c.bucket,
    MVSEC_S3_REGION: c.region,
    MVSEC_S3_ACCESS_KEY_ID: c.accessKeyId,
    MVSEC_S3_SECRET_ACCESS_KEY: c.secretAccessKey,
    MVSEC_S3_FORCE_PATH_STYLE: String(c.forcePathStyle),
    MVSEC_S3_STORE_ID: c.storeId,
    MVSEC_S3_PLACEMENT: c.placement,
    ...(c.prefix ? { MVSEC_S3_PREFIX: c.prefix } : {}),
  };
}

export function s3ServerRunning(): boolean {
  return daemonPid(NAME, MARKER) !== undefined;
}

/**
 * Start the server unless it runs already; wait until it stores and deletes an object in the
 * bucket. Returns its configuration and whether this call started it.
 */
export async function startS3Server(o: { bucket?: string } = {}): Promise<{ config: S3BackendConfig; started: boolean }> {
  const config = localS3Config(o);
  const p = s3Ports();
  let started = false;
  if (!s3ServerRunning()) {
    const weed = await installWeed();
    for (const [what, port] of Object.entries(p)) await assertPortFree(HOST, port, `the S3 server (${what})`);
    const c = credentials();
    const identities = {
      identities: [
        {
          name: 'mvsec-gateway',
          credentials: [{ accessKey: c.accessKeyId, secretKey: c.secretAccessKey }],
          actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
        },
      ],
    };
    mkdirSync(join(S3_DIR, 'data'), { recursive: true, mode: 0o700 });
    const s3Config = join(S3_DIR, 's3.json');
    writeFileSync(s3Config, JSON.stringify(identities), { mode: 0o600 });
    const args = [
      'server',
      MARKER,
      `-ip=${HOST}`,
      `-ip.bind=${HOST}`,
      '-filer',
      '-s3',
      `-s3.config=${s3Config}`,
      `-s3.port=${p.s3}`,
      `-s3.port.grpc=${p.s3Grpc}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      `-s3.localSocket=${join(S3_DIR, 's3.sock')}`,
      '-s3.autoCreateBucket=false',
      `-master.port=${p.master}`,
      `-master.port.grpc=${p.masterGrpc}`,
      '-master.telemetry=false',
      '-master.volumeSizeLimitMB=256',
      `-volume.port=${p.volume}`,
      `-volume.port.grpc=${p.volumeGrpc}`,
      '-volume.max=32',
      `-filer.port=${p.filer}`,
      `-filer.port.grpc=${p.filerGrpc}`,
      `-filer.localSocket=${join(S3_DIR, 'filer.sock')}`,
    ];
    log.step(`starting the S3 server (SeaweedFS) on http://${HOST}:${p.s3}, data in ${S3_DIR}`);
    startDaemon({ name: NAME, cmd: weed, args, env: { ...process.env }, cwd: S3_DIR, marker: MARKER });
    started = true;
  }
  const backend = new S3Backend(config);
  try {
    await waitFor(
      `the S3 server on ${config.endpoint} to store objects in bucket ${config.bucket}`,
      async () => {
        if (!s3ServerRunning()) throw new OperatorError(`the S3 server exited during start\n${logTail(NAME)}`);
        if (!(await tcpOpen(HOST, p.s3))) return undefined;
        await backend.ensureBucket();
        await backend.probe();
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 500, onTimeout: () => logTail(NAME) },
    );
  } finally {
    backend.close();
  }
  if (started) log.ok(`S3 server ready: ${config.endpoint}, bucket ${config.bucket}`);
  return { config, started };
}

/** Stop this data dir's server (its data stays for the next start). */
export async function stopS3Server(): Promise<boolean> {
  const stopped = await stopDaemon(NAME, MARKER, 15_000);
  if (stopped) log.ok('S3 server stopped');
  return stopped;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(async () => {
    const cmd = process.argv[2];
    if (cmd === 'start') await startS3Server();
    else if (cmd === 'stop') await stopS3Server();
    else if (cmd === 'status') console.log(s3ServerRunning() ? `running on ${localS3Config().endpoint}` : 'not running');
    else if (cmd === 'env')
      for (const [k, v] of Object.entries(s3Env(localS3Config()))) console.log(`export ${k}=${JSON.stringify(v).slice(1, -1)}`);
    else throw new OperatorError('usage: tsx scripts/s3/server.ts start|stop|status|env');
  });
}
