/** F2/C1: the streamed AES-256-GCM record format: round trip, tampering, truncation, reordering, wrong key. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  DecryptStream,
  DEFAULT_RECORD_SIZE,
  EncryptStream,
  IntegrityError,
  MAGIC,
  StoredBytesHash,
  TAG_LENGTH,
  TooLargeError,
} from '../../../gateway/src/r2-storage/format.js';
import { addressHasher } from '../../../gateway/src/r2-storage/content-address.js';

async function encrypt(plain: Buffer, key: Buffer, recordSize: number | null = 1024, chunk = 777, hashOffThread = true) {
  const enc = new EncryptStream(key, 'dk-test', { ...(recordSize === null ? {} : { recordSize }), hashOffThread });
  const parts: Buffer[] = [];
  const chunks = [];
  for (let i = 0; i < plain.length; i += chunk) chunks.push(plain.subarray(i, i + chunk));
  await pipeline(Readable.from(chunks), enc, collect(parts));
  return { bytes: Buffer.concat(parts), enc };
}

function collect(parts: Buffer[]) {
  return new Writable({
    write(c: Buffer, _e, cb) {
      parts.push(c);
      cb();
    },
  });
}

async function decrypt(bytes: Buffer, key: Buffer, expect = {}, chunk = 1000) {
  const dec = new DecryptStream(key, expect);
  const parts: Buffer[] = [];
  const chunks = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  await pipeline(Readable.from(chunks), dec, collect(parts));
  return { plain: Buffer.concat(parts), dec };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const b3 = (b: Buffer) => {
  const h = addressHasher('blake3');
  h.update(b);
  return h.digest();
};
const headerLength = (b: Buffer) => MAGIC.length + 4 + b.readUInt32BE(MAGIC.length);

/** Written by the writer of commit 6447476 (format v1, 64-byte records, key 01..20, two input chunks). */
const V1_OBJECT = Buffer.from(
  'TVZTTzEKAAAAeHsiYWxnIjoiQTI1NkdDTS1TVFJFQU0tdjEiLCJrZXlJZCI6ImRrLTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAxIiwicmVjb3JkU2l6ZSI6NjQsIm5vbmNlUHJlZml4IjoiNTE4ZDUxNzYyN2Q2OWEifSAyN/V8ks0rwEe/TY1KdgF7Zd20TQirDDCegY2NoVC8oH5EFFgKPxzphrJ7a0oUaPaoEULVVW71FX3Tk61EYEdylyOmU2JN4IXVS5lmOuEL26dRJ6xGDpZKSc6y5YXNpXlp/XFgLXhg85rotvRtlLGEMKpCBW5ad1JXqeXNHgb36NUniVvzZh9g0u4DJ3znRkaXZ3WDV/0ZBLjk1LgCCViE1kmU00YE5LTMLpHjKoDWHR2nSE+m9/qiqzwE9ooiMUcR06N8AQ==',
  'base64',
);
const V1_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));
const V1_ADDRESS = '3b8ea58e48deb3eadc8ff25c75ef5c3522d637a7a63b8a13d5f88fae7c355a74';

