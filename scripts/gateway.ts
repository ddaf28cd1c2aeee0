/**
 * The gateway as a daemon of `npm start`: its secrets (JWT signing key, key sealing identities
 * and accounts at rest) are generated once into the data folder (mode 600); bootstrap
 * administrator credentials go to a private file, never to the log.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { OperatorError } from './lib/log.js';
import { DATA, ROOT } from './lib/paths.js';
import { assertPortFree, daemonPid, logTail, startDaemon, stopDaemon } from './lib/proc.js';
import { waitFor } from './lib/wait.js';

const NAME = 'gateway';
const MARKER = 'gateway/src/main.ts';
const stateDir = join(DATA, 'gateway');
export const bootstrapFile = join(stateDir, 'bootstrap-credentials.txt');

export function gatewayAddress(env: NodeJS.ProcessEnv = process.env): { host: string; port: number; url: string } {
  const host = env.MVSEC_GATEWAY_HOST ?? '127.0.0.1';
  const port = Number(env.MVSEC_GATEWAY_PORT ?? 8080);
  const scheme = env.MVSEC_GATEWAY_TLS_CERT ? 'https' : 'http';
  return { host, port, url: `${scheme}://${host}:${port}` };
}

function secrets(): { jwt: string; storage: string } {
  const file = join(stateDir, 'secrets.json');
  if (!existsSync(file)) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const fresh = { jwt: randomBytes(32).toString('hex'), storage: randomBytes(32).toString('hex') };
    writeFileSync(file, JSON.stringify(fresh), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, 'utf8')) as { jwt: string; storage: string };
}

function readyz(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/readyz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Start the gateway (if not running) and wait until /readyz answers 200. */
export async function startGateway(): Promise<{ url: string; newCredentials?: string }> {
  const { host, port, url } = gatewayAddress();
  const hadCredentials = existsSync(bootstrapFile);
  // No accounts yet: the gateway creates the bootstrap administrators right after it listens.
  const firstStart = !existsSync(join(stateDir, 'users.sealed.json'));
  if (daemonPid(NAME, MARKER) === undefined) {
    await assertPortFree(host, port, 'the gateway');
    const s = secrets();
    startDaemon({
      name: NAME,
      cmd: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'gateway', 'src', 'main.ts')],
      cwd: ROOT,
      marker: MARKER,
      env: {
        ...process.env,
        MVSEC_DATA_DIR: DATA,
        MVSEC_GATEWAY_STATE_DIR: stateDir,
        MVSEC_GATEWAY_JWT_SECRET: process.env.MVSEC_GATEWAY_JWT_SECRET ?? s.jwt,
        MVSEC_GATEWAY_STORAGE_KEY: process.env.MVSEC_GATEWAY_STORAGE_KEY ?? s.storage,
        MVSEC_GATEWAY_BOOTSTRAP_FILE: bootstrapFile,
        // Real-time monitoring (M2) is on for the system `npm start` runs; MVSEC_MONITOR=0 turns it off.
        MVSEC_MONITOR: process.env.MVSEC_MONITOR ?? '1',
      },
    });
  }
  await waitFor(
    `the gateway to answer ${url}/readyz`,
    async () => {
      if (daemonPid(NAME, MARKER) === undefined) throw new OperatorError(`the gateway exited during start\n${logTail(NAME)}`);
      if ((await readyz(host, port)) !== 200) return undefined;
      return firstStart && !existsSync(bootstrapFile) ? undefined : true;
    },
    { timeoutMs: 90_000, onTimeout: () => logTail(NAME) },
  );
  const created = !hadCredentials && existsSync(bootstrapFile);
  return { url, newCredentials: created ? readFileSync(bootstrapFile, 'utf8') : undefined };
}

export async function stopGateway(): Promise<void> {
  await stopDaemon(NAME, MARKER);
}
