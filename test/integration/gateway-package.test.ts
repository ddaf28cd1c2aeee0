/**
 * The gateway deploys on its own: one configuration file in a fresh folder (the CA certificates
 * and registrar secrets it names copied beside it, nothing of the .data/ layout), the gateway
 * started from its package folder with only MVSEC_GATEWAY_CONFIG (and PATH, HOME) in its
 * environment and no fabric-ca-client on its PATH. It enrols its registrars and principals at the
 * Fabric CAs itself, signs in its bootstrap administrator and commits a write.
 */
import './support/network.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { totpCode } from '../../gateway/src/auth/totp.js';
import { writeGatewayConfig } from '../../scripts/gateway-config.js';
import { DATA, ROOT } from '../../scripts/lib/paths.js';
import { topology } from './support/network.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the gateway as a package of its own (one configuration file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mvsec-gw-package-'));
  let child: ChildProcess | undefined;
  let log = '';
  let url = '';
  let configFile = '';

  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'jwt.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
    writeFileSync(join(dir, 'storage.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
    // Relative paths are relative to the file's folder.
    configFile = writeGatewayConfig(topology, dir, {
      listen: { host: '127.0.0.1', port },
      stateDir: 'state',
      secrets: { jwtKeyFile: 'jwt.key', storageKeyFile: 'storage.key' },
      bootstrapCredentialsFile: 'bootstrap-credentials.txt',
    });
    // The gateway's own tree and PATH: no fabric-ca-client (the CA is reached over its REST API).
    const path = (process.env.PATH ?? '')
      .split(':')
      .filter((d) => d && !existsSync(join(d, 'fabric-ca-client')))
      .join(':');
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(ROOT, 'gateway'),
      env: { MVSEC_GATEWAY_CONFIG: configFile, PATH: [dirname(process.execPath), path].join(':'), HOME: process.env.HOME ?? dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}):\n${log}`);
      try {
        const r = await fetch(`${url}/readyz`);
        if (r.status === 200 && existsSync(join(dir, 'bootstrap-credentials.txt'))) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`the gateway did not become ready:\n${log}`);
      await sleep(500);
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('the configuration file names nothing of the development layout and is private', () => {
    const text = readFileSync(configFile, 'utf8');
    assert.equal(text.includes(DATA), false, `the file must not point into ${DATA}`);
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    const cfg = JSON.parse(text) as { fabric: { organizations: { mspId: string; ca: { registrar: { secretFile: string } } }[] } };
    assert.deepEqual(
      cfg.fabric.organizations.map((o) => o.mspId),
      ['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP', 'DPMProviderMSP'],
    );
    for (const o of cfg.fabric.organizations) assert.equal(statSync(o.ca.registrar.secretFile).mode & 0o777, 0o600);
    assert.equal(/BEGIN|PRIVATE/.test(text), false, 'no key material inline');
  });

  it('signs in its bootstrap administrator and commits a write (201 with a txId), enrolling at the CA itself', async () => {
    const creds = readFileSync(join(dir, 'bootstrap-credentials.txt'), 'utf8');
    const m = /bootstrap administrator of IoTPlatformMSP: username (\S+)\s+password (\S+)\n\s+TOTP[^:]*: (\S+)/.exec(creds);
    assert.ok(m, `bootstrap credentials of IoTPlatformMSP in:\n${creds.replace(/password \S+/g, 'password …')}`);
    const [, username, password, uri] = m;
    assert.equal(username, 'admin-iot');
    const secret = new URL(uri).searchParams.get('secret')!;
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, totp: await totpCode(secret, Date.now()) }),
    });
    const session = (await login.json()) as { accessToken: string };
    assert.equal(login.status, 200, JSON.stringify(session));

    const platformId = `pkg-${randomUUID().slice(0, 8)}`;
    const r = await fetch(`${url}/r5/platforms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({ platformId, type: 'IOT', name: 'gateway package', capabilityLevel: 3 }),
    });
    const body = (await r.json()) as { txId?: string };
    assert.equal(r.status, 201, `${JSON.stringify(body)}\n${log}`);
    assert.match(String(body.txId), /^[0-9a-f]{64}$/);

    // The registrar and the administrator's identity were enrolled by the gateway and kept sealed in its state folder.
    assert.ok(existsSync(join(dir, 'state', 'registrars', 'IoTPlatformMSP.json')));
    const read = await fetch(`${url}/r5/platforms/${platformId}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${session.accessToken}` },
    });
    assert.equal(read.status, 200);
  });
});
