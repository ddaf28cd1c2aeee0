/** F2/X6/X7/S2: the object store on the local backend: round trip, tampering, truncation, keys, shredding, backup/restore, bounded memory. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { LocalBackend } from '../../../gateway/src/r2-storage/backend.js';
import { blake3 } from '@napi-rs/blake-hash';
import { IntegrityError } from '../../../gateway/src/r2-storage/format.js';
import { KeyError, ownerKey } from '../../../gateway/src/r2-storage/keyring.js';
import { ObjectStore, type IndexEntry, type LedgerFacts, type StoredObject } from '../../../gateway/src/r2-storage/store.js';

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), `mvsec-store-${p}-`));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const OWNER = ownerKey('IoTPlatformMSP', 'alice');

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function entryOf(dataId: string, o: StoredObject): IndexEntry {
  return {
    v: 1,
    ...o,
    dataId,
    thingId: 't-1',
    ownerPrincipal: 'alice',
    ownerMspId: 'IoTPlatformMSP',
    storedAt: new Date().toISOString(),
    state: 'STORED',
  };
}

function objectPath(dir: string, address: string) {
  return join(dir, 'objects', address.slice(0, 2), address);
}

describe('object store, local backend (F2, C1, X6, X7)', () => {
  const storageKey = randomBytes(32);

  it('F2/C1: round trip; content-addressed file (mode 600) without the plaintext; key id only outside the keyring', async () => {
    const dir = tmp('rt');
    const store = new ObjectStore({ dir, storageKey });
    const plain = Buffer.concat([Buffer.from('motion readings '.repeat(10_000)), randomBytes(70_000)]);
    const o = await store.put(Readable.from([plain]), { owner: OWNER });
    assert.equal(o.sha256, sha(plain));
    assert.equal(o.size, plain.length);
    assert.match(o.keyId, /^dk-[0-9a-f]{32}$/);
    assert.equal(o.uri, `local://local/${o.address}`);
    const file = readFileSync(objectPath(dir, o.address));
    assert.equal(blake3(file).toString('hex'), o.address, 'the address is the BLAKE3-256 of the stored bytes');
    assert.equal(file.includes(Buffer.from('motion readings')), false);
    assert.equal(statSync(objectPath(dir, o.address)).mode & 0o777, 0o600);
    const keyRecord = readFileSync(join(dir, 'keys', `${o.keyId}.json`), 'utf8');
    const keyring = readFileSync(join(dir, 'keyring.sealed.json'), 'utf8');
    assert.doesNotMatch(keyring, /alice/, 'the keyring is sealed: not even owners are visible');
    assert.equal(JSON.parse(keyRecord).owner, OWNER);
    const r = await store.openVerified(o, { sha256: o.sha256, size: o.size });
    assert.ok((await readAll(r.stream())).equals(plain));
    await r.close();
    assert.equal(readdirSync(join(dir, 'objects', '.tmp')).length, 0, 'no partial files left');
  });

  it('F2: one flipped byte in the stored file → integrity error before any byte is offered', async () => {
    const dir = tmp('flip');
    const store = new ObjectStore({ dir, storageKey });
    const plain = randomBytes(300_000);
    const o = await store.put(Readable.from([plain]), { owner: OWNER });
    const p = objectPath(dir, o.address);
    const bytes = readFileSync(p);
    bytes[bytes.length - 100_000] ^= 0x80;
    writeFileSync(p, bytes);
    await assert.rejects(store.openVerified(o, { sha256: o.sha256, size: o.size }), IntegrityError);
    const v = await store.verifyObject(o, { sha256: o.sha256, size: o.size });
    assert.equal(v.valid, false);
    assert.match(v.reason, /failed authentication|content address/);
  });

  it('F2: a truncated object is refused; a ledger fingerprint that differs is refused', async () => {
    const dir = tmp('trunc');
    const store = new ObjectStore({ dir, storageKey, recordSize: 4096 });
    const plain = randomBytes(20_000);
    const o = await store.put(Readable.from([plain]), { owner: OWNER });
    await assert.rejects(store.openVerified(o, { sha256: sha(randomBytes(4)), size: o.size }), /differs from the ledger's fingerprint/);
    const p = objectPath(dir, o.address);
    const size = statSync(p).size;
    truncateSync(p, size - 1000);
    await assert.rejects(store.openVerified(o, { sha256: o.sha256, size: o.size }), IntegrityError);
    // cut exactly after the second record: the format itself says "truncated"
    const enc = await store.put(Readable.from([plain]), { owner: OWNER });
    const p2 = objectPath(dir, enc.address);
    const raw = readFileSync(p2);
    const header = 6 + 4 + raw.readUInt32BE(6);
    writeFileSync(p2, raw.subarray(0, header + 2 * (4096 + 16)));
    const v = await store.verifyObject(enc, { sha256: enc.sha256, size: enc.size });
    assert.equal(v.valid, false);
    assert.match(v.reason, /truncated|content address/);
  });

  it('C1: the wrong storage key does not open the keyring; a key record moved to another object does not unwrap', async () => {
    const dir = tmp('wrong');
    const store = new ObjectStore({ dir, storageKey });
    const a = await store.put(Readable.from([randomBytes(1000)]), { owner: OWNER });
    const b = await store.put(Readable.from([randomBytes(1000)]), { owner: OWNER });
    const other = new ObjectStore({ dir, storageKey: randomBytes(32) });
    await assert.rejects(other.openVerified(a, { sha256: a.sha256, size: a.size }), /keyring cannot be unsealed: wrong storage key/);
    // b's key record copied over a's: the wrap is bound to key id, owner and address
    const recB = JSON.parse(readFileSync(join(dir, 'keys', `${b.keyId}.json`), 'utf8'));
    writeFileSync(join(dir, 'keys', `${a.keyId}.json`), JSON.stringify({ ...recB, keyId: a.keyId, address: a.address }));
    await assert.rejects(store.openVerified(a, { sha256: a.sha256, size: a.size }), KeyError);
    // another owner cannot unwrap alice's key
    await assert.rejects(
      store.openVerified({ ...b, owner: ownerKey('MetaverseAMSP', 'alice') }, { sha256: b.sha256, size: b.size }),
      /does not unwrap/,
    );
  });

  it('X7: deletion erases the object and destroys its data key; a surviving copy of the ciphertext is unreadable', async () => {
    const dir = tmp('del');
    const store = new ObjectStore({ dir, storageKey });
    const o = await store.put(Readable.from([randomBytes(5000)]), { owner: OWNER });
    await store.saveEntry(entryOf('d-1', o));
    const copy = readFileSync(objectPath(dir, o.address));
    const tomb = await store.shred('d-1', { record: { stage: 'DELETED' }, txId: 'tx-9' });
    assert.equal(tomb.state, 'DELETED');
    assert.equal(tomb.deletion?.keyDestroyed, true);
    assert.equal(tomb.deletion?.objectErased, true);
    assert.equal(existsSync(join(dir, 'keys', `${o.keyId}.json`)), false);
    assert.equal(existsSync(objectPath(dir, o.address)), false);
    assert.equal((await store.entry('d-1'))?.deletion?.txId, 'tx-9');
    // the ciphertext put back (e.g. from an old disk): the key is gone, nothing decrypts
    writeFileSync(objectPath(dir, o.address), copy);
    await assert.rejects(store.openVerified(o, { sha256: o.sha256, size: o.size }), /data key .* does not exist/);
  });

  it('X6: backup → wipe → restore into an empty store → verification pass against the ledger (ok, damaged, deleted-on-ledger)', async () => {
    const dir = tmp('bk');
    const store = new ObjectStore({ dir, storageKey });
    const ledger = new Map<string, LedgerFacts>();
    const plains = new Map<string, Buffer>();
    for (const id of ['d-1', 'd-2', 'd-3', 'd-4']) {
      const plain = randomBytes(10_000 + id.length);
      const o = await store.put(Readable.from([plain]), { owner: OWNER });
      await store.saveEntry(entryOf(id, o));
      ledger.set(id, { sha256: o.sha256, size: o.size, stage: 'STORED', keyId: o.keyId, storage: { uri: o.uri } });
      plains.set(id, plain);
    }
    const d4 = (await store.entry('d-4'))!;
    await store.shred('d-4', { txId: 'tx-d4' });
    ledger.set('d-4', { ...ledger.get('d-4')!, stage: 'DELETED' });
    const backupDir = join(tmp('bk-out'), 'b');
    const b = await store.backup(backupDir);
    assert.deepEqual({ objects: b.objects, keys: b.keys, entries: b.entries }, { objects: 3, keys: 3, entries: 4 });
    await store.wipe();
    assert.equal(await store.isEmpty(), true);
    await assert.rejects(store.openVerified(d4, { sha256: d4.sha256, size: d4.size }), /missing/);

    const restored = new ObjectStore({ dir: tmp('bk-into'), storageKey });
    assert.deepEqual(await restored.restore(backupDir), { objects: 3, keys: 3, entries: 4 });
    await assert.rejects(restored.restore(backupDir), /empty store/);
    // after the backup the ledger deleted d-3: the restore must not resurrect it
    ledger.set('d-3', { ...ledger.get('d-3')!, stage: 'DELETED' });
    const report = await restored.verifyAll(async (id) => ledger.get(id));
    assert.deepEqual(report.ok.sort(), ['d-1', 'd-2']);
    assert.deepEqual(report.shredded, ['d-3']);
    assert.deepEqual(report.deleted, ['d-4']);
    assert.deepEqual(report.failed, []);
    const e1 = (await restored.entry('d-1'))!;
    const r = await restored.openVerified(e1, ledger.get('d-1')!);
    assert.ok((await readAll(r.stream())).equals(plains.get('d-1')!));
    await r.close();
    // a restored object that differs from the ledger is reported, not passed
    ledger.set('d-2', { ...ledger.get('d-2')!, sha256: sha(Buffer.from('other')) });
    const again = await restored.verifyAll(async (id) => ledger.get(id));
    assert.deepEqual(
      again.failed.map((f) => f.dataId),
      ['d-2'],
    );
    assert.match(again.failed[0].reason, /differs from the ledger's fingerprint/);
    // a restore needs the same storage key
    const foreign = new ObjectStore({ dir: tmp('bk-foreign'), storageKey: randomBytes(32) });
    await assert.rejects(foreign.restore(backupDir), /wrong storage key/);
  });

  it('S2: a streamed 64 MiB object in and out: live memory stays bounded (not proportional to the size)', async (t) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const dir = tmp('mem');
    const store = new ObjectStore({ dir, storageKey, backend: new LocalBackend(join(dir, 'objects')) });
    const SIZE = 64 * 1024 * 1024;
    const CHUNK = 256 * 1024;
    const live = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const base = live();
    let peak = 0;
    // Full GC twice around a turn of the event loop: array buffers are swept concurrently, so one
    // gc() can still count buffers that are already garbage. What remains is what the pipeline holds.
    const sample = async () => {
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      peak = Math.max(peak, live() - base);
    };
    const hash = createHash('sha256');
    const block = randomBytes(CHUNK);
    async function* source() {
      for (let off = 0, i = 0; off < SIZE; off += CHUNK, i++) {
        block.writeUInt32BE(i, 0); // every chunk differs
        hash.update(block);
        if (i % 16 === 0) await sample();
        yield Buffer.from(block);
      }
    }
    // a source that holds at most two chunks ahead, like a socket
    const o = await store.put(Readable.from(source(), { highWaterMark: 2 }), { owner: OWNER });
    const putPeak = peak;
    assert.equal(o.size, SIZE);
    assert.equal(o.sha256, hash.digest('hex'));
    const r = await store.openVerified(o, { sha256: o.sha256, size: o.size });
    let n = 0;
    await pipeline(
      r.stream(),
      new Writable({
        write(c: Buffer, _e, cb) {
          const before = Math.floor(n / (4 * 1024 * 1024));
          n += c.length;
          if (Math.floor(n / (4 * 1024 * 1024)) !== before) sample().then(() => cb(), cb);
          else cb();
        },
      }),
    );
    await r.close();
    await sample();
    assert.equal(n, SIZE);
    // the whole object retained would be ≥ 64 MiB; the pipeline holds a few records and stream buffers
    t.diagnostic(
      `peak live memory growth ${(peak / 1048576).toFixed(2)} MiB (store ${(putPeak / 1048576).toFixed(2)} MiB) for a ${SIZE / 1048576} MiB object`,
    );
    assert.ok(peak < 16 * 1024 * 1024, `peak live memory growth ${(peak / 1048576).toFixed(1)} MiB`);
  });
});
