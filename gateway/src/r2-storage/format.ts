/**
 * The encrypted object format (docs/storage.md): AES-256-GCM over a stream, in records.
 *
 *   object  = MAGIC(6) | headerLength(u32 BE) | header (JSON, UTF-8) | record*
 *   record  = ciphertext (exactly `recordSize` bytes of plaintext, or 0..recordSize for the last) | tag(16)
 *   nonce_i = noncePrefix(7 random bytes, per object) | i (u32 BE) | final (0x00 or 0x01)
 *   AAD     = SHA-256(MAGIC | headerLength | header)
 *
 * Every record is authenticated on its own under the object's data key. The record counter in the
 * nonce detects reordering, dropping or duplicating records; the final flag in the nonce detects
 * truncation (the last record present must have been encrypted as the last) and appended data;
 * the AAD binds every record to the header (key id, nonce prefix, record size). Memory is one record
 * (plus the stream buffers), whatever the object's size. The plaintext's SHA-256 (the ledger's
 * fingerprint) and the content address (BLAKE3-256 of the stored bytes; SHA-256 for v1 objects,
 * content-address.ts) are computed on the way.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { addressHasher, type AddressAlgorithm, type AddressHasher } from './content-address.js';
import { LocalSha256, OffThreadSha256, type StreamHash } from './hash-worker.js';

export const MAGIC = Buffer.from('MVSO1\n', 'latin1');
export const TAG_LENGTH = 16;
/**
 * 256 KiB: AES-GCM alone runs ~20% faster here than in 64 KiB records (fewer cipher objects and
 * buffers). The header carries the size, so objects written with 64 KiB records still decode.
 */
export const DEFAULT_RECORD_SIZE = 256 * 1024;
/** The format written; v1 (same records, SHA-256 content address) is still read. */
export const ALG = 'A256GCM-STREAM-v2';
export const ALG_V1 = 'A256GCM-STREAM-v1';
/** Each format version's content-address hash: a keyless verifier reads it off the header. */
const ADDRESS_ALGORITHM: Record<ObjectHeader['alg'], AddressAlgorithm> = { [ALG]: 'blake3', [ALG_V1]: 'sha256' };
const MAX_HEADER = 4096;

export interface ObjectHeader {
  alg: typeof ALG | typeof ALG_V1;
  keyId: string;
  recordSize: number;
  /** 7 random bytes, hex. */
  noncePrefix: string;
}

/** The stored object does not decrypt, is truncated, or is not the data the ledger describes. */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/** The plaintext is larger than allowed. */
export class TooLargeError extends Error {
  constructor(public readonly limit: number) {
    super(`object exceeds the limit of ${limit} bytes`);
    this.name = 'TooLargeError';
  }
}

function nonce(prefix: Buffer, counter: number, final: boolean): Buffer {
  const n = Buffer.allocUnsafe(12);
  prefix.copy(n, 0, 0, 7);
  n.writeUInt32BE(counter, 7);
  n[11] = final ? 1 : 0;
  return n;
}

export function encodeHeader(h: ObjectHeader): Buffer {
  const body = Buffer.from(JSON.stringify(h), 'utf8');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([MAGIC, len, body]);
}

/**
 * Parse the header at the start of `head`: undefined while incomplete; IntegrityError when the
 * bytes are not a header of a format this code reads. `end` is where the records begin.
 */
