/** S2: SHA-256 on the hashing workers: exact digests, bounded queueing, aborted streams, a dead worker, idle workers. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { blake3 } from '@napi-rs/blake-hash';
import { EncryptStream } from '../../../gateway/src/r2-storage/format.js';
import { hashWorkers, OffThreadSha256 } from '../../../gateway/src/r2-storage/hash-worker.js';

const MIB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
const idle = () => hashWorkers().every((w) => w.active === 0);

describe('hashing workers (S2)', () => {
  it('the digest is the SHA-256 of every byte given, for 0 B, 1 B and odd chunks across slot boundaries', async () => {
    const data = randomBytes(9 * MIB + 12_345);
    const cases: [number, number][] = [
      [0, 1],
      [1, 1],
      [70_001, 1],
      [MIB - 1, 7],
      [MIB, 65_537],
      [MIB + 1, MIB],
      [data.length, 65_537],
      [data.length, 3 * MIB + 5],
    ];
    for (const [n, step] of cases) {
      const h = new OffThreadSha256();
      for (let o = 0; o < n; o += step) {
        h.update(data.subarray(o, Math.min(n, o + step)));
        await h.ready();
      }
      assert.equal(await h.digest(), sha(data.subarray(0, n)), `${n} B in ${step} B chunks`);
    }
    assert.ok(idle());
  });

  it('bytes given while the ring is full are queued in order (the caller is told to wait) and still hashed exactly', async () => {
    const parts = Array.from({ length: 12 }, () => randomBytes(MIB + 333));
    const h = new OffThreadSha256();
    let waits = 0;
    for (const p of parts) {
      h.update(p);
      if (h.ready()) waits++;
    }
    assert.ok(waits > 0, 'a full ring asks the caller to wait');
    assert.equal(await h.digest(), sha(Buffer.concat(parts)));
  });

  it('a ring given up by a discarded hash (its worker may still be reading it) serves the next hash exactly', async () => {
    for (let i = 0; i < 4; i++) {
      const a = new OffThreadSha256();
      a.update(randomBytes(3 * MIB + 17));
      a.discard();
      const data = randomBytes(5 * MIB + i);
      const b = new OffThreadSha256();
      for (let o = 0; o < data.length; o += 300_001) {
        b.update(data.subarray(o, o + 300_001));
        await b.ready();
      }
      assert.equal(await b.digest(), sha(data));
    }
    assert.ok(idle());
  });

  it('an encrypting stream holds one worker (the plaintext hash); two streams at once get one each', async () => {
    const seen: number[][] = [];
    async function* source() {
      for (let i = 0; i < 4; i++) {
        yield randomBytes(MIB);
        seen.push(hashWorkers().map((w) => w.active));
      }
    }
    await pipeline(Readable.from(source()), new EncryptStream(randomBytes(32), 'dk-test'), sink());
    assert.deepEqual(seen.at(-1), [1, 0]);
    assert.ok(idle());
    seen.length = 0;
    await Promise.all([
      pipeline(Readable.from(source()), new EncryptStream(randomBytes(32), 'dk-test'), sink()),
      pipeline(Readable.from(source()), new EncryptStream(randomBytes(32), 'dk-test'), sink()),
    ]);
    assert.ok(
      seen.some((a) => a.join() === '1,1'),
      JSON.stringify(seen),
    );
    assert.ok(idle());
  });

  it('an aborted stream frees its worker slots', async () => {
    async function* failing() {
      for (let i = 0; i < 8; i++) yield randomBytes(MIB);
      throw new Error('client went away');
    }
    await assert.rejects(pipeline(Readable.from(failing()), new EncryptStream(randomBytes(32), 'dk-test'), sink()), /client went away/);
    await new Promise((r) => setImmediate(r));
    assert.ok(idle(), JSON.stringify(hashWorkers().map((w) => w.active)));
  });

  it('a hashing worker that dies errors the stream; the next stream gets a new worker', async () => {
    async function* slow() {
      for (let i = 0; ; i++) {
        yield randomBytes(MIB);
        if (i === 3) await hashWorkers()[0].worker.terminate();
        await new Promise((r) => setTimeout(r, 5));
        if (i > 100) return;
      }
    }
    const dead = hashWorkers()[0]?.worker;
    await assert.rejects(pipeline(Readable.from(slow()), new EncryptStream(randomBytes(32), 'dk-test'), sink()), /hashing worker exited/);
    const plain = randomBytes(2 * MIB + 1);
    const parts: Buffer[] = [];
    const enc = new EncryptStream(randomBytes(32), 'dk-test');
    await pipeline(
      Readable.from([plain]),
      enc,
      new Writable({
        write(c: Buffer, _e, cb) {
          parts.push(c);
          cb();
        },
      }),
    );
    assert.equal(enc.sha256, sha(plain));
    assert.equal(enc.address, blake3(Buffer.concat(parts)).toString('hex'));
    assert.ok(!hashWorkers().some((w) => w.worker === dead), 'the dead worker was replaced');
    assert.ok(idle());
  });

  it('on Linux the hashing threads run two nice steps below the event loop', { skip: process.platform !== 'linux' }, async () => {
    const h = new OffThreadSha256();
    h.update(Buffer.from('x'));
    await h.digest();
    const nice = (tid: string) => {
      const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const main = nice(String(process.pid));
    const niced = readdirSync('/proc/self/task').filter((t) => nice(t) === Math.min(19, main + 2));
    assert.equal(niced.length, hashWorkers().length);
  });

  it('idle workers do not keep the process alive', async () => {
    const mod = fileURLToPath(new URL('../../../gateway/src/r2-storage/hash-worker.ts', import.meta.url));
    const code = `import { OffThreadSha256 } from ${JSON.stringify(mod)};
      const h = new OffThreadSha256(); h.update(Buffer.from('abc'));
      console.log(await h.digest());`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { timeout: 20_000 }, (e, stdout) =>
        e ? reject(e) : resolve(stdout),
      ),
    );
    assert.equal(out.trim(), sha(Buffer.from('abc')));
  });
});
