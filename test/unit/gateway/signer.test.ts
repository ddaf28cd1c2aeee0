/**
 * Transaction signing on OpenSSL (fabric/signer.ts): what it produces is what Fabric accepts —
 * DER, low-S (checked with the curve library fabric-gateway itself signs and verifies with, lowS
 * enforced), over SHA-256 of the message; a high s is folded; other curves keep the SDK's signer.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { hash } from '@hyperledger/fabric-gateway';
import { p256, p384 } from '@noble/curves/nist';
import { lowSDer, transactionSigner } from '../../../gateway/src/ledger/signer.js';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The two INTEGERs of a DER ECDSA signature. */
function parseDer(der: Uint8Array): { r: bigint; s: bigint } {
  const b = Buffer.from(der);
  assert.equal(b[0], 0x30);
  assert.equal(b[1], b.length - 2, 'sequence length');
  const int = (at: number) => {
    assert.equal(b[at], 0x02);
    const len = b[at + 1];
    const bytes = b.subarray(at + 2, at + 2 + len);
    assert.ok(len === 1 || !(bytes[0] === 0 && !(bytes[1] & 0x80)), 'minimal encoding');
    assert.equal(bytes[0] & 0x80, 0, 'positive');
    return { v: BigInt(`0x${bytes.toString('hex')}`), next: at + 2 + len };
  };
  const r = int(2);
  const s = int(r.next);
  assert.equal(s.next, b.length);
  return { r: r.v, s: s.v };
}

describe('fabric: transaction signer on OpenSSL', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const point = Buffer.concat([
    Buffer.of(4),
    Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
    Buffer.from(publicKey.export({ format: 'jwk' }).y!, 'base64url'),
  ]);

  it('signs the message (hash.none) with SHA-256: DER, low-S, valid for OpenSSL and for the curve library with lowS enforced', async () => {
    const { signer, hash: h } = transactionSigner(privateKey);
    assert.equal(h, hash.none);
    for (let i = 0; i < 200; i++) {
      const message = randomBytes(1 + (i % 97) * 13);
      const der = await signer(message);
      const { s } = parseDer(der);
      assert.ok(s <= N >> 1n, 'low S');
      assert.equal(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der), true);
      const digest = createHash('sha256').update(message).digest();
      assert.equal(p256.verify(der, digest, point, { prehash: false, lowS: true, format: 'der' }), true);
      assert.equal(p256.verify(der, createHash('sha256').update('other').digest(), point, { prehash: false, format: 'der' }), false);
    }
  });

  it('folds a high s into n − s (the same signature, the form Fabric accepts)', () => {
    const rs = Buffer.alloc(64);
    rs[31] = 5; // r = 5
    Buffer.from((N - 1n).toString(16), 'hex').copy(rs, 32); // s = n − 1
    const { r, s } = parseDer(lowSDer(rs));
    assert.equal(r, 5n);
    assert.equal(s, 1n);
    const high = Buffer.alloc(64, 0xff); // r with its top bit set gets a leading zero byte
    high.set(Buffer.alloc(32), 32);
    high[63] = 7;
    const p = parseDer(lowSDer(high));
    assert.equal(p.r, BigInt(`0x${'ff'.repeat(32)}`));
    assert.equal(p.s, 7n);
  });

  it('a key on another curve keeps the SDK signer over the SHA-256 digest', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const { signer, hash: h } = transactionSigner(other.privateKey);
    assert.equal(h, hash.sha256);
    const digest = createHash('sha256').update('proposal').digest();
    const der = await signer(digest);
    const jwk = other.publicKey.export({ format: 'jwk' });
    const point384 = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    assert.equal(p384.verify(der, digest, point384, { prehash: false, lowS: true, format: 'der' }), true);
  });
});