function parseHeader(head: Buffer): { header: ObjectHeader; end: number } | undefined {
  if (head.length < MAGIC.length + 4) return undefined;
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new IntegrityError('not an encrypted object (bad magic)');
  const len = head.readUInt32BE(MAGIC.length);
  if (len > MAX_HEADER) throw new IntegrityError('object header is too large');
  const end = MAGIC.length + 4 + len;
  if (head.length < end) return undefined;
  let h: ObjectHeader;
  try {
    h = JSON.parse(head.subarray(MAGIC.length + 4, end).toString('utf8')) as ObjectHeader;
  } catch {
    throw new IntegrityError('object header is not valid JSON');
  }
  if (!Object.hasOwn(ADDRESS_ALGORITHM, h?.alg)) throw new IntegrityError(`unsupported object format ${String(h?.alg)}`);
  if (!Number.isInteger(h.recordSize) || h.recordSize < 1 || h.recordSize > 16 * 1024 * 1024)
    throw new IntegrityError('object header has a bad record size');
  if (typeof h.noncePrefix !== 'string' || !/^[0-9a-f]{14}$/.test(h.noncePrefix)) throw new IntegrityError('object header has a bad nonce');
  return { header: h, end };
}

/**
 * The content address of stored bytes given in any chunks, with the hash the object's header names.
 * Bytes that do not start with a readable header are hashed with SHA-256 (v1's rule): their digest
 * then matches no address written since, and a damaged v1 header changes its SHA-256 anyway.
 */
export class StoredBytesHash {
  private h: AddressHasher | undefined;
  private head: Buffer | undefined = Buffer.alloc(0);

  update(b: Buffer): void {
    if (this.h) return this.h.update(b);
    this.head = Buffer.concat([this.head!, b]);
    let algorithm: AddressAlgorithm | undefined;
    try {
      const p = parseHeader(this.head);
      if (p) algorithm = ADDRESS_ALGORITHM[p.header.alg];
    } catch {
      algorithm = 'sha256';
    }
    if (algorithm) this.start(algorithm);
  }

  digest(): string {
    if (!this.h) this.start('sha256');
    return this.h!.digest();
  }

  private start(algorithm: AddressAlgorithm): void {
    this.h = addressHasher(algorithm);
    this.h.update(this.head!);
    this.head = undefined;
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new Error('a data key is 32 bytes (AES-256)');
}

/**
 * Plaintext in, encrypted object out. After 'end': `sha256`, `size` (plaintext) and `address`
 * (BLAKE3-256 of the output). One pass: both hashes and the encryption per chunk; whole records
 * inside an input chunk are encrypted in place (no copy), and the last whole record of a chunk is
 * held back as a view of it until the next chunk (Node's stream contract: a producer does not
 * reuse a buffer it has written).
 */
export class EncryptStream extends Transform {
  sha256 = '';
  address = '';
  size = 0;
  /** The plaintext's SHA-256, on a hashing worker unless `hashOffThread: false`. */
  private plainHash: StreamHash | undefined;
  /** The content address, here: BLAKE3 costs less than handing the bytes to a worker would. */
  private outHash: AddressHasher | undefined;
  private readonly record: Buffer;
  private fill = 0;
  private counter = 0;
  private readonly prefix = randomBytes(7);
  private readonly aad: Buffer;
  private readonly header: Buffer;
  private headerSent = false;
  /**
   * A complete record not sealed yet (the writer holds one back to know which is last): a view of
   * the input chunk when the record lies whole inside it (no copy), else the record buffer.
   */
  private held: Buffer | undefined;

  constructor(
    private readonly key: Buffer,
    keyId: string,
    private readonly opts: { recordSize?: number; maxBytes?: number; hashOffThread?: boolean } = {},
  ) {
    // 1 MiB of output may wait for the sink: encryption goes on while a write is in flight
    super({ highWaterMark: Math.max(1024 * 1024, 2 * (opts.recordSize ?? DEFAULT_RECORD_SIZE)) });
    checkKey(key);
    const recordSize = opts.recordSize ?? DEFAULT_RECORD_SIZE;
    if (!Number.isInteger(recordSize) || recordSize < 1 || recordSize > 16 * 1024 * 1024)
      throw new Error('recordSize must be 1 B … 16 MiB');
    // Its own allocation (never a slice of the shared pool), so `plain === this.record` below is exact.
    this.record = Buffer.allocUnsafeSlow(recordSize);
    this.header = encodeHeader({ alg: ALG, keyId, recordSize, noncePrefix: this.prefix.toString('hex') });
    this.aad = createHash('sha256').update(this.header).digest();
  }

