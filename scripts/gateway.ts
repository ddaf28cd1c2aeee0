/**
 * The gateway as a daemon of `npm start`: its secrets (JWT signing key, key sealing identities
 * and accounts at rest) are generated once into the data folder (mode 600); bootstrap
 * administrator credentials go to a private file, never to the log. The gateway is given one
 * configuration file, .data/gateway/gateway-config.json (scripts/gateway-config.ts), and runs
 * from its package folder; MVSEC_GATEWAY_* variables still override the file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { loadTopology } from '../network/topology.js';
import { writeGatewayConfig } from './gateway-config.js';
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

/** The gateway's configuration for the local network, its secrets in files of their own (mode 600). */
export function writeLocalGatewayConfig(): string {
  const s = secrets();
  const jwtKeyFile = join(stateDir, 'jwt.key');
  const storageKeyFile = join(stateDir, 'storage.key');
  writeFileSync(jwtKeyFile, `${s.jwt}\n`, { mode: 0o600 });
  writeFileSync(storageKeyFile, `${s.storage}\n`, { mode: 0o600 });
  const { host, port } = gatewayAddress();
  return writeGatewayConfig(loadTopology(), stateDir, {
    listen: { host, port },
    stateDir,
    secrets: { jwtKeyFile, storageKeyFile },
    bootstrapCredentialsFile: bootstrapFile,
    // Real-time monitoring (M2) is on for the system `npm start` runs; MVSEC_MONITOR=0 turns it off.
    monitor: { enabled: true },
  });
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
    const config = writeLocalGatewayConfig();
    startDaemon({
      name: NAME,
      cmd: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'gateway', 'src', 'main.ts')],
      cwd: join(ROOT, 'gateway'),
      marker: MARKER,
      // The environment still overrides the file (MVSEC_GATEWAY_HOST, _PORT, MVSEC_MONITOR=0, …).
      env: { ...process.env, MVSEC_GATEWAY_CONFIG: config },
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
