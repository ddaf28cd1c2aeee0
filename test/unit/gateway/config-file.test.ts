/**
 * The gateway's configuration file (MVSEC_GATEWAY_CONFIG): validated, relative paths resolved
 * against its folder, secrets read from the files it names (never shown in errors), the
 * MVSEC_GATEWAY_* variables over it; and the Fabric CA token the gateway signs its registrar's
 * requests with (util.CreateToken: ECDSA over METHOD.b64(uri).b64(body).b64(cert), low S).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../../gateway/src/config.js';
import { FabricCaClient } from '../../../gateway/src/ledger/fabric-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'mvsec-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const storageKey = randomBytes(32).toString('hex');
writeFileSync(join(dir, 'storage.key'), `${storageKey}\n`);
writeFileSync(join(dir, 'jwt.key'), randomBytes(32).toString('base64'));

const org = {
  mspId: 'IoTPlatformMSP',
  name: 'iot',
  caCert: 'ca/iot.pem',
  peers: [{ name: 'peer0', endpoint: 'peer0.iot.example:7051', tlsRootCert: 'ca/iot.pem' }],
  ca: {
    url: 'https://ca.iot.example:7054',
    caName: 'ca-iot',
    tlsRootCert: 'ca/iot.pem',
    registrar: { enrollmentId: 'registrar', secretFile: 'secrets/iot' },
  },
};

function file(content: unknown): string {
  const f = join(dir, `gateway-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(f, JSON.stringify(content));
  return f;
}

describe('gateway configuration file', () => {
  it('resolves paths against its folder, reads secret files, and the environment overrides it', () => {
    const f = file({
      listen: { port: 9090 },
      stateDir: 'state',
      secrets: { jwtKeyFile: 'jwt.key', storageKeyFile: 'storage.key' },
      fabric: { channel: 'mvsec', chaincode: 'mvsec', organizations: [org] },
      monitor: { enabled: true },
      telemetry: { batchMaxReadings: 7 },
    });
    const c = loadConfig({ MVSEC_GATEWAY_CONFIG: f });
    assert.equal(c.port, 9090);
    assert.equal(c.stateDir, join(dir, 'state'));
    assert.equal(c.storageKey.toString('hex'), storageKey);
    assert.equal(c.fabric?.organizations[0].ca.registrar.secretFile, join(dir, 'secrets', 'iot'));
    assert.equal(c.fabric?.organizations[0].peers[0].tlsRootCert, join(dir, 'ca', 'iot.pem'));
    assert.deepEqual(c.fabric?.trustedCas, []);
    assert.equal(c.monitor?.enabled, true);
    assert.equal(c.telemetry?.batchMaxReadings, 7);

    const o = loadConfig({
      MVSEC_GATEWAY_CONFIG: f,
      MVSEC_GATEWAY_PORT: '8181',
      MVSEC_MONITOR: '0',
      MVSEC_GATEWAY_STATE_DIR: '/elsewhere',
    });
    assert.equal(o.port, 8181);
    assert.equal(o.monitor?.enabled, false);
    assert.equal(o.stateDir, '/elsewhere');
  });

  it('refuses an invalid file naming the field, and a missing secret file by its path only', () => {
    assert.throws(
      () =>
        loadConfig({
          MVSEC_GATEWAY_CONFIG: file({
            fabric: { channel: 'mvsec', chaincode: 'mvsec', organizations: [{ ...org, ca: { ...org.ca, url: 'http://ca' } }] },
          }),
        }),
      /fabric\.organizations\.0\.ca\.url: must be an https:\/\/ URL/,
    );
    assert.throws(() => loadConfig({ MVSEC_GATEWAY_CONFIG: file({ listen: { port: 1 }, jwtSecret: 'inline' }) }), /Unrecognized key/);
    assert.throws(
      () => loadConfig({ MVSEC_GATEWAY_CONFIG: file({ stateDir: 's', secrets: { storageKeyFile: 'missing.key' } }) }),
      (e: Error) => /secrets\.storageKeyFile: cannot read .*missing\.key \(ENOENT\)/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ MVSEC_GATEWAY_CONFIG: file({ stateDir: 'state' }) }),
      /needs MVSEC_GATEWAY_STORAGE_KEY or secrets\.storageKeyFile/,
    );
  });

  it('signs Fabric CA requests with a low-S ECDSA token over method, URI, body and certificate', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const certificate = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const body = Buffer.from(JSON.stringify({ id: 'gw-x', type: 'client' }));
    const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
    const half = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n >> 1n;
    for (let i = 0; i < 16; i++) {
      const token = FabricCaClient.token({ certificate, key: privateKey }, 'POST', '/api/v1/register', body);
      const [cert, sig] = token.split('.');
      assert.equal(cert, b64(certificate));
      const der = Buffer.from(sig, 'base64');
      const payload = `POST.${b64('/api/v1/register')}.${b64(body)}.${b64(certificate)}`;
      assert.ok(verify('sha256', Buffer.from(payload), publicKey, der));
      // DER: 30 len 02 rlen r 02 slen s
      const rlen = der[3];
      const s = BigInt(`0x${der.subarray(6 + rlen).toString('hex')}`);
      assert.ok(s <= half, 'low S');
    }
  });
});