  private out(b: Buffer): void {
    this.outHash!.update(b);
    this.push(b);
  }

  /** First call (first chunk or end): start the hashes (a worker is held only while data flows) and send the header. */
  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.plainHash = this.opts.hashOffThread !== false ? new OffThreadSha256() : new LocalSha256();
    this.outHash = addressHasher(ADDRESS_ALGORITHM[ALG]);
    this.out(this.header);
  }

  /**
   * Encrypt one record and push ciphertext and tag as they are: no concatenation (copying every
   * output byte once more cost ~15% of the write path); the sink gathers them with writev.
   */
  private seal(final: boolean, plain: Buffer): void {
    if (this.counter > 0xffffffff) throw new Error('object has too many records');
    const c = createCipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.counter++, final), { authTagLength: TAG_LENGTH });
    c.setAAD(this.aad);
    const ct = c.update(plain);
    c.final();
    if (ct.length) this.out(ct);
    this.out(c.getAuthTag());
    if (plain.buffer === this.record.buffer) this.fill = 0; // the record buffer is free again
  }

  /** Seal the held-back record: more data follows, so it is not the last one. */
  private sealHeld(): void {
    if (!this.held) return;
    const h = this.held;
    this.held = undefined;
    this.seal(false, h);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.sendHeader();
      this.size += chunk.length;
      if (this.opts.maxBytes !== undefined && this.size > this.opts.maxBytes) throw new TooLargeError(this.opts.maxBytes);
      // queued to the hashing worker first, so it hashes while this thread encrypts
      this.plainHash!.update(chunk);
      const R = this.record.length;
      let off = 0;
      while (off < chunk.length) {
        // A full record is sealed only once more data arrives: the last record must carry the final flag.
        this.sealHeld();
        if (this.fill === 0 && chunk.length - off >= R) {
          // a whole record inside the chunk: held as a view and encrypted in place, no copy
          this.held = chunk.subarray(off, off + R);
          off += R;
          continue;
        }
        const n = chunk.copy(this.record, this.fill, off, Math.min(chunk.length, off + R - this.fill));
        this.fill += n;
        off += n;
        if (this.fill === R) this.held = this.record;
      }
      // a full ring: wait until the worker caught up (bounded memory)
      const wait = this.plainHash!.ready();
      if (wait) wait.then(() => cb(), cb);
      else cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.plainHash?.discard();
    cb(err);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.sendHeader();
      const last = this.held ?? this.record.subarray(0, this.fill);
      this.held = undefined;
      this.seal(true, last);
      this.address = this.outHash!.digest();
      this.plainHash!.digest().then((sha256) => {
        this.sha256 = sha256;
        cb();
      }, cb);
    } catch (e) {
      cb(e as Error);
    }
  }
}

export interface DecryptExpectations {
  /** The key id the header must name. */
  keyId?: string;
  /** The plaintext's SHA-256 (the ledger's fingerprint). */
  sha256?: string;
  /** The plaintext's size. */
  size?: number;
  /** The hash of the stored bytes (the content address). */
  address?: string;
}

/**
 * Encrypted object in, plaintext out, each record released only after its tag verified. The
 * expectations are checked before the stream ends: a mismatch errors the stream instead of ending
 * it, so a consumer never sees a clean end of data that is not the ledger's.
 */
export class DecryptStream extends Transform {
  sha256 = '';
  address = '';
  size = 0;
  private readonly plainHash: Hash = createHash('sha256');
  private readonly inHash = new StoredBytesHash();
  private head: Buffer | undefined = Buffer.alloc(0);
  private header: ObjectHeader | undefined;
  private aad = Buffer.alloc(0);
  private prefix = Buffer.alloc(0);
  private acc = Buffer.alloc(0);
  private fill = 0;
  private counter = 0;
  private recLen = 0;

