/**
 * R6/X4/C1–C3: the DPM envelope — ECDH P-256 to the recipient's certificate key, HKDF-SHA256,
 * AES-256-GCM, signed by the sender whose certificate must chain to its organisation's CA.
 */
import assert from 'node:assert/strict';
import { randomBytes, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  canonicalCbor,
  decodeEnvelope,
  EnvelopeError,
  openEnvelope,
  sealEnvelope,
  sha256Hex,
  verifyEnvelope,
  type SealInput,
} from 'mvsec-protocol/dpm';
import { Pki, type Leaf } from './pki.js';

const MV = 'MetaverseAMSP';
const DPM = 'DPMProviderMSP';

describe('R6/X4 DPM envelope (C1, C2, C3)', () => {
  let pki: Pki;
  let requester: Leaf, provider: Leaf, otherProvider: Leaf, impostor: Leaf, foreignIssued: Leaf;
  let trust: Map<string, string>;
  const payload = Buffer.concat([Buffer.from('t,x,y,z\n1,0.1,0.2,0.3\n'), randomBytes(300)]);
  const base = (): SealInput => ({
    kind: 'input',
    jobId: 'job-1',
    providerId: 'dpm-1',
    purpose: 'analytics',
    payload,
    meta: { inputs: [{ dataId: 'd-1', sha256: sha256Hex(payload) }] },
    sender: requester,
    recipient: provider,
  });
  const opts = () => ({ trust, expect: { kind: 'input' as const, jobId: 'job-1', providerId: 'dpm-1', purpose: 'analytics' } });
  const refusal = (fn: () => unknown): EnvelopeError => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof EnvelopeError, `expected an EnvelopeError, got ${String(e)}`);
      return e;
    }
    assert.fail('the envelope was accepted');
  };

  before(() => {
    pki = new Pki();
    requester = pki.leaf(MV, 'mv-admin', { role: 'admin', principal: 'mv-admin' });
    provider = pki.leaf(DPM, 'dpm-worker-1', { role: 'dpm', principal: 'dpm-1' });
    otherProvider = pki.leaf(DPM, 'dpm-worker-2', { role: 'dpm', principal: 'dpm-2' });
    // claims MetaverseAMSP but was issued by another organisation's CA
    foreignIssued = pki.leaf(MV, 'mv-fake', { role: 'admin', principal: 'mv-admin' }, 'EvilMSP');
    impostor = pki.leaf(MV, 'mv-other', { role: 'admin', principal: 'mv-other' });
    trust = new Map([
      [MV, pki.ca(MV)],
      [DPM, pki.ca(DPM)],
    ]);
  });
  after(() => pki.close());

  it('R6/X4: round trip — the provider opens what the requester sealed; sender, attributes and fingerprint are reported', () => {
    const bytes = sealEnvelope(base());
    const o = openEnvelope(bytes, provider, opts());
    assert.ok(o.payload.equals(payload));
    assert.equal(o.envelope.sender.mspId, MV);
    assert.deepEqual(o.senderAttrs, { role: 'admin', principal: 'mv-admin' });
    assert.equal(o.sha256, sha256Hex(bytes));
    assert.deepEqual(o.envelope.meta, { inputs: [{ dataId: 'd-1', sha256: sha256Hex(payload) }] });
    // encrypted: the plaintext is nowhere in the envelope
    assert.equal(bytes.includes(payload.subarray(0, 16)), false);
    // canonical: re-encoding what it decodes to gives the same bytes
    assert.ok(canonicalCbor(decodeEnvelope(bytes)).equals(bytes));
    // two seals of the same payload differ (fresh ephemeral key, salt, IV)
    assert.notEqual(sha256Hex(sealEnvelope(base())), sha256Hex(bytes));
  });

  it('R6/C2: result envelopes go back the same way (provider → requester)', () => {
    const out = Buffer.from(JSON.stringify({ count: 3 }));
    const bytes = sealEnvelope({ ...base(), kind: 'result', payload: out, sender: provider, recipient: requester });
    const o = openEnvelope(bytes, requester, { trust, expect: { kind: 'result', senderMspId: DPM } });
    assert.ok(o.payload.equals(out));
    assert.equal(o.senderAttrs.principal, 'dpm-1');
  });

  it('C3: tampering with any byte of the envelope is refused', () => {
    const bytes = sealEnvelope({ ...base(), payload: Buffer.from('small payload') });
    let refused = 0;
    for (let i = 0; i < bytes.length; i++) {
      const t = Buffer.from(bytes);
      t[i] ^= 0x01;
      refusal(() => openEnvelope(t, provider, opts()));
      refused++;
    }
    assert.equal(refused, bytes.length);
    // appended or truncated bytes too
    refusal(() => openEnvelope(Buffer.concat([bytes, Buffer.from([0])]), provider, opts()));
    refusal(() => openEnvelope(bytes.subarray(0, bytes.length - 1), provider, opts()));
  });

  it('C1: the wrong recipient key is refused with a clear error (and cannot decrypt even if it lies about the recipient)', () => {
    const bytes = sealEnvelope(base());
    const e = refusal(() => openEnvelope(bytes, otherProvider, opts()));
    assert.equal(e.code, 'WRONG_RECIPIENT');
    assert.match(e.message, /envelope is encrypted to certificate [0-9a-f]{16}… of DPMProviderMSP, not to this key's certificate/);
    // with the recipient check bypassed (the other key claims the certificate), the key agreement gives the wrong key
    const e2 = refusal(() => openEnvelope(bytes, { certificate: provider.certificate, privateKey: otherProvider.privateKey }, opts()));
    assert.equal(e2.code, 'DECRYPT');
  });

  it('C3: the wrong signer is refused — a key that is not the certificate’s, a certificate of another CA, an unknown organisation', () => {
    // signed with a key that does not belong to the certificate inside
    const wrongKey = sealEnvelope({ ...base(), sender: { ...requester, privateKey: impostor.privateKey } });
    assert.equal(refusal(() => openEnvelope(wrongKey, provider, opts())).code, 'BAD_SIGNATURE');
    // a certificate claiming MetaverseAMSP, issued by another CA
    const foreign = sealEnvelope({ ...base(), sender: foreignIssued });
    const e = refusal(() => openEnvelope(foreign, provider, opts()));
    assert.equal(e.code, 'UNTRUSTED_SENDER');
    assert.match(e.message, /was not issued by the CA of MetaverseAMSP/);
    // an organisation the recipient has no CA certificate for
    const unknown = sealEnvelope({ ...base(), sender: { ...pki.leaf('EvilMSP', 'x'), mspId: 'EvilMSP' } });
    assert.match(
      refusal(() => openEnvelope(unknown, provider, opts())).message,
      /no trusted CA certificate for sender organisation EvilMSP/,
    );
    // a different, valid sender of the same org verifies (so the refusals above are about the signer, not the org)
    assert.equal(verifyEnvelope(sealEnvelope({ ...base(), sender: impostor }), { trust }).senderAttrs.principal, 'mv-other');
  });

  it('X4: the header binds the job — an envelope for another job, provider, purpose or kind is refused', () => {
    const bytes = sealEnvelope(base());
    for (const expect of [
      { jobId: 'job-2' },
      { providerId: 'dpm-2' },
      { purpose: 'ads' },
      { kind: 'result' as const },
      { senderMspId: DPM },
    ]) {
      assert.equal(refusal(() => openEnvelope(bytes, provider, { trust, expect })).code, 'MISMATCH');
    }
    // a re-signed envelope with another jobId but the original ciphertext does not decrypt: HKDF info binds jobId
    const e = decodeEnvelope(bytes);
    const forged = sealEnvelope({ ...base(), jobId: 'job-2' });
    const mixed = decodeEnvelope(forged);
    mixed.ct = e.ct;
    mixed.iv = e.iv;
    mixed.salt = e.salt;
    mixed.epk = e.epk;
    const unsigned = { ...mixed } as Record<string, unknown>;
    delete unsigned.sig;
    mixed.sig = sign('sha256', canonicalCbor(unsigned), requester.privateKey);
    assert.equal(refusal(() => openEnvelope(canonicalCbor(mixed), provider, { trust })).code, 'DECRYPT');
  });

  it('C3: malformed input is refused as MALFORMED, never thrown as something else', () => {
    for (const junk of [Buffer.alloc(0), Buffer.from('not cbor'), canonicalCbor({ v: 1 }), canonicalCbor([1, 2, 3])]) {
      assert.equal(refusal(() => openEnvelope(junk, provider, opts())).code, 'MALFORMED');
    }
  });
});
