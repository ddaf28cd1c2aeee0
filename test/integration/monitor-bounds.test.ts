/**
 * M2/X6 on the real network: readings outside configured physical bounds. Readings are off-ledger
 * (R1 telemetry), so the gateway's telemetry service hands every accepted reading to the monitor;
 * a body temperature of 51.2 °C (bounds 25..45) raises the alert, recorded on the ledger under the
 * monitor's own identity, readable by an auditor through /monitor/alerts. In-bounds readings and
 * other metrics raise nothing. No fixed sleeps: the ledger is polled with a deadline.
 */
import './support/network.js';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../gateway/src/app.js';
import type { Caller } from '../../gateway/src/auth/principal.js';
import { totpCode } from '../../gateway/src/auth/totp.js';
import { testConfig } from '../../gateway/src/config.js';
import { FabricLedger } from '../../gateway/src/ledger/fabric-ledger.js';
import { IdentityService } from '../../gateway/src/ledger/identities.js';
import { fabricEventSource } from '../../gateway/src/monitor/fabric-source.js';
import { Monitor } from '../../gateway/src/monitor/monitor.js';
import { alertIdOf, parseRules } from '../../gateway/src/monitor/rules.js';
import { listen } from '../../gateway/src/server.js';
import { readingBytes } from 'mvsec-protocol';
import { signBytes } from '../../gateway/src/r1-things/telemetry/signature.js';
import { gatewayNetwork } from './support/network.js';

const IOT = 'IoTPlatformMSP';

interface Alert {
  alertId: string;
  rule: string;
  severity: string;
  subjectType: string;
  subjectId: string;
  description: string;
  raisedBy: { mspId: string; principal: string; role: string };
}

describe('M2 monitor: readings outside physical bounds (R1 telemetry → alert on the ledger)', () => {
  const run = randomUUID().slice(0, 8);
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'mvsec-it-bounds-'));
    dirs.push(d);
    return d;
  };
  let ledger: FabricLedger;
  let monitor: Monitor;
  let closeSource: () => void;
  let url: string;
  let closeServer: () => Promise<void>;
  let closeTelemetry: () => void;
  let login: ReturnType<typeof createApp>['login'];

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  let n = 0;
  const signIn = async (mspId: string, role: Caller['role']) => {
    const username = `${role}-${run}-${++n}`;
    const password = `pw-${username}-long-enough`;
    const { totp } = await login.createUser({ username, password, mspId, role, principal: username });
    const code = totp ? await totpCode(totp.secret, Date.now()) : undefined;
    const r = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, ...(code ? { totp: code } : {}) }),
    });
    assert.equal(r.status, 200);
    return ((await r.json()) as { accessToken: string }).accessToken;
  };

  before(async () => {
    const stateDir = tmp();
    const identities = new IdentityService(gatewayNetwork(), randomBytes(32), tmp());
    ledger = new FabricLedger(gatewayNetwork(), identities);
    const identity: Caller = { principal: `monitor-${run}`, mspId: IOT, role: 'monitor', issuer: 'gateway', amr: [] };
    const source = await fabricEventSource(gatewayNetwork(), identities, identity);
    closeSource = () => source.close();
    monitor = new Monitor({
      rules: parseRules({
        version: 1,
        rules: [
          { id: 'body-temperature', type: 'bounds', severity: 'WARNING', metric: 'body-temperature', min: 25, max: 45, quietSeconds: 60 },
        ],
      }),
      ledger,
      identity,
      source,
      stateDir: tmp(),
      log: (l) => console.error(l),
    });
    await monitor.start();
    const gw = createApp(testConfig({ stateDir }), { ledger, monitor, log: (m) => console.error(m) });
    login = gw.login;
    closeTelemetry = () => gw.telemetry.close();
    const running = await listen(gw.app, { host: '127.0.0.1', port: 0 });
    url = running.url;
    closeServer = () => running.close();
  });

  after(async () => {
    closeTelemetry?.();
    await closeServer?.();
    await monitor?.stop();
    closeSource?.();
    ledger?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a body temperature of 51.2 °C raises the bounds alert on the ledger under the monitor identity; in-bounds readings raise nothing', async () => {
    const [admin, owner, auditor] = await Promise.all([signIn(IOT, 'admin'), signIn(IOT, 'creator'), signIn(IOT, 'auditor')]);
    const platformId = `bt-iot-${run}`;
    assert.equal((await call(admin, 'POST', '/r5/platforms', { platformId, type: 'IOT', name: 'IoT', capabilityLevel: 3 })).status, 201);
    const thingId = `bt-watch-${run}`;
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = await call(owner, 'POST', '/r1/things', {
      thingId,
      platformId,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      classification: 'CONFIDENTIAL',
      policy: { storage: 'ON_PLATFORM', allowedMetaverses: [], purposes: ['analytics'], encryptionRequired: true },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const reading = (seq: number, sensor: string, value: number) => {
      const r = { seq, time: new Date().toISOString(), sensor, value };
      return { ...r, signature: signBytes(k.privateKey, readingBytes({ thingId, ...r })) };
    };
    const accepted = await call(owner, 'POST', `/r1/things/${thingId}/readings`, {
      readings: [
        reading(1, 'body-temperature', 36.6),
        reading(2, 'heart-rate', 300),
        reading(3, 'body-temperature', 51.2),
        reading(4, 'body-temperature', 37),
      ],
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));

    const expectedId = alertIdOf('body-temperature', 'THING', thingId, 'reading/3');
    const deadline = Date.now() + 60_000;
    let alerts: Alert[] = [];
    for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
      const r = await call(auditor, 'GET', `/monitor/alerts?subjectType=THING&subjectId=${thingId}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      alerts = r.body.items as Alert[];
      if (alerts.some((a) => a.alertId === expectedId)) break;
      if (Date.now() > deadline) assert.fail(`no bounds alert on the ledger: ${JSON.stringify(alerts)}`);
      await new Promise((res) => setTimeout(res, wait));
    }
    await monitor.drain();
    const final = (await call(auditor, 'GET', `/monitor/alerts?subjectType=THING&subjectId=${thingId}`)).body.items as Alert[];
    assert.equal(final.length, 1, 'one alert: the in-bounds readings and the unbounded metric raise nothing');
    const [a] = final;
    assert.equal(a.rule, 'body-temperature');
    assert.equal(a.severity, 'WARNING');
    assert.match(a.description, /body-temperature = 51\.2 in reading seq 3/);
    assert.deepEqual({ role: a.raisedBy.role, principal: a.raisedBy.principal }, { role: 'monitor', principal: `monitor-${run}` });
  });
});