  constructor(
    private readonly key: Buffer,
    private readonly expect: DecryptExpectations = {},
  ) {
    super({ highWaterMark: 2 * DEFAULT_RECORD_SIZE });
    checkKey(key);
  }

  get objectHeader(): ObjectHeader | undefined {
    return this.header;
  }

  /** Accumulate and parse the header; returns the rest of the chunk. */
  private takeHeader(chunk: Buffer): Buffer | undefined {
    this.head = Buffer.concat([this.head!, chunk]);
    const p = parseHeader(this.head);
    if (!p) return undefined;
    const { header: h, end } = p;
    const raw = this.head.subarray(0, end);
    if (this.expect.keyId !== undefined && h.keyId !== this.expect.keyId)
      throw new IntegrityError(`object is encrypted under key ${String(h.keyId)}, not ${this.expect.keyId}`);
    this.header = h;
    this.aad = createHash('sha256').update(raw).digest();
    this.prefix = Buffer.from(h.noncePrefix, 'hex');
    this.recLen = h.recordSize + TAG_LENGTH;
    this.acc = Buffer.allocUnsafe(2 * this.recLen);
    const rest = this.head.subarray(end);
    this.head = undefined;
    return rest;
  }

  private open(len: number, final: boolean): Buffer {
    if (this.counter > 0xffffffff) throw new IntegrityError('object has too many records');
    const ct = this.acc.subarray(0, len - TAG_LENGTH);
    const tag = this.acc.subarray(len - TAG_LENGTH, len);
    const attempt = (fin: boolean): Buffer | undefined => {
      const d = createDecipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.counter, fin), { authTagLength: TAG_LENGTH });
      d.setAAD(this.aad);
      d.setAuthTag(tag);
      try {
        return Buffer.concat([d.update(ct), d.final()]);
      } catch {
        return undefined;
      }
    };
    const plain = attempt(final);
    if (!plain) {
      if (final && attempt(false)) throw new IntegrityError(`object is truncated: record ${this.counter} is not the last one`);
      throw new IntegrityError(`record ${this.counter} failed authentication (tampered, reordered, or the wrong key)`);
    }
    this.counter++;
    return plain;
  }

  private release(plain: Buffer, push = true): void {
    this.size += plain.length;
    this.plainHash.update(plain);
    if (push && plain.length) this.push(plain);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.inHash.update(chunk);
      let data: Buffer = chunk;
      if (!this.header) {
        const rest = this.takeHeader(chunk);
        if (!rest) return cb();
        data = rest;
      }
      let off = 0;
      while (off < data.length) {
        const n = data.copy(this.acc, this.fill, off, Math.min(data.length, off + this.acc.length - this.fill));
        this.fill += n;
        off += n;
        // More than one record buffered: the first one is not the last.
        while (this.fill > this.recLen) {
          this.release(this.open(this.recLen, false));
          this.acc.copy(this.acc, 0, this.recLen, this.fill);
          this.fill -= this.recLen;
        }
      }
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (!this.header) throw new IntegrityError('object is truncated: incomplete header');
      if (this.fill < TAG_LENGTH) throw new IntegrityError('object is truncated: no final record');
      // The last record's plaintext is held back until every expectation is met.
      const last = this.open(this.fill, true);
      this.release(last, false);
      this.fill = 0;
      this.sha256 = this.plainHash.digest('hex');
      this.address = this.inHash.digest();
      const e = this.expect;
      if (e.address !== undefined && this.address !== e.address)
        throw new IntegrityError(`stored bytes hash to ${this.address}, not their content address ${e.address}`);
      if (e.size !== undefined && this.size !== e.size)
        throw new IntegrityError(`plaintext is ${this.size} bytes; the ledger says ${e.size}`);
      if (e.sha256 !== undefined && this.sha256 !== e.sha256)
        throw new IntegrityError(`plaintext SHA-256 ${this.sha256} differs from the ledger's fingerprint ${e.sha256}`);
      if (last.length) this.push(last);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}
