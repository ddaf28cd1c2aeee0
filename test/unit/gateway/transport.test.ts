/** C1: HTTPS with a configured certificate; plain HTTP only on loopback; sealed secrets at rest. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createApp } from '../../../gateway/src/app.js';
import { assertTransport, loadConfig, testConfig } from '../../../gateway/src/config.js';
import { seal, unseal } from '../../../gateway/src/crypto/seal.js';
import { listen } from '../../../gateway/src/server.js';
import { FakeLedger } from './support.js';

describe('gateway transport and secrets at rest (C1)', () => {
  it('C1: plain HTTP is refused on a non-loopback address, allowed on loopback', () => {
    assert.throws(() => assertTransport({ host: '0.0.0.0' }), /refusing plain HTTP/);
    assert.throws(() => loadConfig({ MVSEC_GATEWAY_HOST: '10.1.2.3' }), /refusing plain HTTP/);
    assert.doesNotThrow(() => assertTransport({ host: '127.0.0.1' }));
    const d = loadConfig({});
    assert.equal(`${d.host}:${d.port}`, '127.0.0.1:8080');
  });

  it('C1: with a certificate and key the gateway serves HTTPS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
      const { app } = createApp(testConfig({ tls }), { ledger: new FakeLedger(), log: () => {} });
      const running = await listen(app, { host: '127.0.0.1', port: 0, tls });
      try {
        assert.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const res = await new Promise<{ status: number; body: string; hsts?: string }>((resolve, reject) => {
          const r = request(`${running.url}/healthz`, { ca: tls.cert }, (m) => {
            let b = '';
            m.on('data', (c) => (b += c));
            m.on('end', () => resolve({ status: m.statusCode!, body: b, hsts: m.headers['strict-transport-security'] as string }));
          });
          r.on('error', reject);
          r.end();
        });
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
        assert.match(res.hsts ?? '', /max-age/);
      } finally {
        await running.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('C1: AES-256-GCM sealing binds the context and detects tampering', () => {
    const key = randomBytes(32);
    const s = seal(key, 'private key pem', 'IoTPlatformMSP/alice');
    assert.doesNotMatch(JSON.stringify(s), /private key pem/);
    assert.equal(unseal(key, s, 'IoTPlatformMSP/alice').toString(), 'private key pem');
    assert.throws(() => unseal(key, s, 'MetaverseAMSP/alice'));
    assert.throws(() => unseal(randomBytes(32), s, 'IoTPlatformMSP/alice'));
    const ct = Buffer.from(s.ct, 'base64');
    ct[0] ^= 1;
    assert.throws(() => unseal(key, { ...s, ct: ct.toString('base64') }, 'IoTPlatformMSP/alice'));
  });
});
