/** S2: the local backend's file sink: every byte written in order, writeback started while streaming, failures surface. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { FileSink, LocalBackend } from '../../../gateway/src/r2-storage/backend.js';

const dir = mkdtempSync(join(tmpdir(), 'mvsec-backend-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const KIB = 1024;

/** A file handle double: keeps what is written, may write short, counts and may fail datasync. */
function fakeHandle(o: { short?: boolean; failSync?: boolean } = {}) {
  const written: Buffer[] = [];
  const h = {
    written,
    syncs: 0,
    closed: false,
    writev: async (bufs: Buffer[]) => {
      await new Promise((r) => setImmediate(r));
      let all = Buffer.concat(bufs);
      if (o.short && all.length > 3) all = all.subarray(0, Math.ceil(all.length / 2)); // a short write
      written.push(Buffer.from(all));
      return { bytesWritten: all.length, buffers: bufs };
    },
    datasync: async () => {
      h.syncs++;
      await new Promise((r) => setImmediate(r));
      if (o.failSync) throw new Error('EIO: the disk went away');
    },
    close: async () => {
      h.closed = true;
    },
  };
  return h;
}

const chunks = (n: number, size: number) => Array.from({ length: n }, () => randomBytes(size));
/** One chunk per turn of the event loop, like a socket. */
async function* paced(data: Buffer[]) {
  for (const c of data) {
    await new Promise((r) => setImmediate(r));
    yield c;
  }
}

describe('local backend file sink (S2)', () => {
  it('writes every byte in order, also after short writes, and starts writeback every N bytes', async () => {
    const data = chunks(40, 10 * KIB + 7);
    for (const short of [false, true]) {
      const h = fakeHandle({ short });
      await pipeline(Readable.from(paced(data)), new FileSink(h as never, 64 * KIB));
      assert.ok(Buffer.concat(h.written).equals(Buffer.concat(data)), `content, short writes: ${short}`);
      assert.ok(h.syncs >= 2, `writeback started ${h.syncs} times`);
      assert.ok(h.closed);
    }
  });

  it('a failed writeback fails the stream (the object is not committed)', async () => {
    const h = fakeHandle({ failSync: true });
    await assert.rejects(pipeline(Readable.from(chunks(40, 10 * KIB)), new FileSink(h as never, 64 * KIB)), /EIO/);
    assert.ok(h.closed);
  });

  it('on a real file: the committed object holds the bytes; an aborted writer leaves nothing', async () => {
    const b = new LocalBackend(join(dir, 'objects'));
    const data = chunks(9, 1024 * KIB + 3);
    const w = await b.writer();
    await pipeline(Readable.from(data), w.stream);
    const address = 'ab'.repeat(32);
    await w.commit(address);
    assert.ok(readFileSync(b.path(address)).equals(Buffer.concat(data)));
    const w2 = await b.writer();
    w2.stream.write(randomBytes(1000));
    await w2.abort();
    assert.deepEqual(readdirSync(join(dir, 'objects', '.tmp')), [], 'no partial upload left');
  });
});
