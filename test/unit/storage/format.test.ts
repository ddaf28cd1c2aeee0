/** F2/C1: the streamed AES-256-GCM record format: round trip, tampering, truncation, reordering, wrong key. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { DecryptStream, EncryptStream, IntegrityError, MAGIC, TAG_LENGTH, TooLargeError } from '../../../gateway/src/storage/format.js';

async function encrypt(plain: Buffer, key: Buffer, recordSize = 1024, chunk = 777) {
  const enc = new EncryptStream(key, 'dk-test', { recordSize });
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
const headerLength = (b: Buffer) => MAGIC.length + 4 + b.readUInt32BE(MAGIC.length);

describe('storage format: streamed AES-256-GCM records (F2, C1, C3)', () => {
  const key = randomBytes(32);

  it('C1: round trip for empty, one-record, exact-multiple and ragged sizes; fingerprint and address computed while streaming', async () => {
    for (const n of [0, 1, 1023, 1024, 4096, 5000]) {
      const plain = randomBytes(n);
      const { bytes, enc } = await encrypt(plain, key);
      assert.equal(enc.sha256, sha(plain), `sha ${n}`);
      assert.equal(enc.size, n);
      assert.equal(enc.address, sha(bytes));
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
});
