/**
 * X6 keys in a PKCS#11 token, on the real network: with SoftHSM2 configured, the gateway makes
 * each principal's P-256 key in the token (sensitive, not extractable), has the certificate
 * request signed there and signs transactions with fabric-gateway's HSM signer — they commit, and
 * the certificate the ledger binds carries the token's public key. No key is written to the
 * gateway's state folder. A wrong PIN stops the gateway at start with the reason.
 */
import './support/network.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pkcs11Token } from '../../gateway/src/crypto/pkcs11.js';
import { initSoftHsmToken, type SoftHsmToken } from '../../scripts/hsm/softhsm.js';
import { IOT } from './support/domain.js';
import { gatewayNetwork } from './support/network.js';
import { startLiveGateway, type LiveGateway } from './gateway-support.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

describe('X6: principals’ keys in a PKCS#11 token (SoftHSM2) on the real network', () => {
  let dir: string;
  let hsm: SoftHsmToken;
  let token: Pkcs11Token;
  let gw: LiveGateway;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mvsec-hsm-'));
    hsm = await initSoftHsmToken(dir, 'mvsec-gateway', 'a-user-pin-1234');
    process.env.SOFTHSM2_CONF = hsm.conf; // read by the module when it loads
    token = new Pkcs11Token(hsm);
    gw = await startLiveGateway({ token });
  });
  after(async () => {
    await gw?.close();
    token?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('X6: a principal’s transaction, signed in the token, commits; its certificate carries the token’s key; the key stays in the token', async () => {
    const owner = await gw.as(IOT, 'creator');
    const bound = await owner.call('POST', '/auth/me/key-binding');
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    assert.equal(typeof bound.body.txId, 'string');
    // the identity the gateway enrolled: its key is in the token, named after the principal's CA identity
    const keys = token.privateKeys().filter((k) => k.label.startsWith(`mvsec ${IOT} gw-creator-`));
    assert.ok(keys.length >= 1, JSON.stringify(token.privateKeys()));
    assert.ok(
      keys.every((k) => k.sensitive && !k.extractable),
      JSON.stringify(keys),
    );
    // the stored identity names the key by its CKA_ID and holds no key material
    const stored = filesUnder(join(gw.stateDir, 'identities')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>);
    const mine = stored.find((s) => s.principal === owner.principal)!;
    assert.ok(mine, 'the principal’s identity record');
    assert.equal(mine.key, undefined, 'no sealed key');
    assert.ok(
      keys.some((k) => k.id === mine.tokenKeyId),
      'its CKA_ID is a token key',
    );
    // the key bound on the ledger is the certificate's, which the token made
    const spki = new X509Certificate(String(mine.certificate)).publicKey.export({ format: 'der', type: 'spki' });
    assert.equal(bound.body.result.spkiSha256, createHash('sha256').update(spki).digest('hex'));
    assert.equal(createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    for (const f of filesUnder(gw.stateDir)) assert.ok(!readFileSync(f, 'latin1').includes('PRIVATE KEY'), `${f} holds no PEM key`);
  });

  it('X6: a second principal gets a key of its own in the token; both keep acting', async () => {
    const [a, b] = await Promise.all([gw.as(IOT, 'creator'), gw.as(IOT, 'creator')]);
    assert.equal((await a.call('POST', '/auth/me/key-binding')).status, 201);
    assert.equal((await b.call('POST', '/auth/me/key-binding')).status, 201);
    const ids = new Set(token.privateKeys().map((k) => k.id));
    assert.ok(ids.size >= 3, `three principals, three token keys (${ids.size})`);
  });

  it('X6: a wrong PIN stops the gateway at start with the reason', async () => {
    const cfgDir = mkdtempSync(join(tmpdir(), 'mvsec-hsm-cfg-'));
    try {
      writeFileSync(join(cfgDir, 'pin'), 'not-the-pin\n', { mode: 0o600 });
      writeFileSync(
        join(cfgDir, 'gateway.json'),
        JSON.stringify({ fabric: gatewayNetwork(), pkcs11: { library: hsm.library, tokenLabel: hsm.tokenLabel, pinFile: 'pin' } }),
      );
      assert.equal(statSync(join(cfgDir, 'pin')).mode & 0o777, 0o600);
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', join(ROOT, 'gateway', 'src', 'main.ts')],
          {
            cwd: ROOT,
            env: { ...process.env, MVSEC_GATEWAY_CONFIG: join(cfgDir, 'gateway.json'), MVSEC_GATEWAY_PORT: '0' },
            timeout: 60_000,
          },
          (e, _out, stderr) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /gateway: PKCS#11 token "mvsec-gateway": wrong PIN \(CKR_PIN_INCORRECT\); check the PIN file or MVSEC_PKCS11_PIN/,
      );
    } finally {
      rmSync(cfgDir, { recursive: true, force: true });
    }
  });
});