describe('storage format: streamed AES-256-GCM records (F2, C1, C3)', () => {
  const key = randomBytes(32);

  it('C1: round trip for empty, one-record, exact-multiple and ragged sizes; fingerprint and address computed while streaming', async () => {
    for (const n of [0, 1, 1023, 1024, 4096, 5000]) {
      const plain = randomBytes(n);
      const { bytes, enc } = await encrypt(plain, key);
      assert.equal(enc.sha256, sha(plain), `sha ${n}`);
      assert.equal(enc.size, n);
      assert.equal(enc.address, b3(bytes));
      const records = Math.max(1, Math.ceil(n / 1024));
      assert.equal(bytes.length, headerLength(bytes) + n + records * TAG_LENGTH, `layout ${n}`);
      assert.equal(bytes.includes(plain.subarray(0, Math.min(n, 64))) && n >= 16, false, 'plaintext not visible');
      const { plain: back, dec } = await decrypt(bytes, key, { sha256: sha(plain), size: n, address: enc.address, keyId: 'dk-test' });
      assert.ok(back.equals(plain), `round trip ${n}`);
      assert.equal(dec.sha256, sha(plain));
    }
  });

  it('F2: one flipped byte anywhere (header, ciphertext, tag) is an integrity error', async () => {
    const plain = randomBytes(3000);
    const { bytes } = await encrypt(plain, key);
    const h = headerLength(bytes);
    for (const pos of [h - 3, h, h + 1500, bytes.length - 1]) {
      const bad = Buffer.from(bytes);
      bad[pos] ^= 0x01;
      await assert.rejects(decrypt(bad, key), (e: Error) => e instanceof IntegrityError, `flip at ${pos}`);
    }
  });

  it('F2: truncation at a record boundary is reported as truncation; a cut inside a record and appended bytes are refused', async () => {
    const plain = randomBytes(3000);
    const { bytes } = await encrypt(plain, key);
    const h = headerLength(bytes);
    const twoRecords = bytes.subarray(0, h + 2 * (1024 + TAG_LENGTH));
    await assert.rejects(decrypt(twoRecords, key), /truncated: record 1 is not the last one/);
    await assert.rejects(decrypt(bytes.subarray(0, bytes.length - 5), key), IntegrityError);
    await assert.rejects(decrypt(bytes.subarray(0, h - 1), key), /incomplete header/);
    await assert.rejects(decrypt(Buffer.concat([bytes, Buffer.from('extra')]), key), IntegrityError);
  });

  it('F2: swapped records are refused (the counter is in the nonce)', async () => {
    const plain = randomBytes(3000);
    const { bytes } = await encrypt(plain, key);
    const h = headerLength(bytes);
    const r = 1024 + TAG_LENGTH;
    const swapped = Buffer.concat([
      bytes.subarray(0, h),
      bytes.subarray(h + r, h + 2 * r),
      bytes.subarray(h, h + r),
      bytes.subarray(h + 2 * r),
    ]);
    await assert.rejects(decrypt(swapped, key), /record 0 failed authentication/);
  });

  it('C1: the wrong data key fails at the first record and releases nothing', async () => {
    const { bytes } = await encrypt(randomBytes(5000), key);
    const dec = new DecryptStream(randomBytes(32));
    const parts: Buffer[] = [];
    await assert.rejects(pipeline(Readable.from([bytes]), dec, collect(parts)), /record 0 failed authentication/);
    assert.equal(parts.length, 0);
  });

  it("F2: a plaintext that is not the ledger's is refused before its last record is released", async () => {
    const plain = randomBytes(500);
    const { bytes } = await encrypt(plain, key);
    const parts: Buffer[] = [];
    await assert.rejects(
      pipeline(Readable.from([bytes]), new DecryptStream(key, { sha256: sha(randomBytes(8)) }), collect(parts)),
      /differs from the ledger's fingerprint/,
    );
    assert.equal(Buffer.concat(parts).length, 0, 'a one-record object releases nothing');
    await assert.rejects(decrypt(bytes, key, { size: 499 }), /the ledger says 499/);
    await assert.rejects(decrypt(bytes, key, { keyId: 'dk-other' }), /not dk-other/);
  });

  it('S2: the size limit stops an upload while streaming', async () => {
    const enc = new EncryptStream(key, 'dk-test', { maxBytes: 2000 });
    await assert.rejects(pipeline(Readable.from([randomBytes(1500), randomBytes(1500)]), enc, collect([])), TooLargeError);
  });

  it("C1: the hashes are exactly the plaintext's SHA-256 and the stored bytes' BLAKE3-256, for 0 B, 1 B and odd chunks across the hashing ring", async () => {
    const big = randomBytes(5 * 1024 * 1024 + 3);
    const cases: [Buffer, number][] = [
      [Buffer.alloc(0), 1],
      [randomBytes(1), 1],
      [randomBytes(70_001), 1], // one byte at a time
      [big, 4097],
      [big, 1024 * 1024 + 1],
    ];
    for (const [plain, chunk] of cases)
      for (const off of [true, false]) {
        const { bytes, enc } = await encrypt(plain, key, null, chunk, off);
        const what = `${plain.length} B in ${chunk} B chunks, hashes ${off ? 'on the workers' : 'on this thread'}`;
        assert.equal(enc.sha256, sha(plain), `plaintext hash, ${what}`);
        assert.equal(enc.address, b3(bytes), `stored-bytes hash, ${what}`);
        assert.equal(enc.size, plain.length);
        const records = Math.max(1, Math.ceil(plain.length / DEFAULT_RECORD_SIZE));
        assert.equal(bytes.length, headerLength(bytes) + plain.length + records * TAG_LENGTH, `layout, ${what}`);
        const { plain: back, dec } = await decrypt(bytes, key, { sha256: enc.sha256, address: enc.address, size: plain.length }, 65_537);
        assert.ok(back.equals(plain), `round trip, ${what}`);
        assert.equal(dec.objectHeader?.recordSize, 256 * 1024);
      }
  });

  it('C1: the content address is BLAKE3-256 for v2 objects and SHA-256 for v1, read off the header in any chunking; keyless checks see a swapped version', async () => {
    // the BLAKE3 reference vectors (BLAKE3 team's test_vectors.json, input length 0 and "abc")
    assert.equal(b3(Buffer.alloc(0)), 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    assert.equal(b3(Buffer.from('abc')), '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
    const stored = (bytes: Buffer, chunk: number) => {
      const h = new StoredBytesHash();
      for (let i = 0; i < bytes.length; i += chunk) h.update(bytes.subarray(i, i + chunk));
      return h.digest();
    };
    const { bytes, enc } = await encrypt(randomBytes(5000), key);
    assert.match(bytes.subarray(0, headerLength(bytes)).toString('latin1'), /"alg":"A256GCM-STREAM-v2"/);
    for (const chunk of [1, 7, 4096, bytes.length]) assert.equal(stored(bytes, chunk), enc.address, `v2 in ${chunk} B chunks`);
    assert.equal(stored(V1_OBJECT, 3), V1_ADDRESS, 'a v1 object keeps its SHA-256 address');
    assert.equal(V1_ADDRESS, sha(V1_OBJECT));
    // not an object at all (or a header this code does not read): SHA-256, so no v2 address matches
    const junk = randomBytes(300);
    assert.equal(stored(junk, 50), sha(junk));
    assert.equal(stored(Buffer.alloc(0), 1), sha(Buffer.alloc(0)));
    // a v1 object relabelled v2 (same length) hashes differently and no longer authenticates
    const relabelled = Buffer.from(V1_OBJECT.toString('latin1').replace('STREAM-v1', 'STREAM-v2'), 'latin1');
    assert.notEqual(stored(relabelled, 64), V1_ADDRESS);
    await assert.rejects(decrypt(relabelled, V1_KEY, {}), /record 0 failed authentication/);
  });

  it('F2: an object written before the 256 KiB default (by the previous writer) still decrypts and verifies', async () => {
    const legacy = V1_OBJECT;
    const k = V1_KEY;
    const plain = Buffer.from(Array.from({ length: 150 }, (_, i) => (i * 7 + 3) & 0xff));
    const expect = {
      keyId: 'dk-00000000000000000000000000000001',
      sha256: 'c695ceb0b71f85051f19f35d77dcf44ed433c9db49f46d7858a599f6186af365',
      address: V1_ADDRESS,
      size: 150,
    };
    const { plain: back, dec } = await decrypt(legacy, k, expect, 50);
    assert.ok(back.equals(plain));
    assert.equal(dec.objectHeader?.recordSize, 64);
    const bad = Buffer.from(legacy);
    bad[bad.length - 20] ^= 1;
    await assert.rejects(decrypt(bad, k, expect), /record 2 failed authentication/);
    // and this writer's 64 KiB records (the previous default) read back as before
    const p2 = randomBytes(200_000);
    const { bytes, enc } = await encrypt(p2, key, 64 * 1024, 30_000);
    assert.equal(bytes.length, headerLength(bytes) + p2.length + 4 * TAG_LENGTH);
    assert.ok((await decrypt(bytes, key, { sha256: enc.sha256, address: enc.address })).plain.equals(p2));
  });
});
