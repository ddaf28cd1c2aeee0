import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/common/serialization';
import { assertId, assertSha256, assertTimestamp } from '../../src/common/validation';
import { merkleRoot, rootFromProof, sha256Hex } from 'mvsec-protocol';
import { MemoryLedger, MemoryStub } from '../support/memory-ledger';

describe('deterministic serialization', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: null }], c: 'é' } }),
      '{"a":{"c":"é","d":[3,{"x":null,"z":1}]},"b":1}',
    );
  });
  it('refuses values JSON cannot hold deterministically', () => {
    assert.throws(() => canonicalJson({ n: Number.NaN }), /non-finite/);
    assert.throws(() => canonicalJson({ f: () => 1 }), /cannot serialize function/);
  });
});

describe('validation', () => {
  it('U+0000 and other control characters in an id are refused with the position', () => {
    assert.throws(() => assertId('thingId', 'wat\u0000ch'), /INVALID: thingId contains a control character \(U\+0000\) at position 3/);
    assert.throws(() => assertId('thingId', 'a\nb'), /U\+000A/);
    assert.throws(() => assertId('thingId', 'a\u0085b'), /U\+0085/);
  });
  it('ids are bounded, non-empty, not padded, without U+10FFFF', () => {
    assert.equal(assertId('x', 'a'.repeat(128)), 'a'.repeat(128));
    assert.throws(() => assertId('x', 'a'.repeat(129)), /longer than 128/);
    assert.throws(() => assertId('x', ''), /required/);
    assert.throws(() => assertId('x', ' a'), /whitespace/);
    assert.throws(() => assertId('x', 'a\u{10ffff}'), /U\+10FFFF/);
  });
  it('hashes are 64 lower-case hex characters; timestamps are ISO-8601 and normalised to UTC', () => {
    assert.throws(() => assertSha256('h', 'A'.repeat(64)), /SHA-256/);
    assert.equal(assertTimestamp('t', '2025-03-01T12:00:00+02:00'), '2025-03-01T10:00:00.000Z');
    assert.throws(() => assertTimestamp('t', '2025-03-01'), /ISO-8601/);
  });
});

describe('in-memory stub', () => {
  it('reads do not see own writes; pages carry the next key as bookmark; paged queries refuse writes', async () => {
    const ledger = new MemoryLedger();
    const tx = (n: number) => new MemoryStub(ledger, { txId: `t${n}`, timestampMs: 0, fcn: 'f', args: [], mspId: 'IoTPlatformMSP' });
    const s1 = tx(1);
    for (const k of ['a', 'b', 'c']) await s1.putState(s1.createCompositeKey('k', [k]), Buffer.from(k));
    assert.equal((await s1.getState(s1.createCompositeKey('k', ['a']))).length, 0);
    s1.commit([]);
    const s2 = tx(2);
    const p1 = await s2.getStateByPartialCompositeKeyWithPagination('k', [], 2, '');
    assert.equal(p1.metadata.bookmark, s2.createCompositeKey('k', ['c']));
    const p2 = await s2.getStateByPartialCompositeKeyWithPagination('k', [], 2, p1.metadata.bookmark);
    assert.equal(p2.metadata.bookmark, '');
    await s2.putState('x', Buffer.from('1'));
    assert.throws(() => s2.commit([]), /read-only/);
  });
});

describe('Merkle proofs', () => {
  it('C3: a proof from a leaf reaches the root built by the shared convention', () => {
    const leaves = ['r1', 'r2', 'r3'].map((r) => sha256Hex(r));
    const root = merkleRoot(leaves);
    const l3 = Buffer.from(leaves[2], 'hex');
    const pair = sha256Hex(Buffer.concat([l3, l3]));
    const left = sha256Hex(Buffer.concat([Buffer.from(leaves[0], 'hex'), Buffer.from(leaves[1], 'hex')]));
    assert.equal(
      rootFromProof(leaves[2], [
        { position: 'R', sha256: leaves[2] },
        { position: 'L', sha256: left },
      ]),
      root,
    );
    assert.equal(sha256Hex(Buffer.concat([Buffer.from(left, 'hex'), Buffer.from(pair, 'hex')])), root);
  });
});
