/**
 * Whole-store maintenance of the storage agent (X6): backup, restore and the verification pass
 * against the ledger. ObjectStore's backup / restore / verifyAll call these.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { writeFileAtomic } from '../durable-file.js';
import { assertAddress, type ObjectReader } from './backend.js';
import { IntegrityError, StoredBytesHash } from './format.js';
import type { IndexEntry, LedgerFacts, ObjectStore, VerifyReport } from './store.js';

/**
 * Backup (X6): copy the sealed keyring, the key records (wrapped keys), the index and every
 * object of every backend into `dest` (must not exist or be empty). Each object's bytes are
 * re-hashed on the way and must equal its content address; `backup.json` records which store
 * each object came from. Restoring needs the same storage key.
 */
export async function backupStore(
  store: ObjectStore,
  dest: string,
): Promise<{ objects: number; keys: number; entries: number; bytes: number }> {
  await assertEmpty(dest);
  await mkdir(join(dest, 'objects'), { recursive: true, mode: 0o700 });
  let objects = 0;
  let bytes = 0;
  const locations: Record<string, string> = {};
  for (const backend of store.backends) {
    for await (const address of backend.list()) {
      const r = await backend.open(address);
      if (!r) continue;
      try {
        bytes += await copyVerified(r, address, join(dest, 'objects', address));
      } finally {
        await r.close();
      }
      locations[address] = backend.storeId;
      objects++;
    }
  }
  await mkdir(join(dest, 'keys'), { recursive: true, mode: 0o700 });
  const keyIds = await store.keyring.listKeyIds();
  for (const k of keyIds) await copyFile(join(store.keyring.keysDir, `${k}.json`), join(dest, 'keys', `${k}.json`));
  try {
    await copyFile(store.keyring.keyringFile, join(dest, 'keyring.sealed.json'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const entries = await store.entries();
  await mkdir(join(dest, 'index'), { recursive: true, mode: 0o700 });
  for (const e of entries) await writeFileAtomic(join(dest, 'index', `${store.indexPathName(e.dataId)}`), JSON.stringify(e));
  const manifest = {
    v: 1,
    storeId: store.backend.storeId,
    createdAt: new Date().toISOString(),
    objects,
    keys: keyIds.length,
    entries: entries.length,
    bytes,
    stores: store.backends.map((b) => ({ storeId: b.storeId, placement: b.placement })),
    locations,
  };
  await writeFileAtomic(join(dest, 'backup.json'), JSON.stringify(manifest, null, 2));
  return { objects, keys: keyIds.length, entries: entries.length, bytes };
}

/**
 * Restore a backup into this store, which must be empty. Objects are re-hashed against their
 * addresses; the keyring must unseal with this store's storage key. Run `verifyAll` afterwards.
 */
export async function restoreStore(store: ObjectStore, src: string): Promise<{ objects: number; keys: number; entries: number }> {
  if (!(await store.isEmpty())) throw new Error('restore needs an empty store');
  const manifest = JSON.parse(await readFile(join(src, 'backup.json'), 'utf8')) as {
    v: number;
    objects: number;
    locations?: Record<string, string>;
  };
  if (manifest.v !== 1) throw new Error(`unsupported backup version ${manifest.v}`);
  // Each object goes back to the store it came from (older backups: the store its index entry names).
  const locations = new Map(Object.entries(manifest.locations ?? {}));
  for (const f of (await readdir(join(src, 'index'))).filter((x) => x.endsWith('.json'))) {
    const e = JSON.parse(await readFile(join(src, 'index', f), 'utf8')) as IndexEntry;
    if (!locations.has(e.address) && e.storeId) locations.set(e.address, e.storeId);
  }
  const missing = [...new Set(locations.values())].filter((id) => !store.backends.some((b) => b.storeId === id));
  if (missing.length)
    throw new Error(`the backup holds objects of store(s) ${missing.join(', ')}, which this gateway does not have configured`);
  try {
    await stat(join(src, 'keyring.sealed.json'));
    await mkdir(store.dir, { recursive: true, mode: 0o700 });
    await copyFile(join(src, 'keyring.sealed.json'), store.keyring.keyringFile);
    await store.keyring.check();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let objects = 0;
  for (const f of (await readdir(join(src, 'objects'))).sort()) {
    const address = assertAddress(f);
    const w = await store.backendOf(locations.get(address)).writer();
    const hash = new StoredBytesHash();
    try {
      await pipeline(
        createReadStream(join(src, 'objects', f)),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const c of source) {
            hash.update(c);
            yield c;
          }
        },
        w.stream,
      );
      const got = hash.digest();
      if (got !== address) throw new IntegrityError(`backup object ${address} hashes to ${got}`);
      await w.commit(address);
    } catch (e) {
      await w.abort();
      throw e;
    }
    objects++;
  }
  await mkdir(store.keyring.keysDir, { recursive: true, mode: 0o700 });
  const keyFiles = (await readdir(join(src, 'keys'))).filter((f) => f.endsWith('.json'));
  for (const f of keyFiles) await writeFileAtomic(join(store.keyring.keysDir, f), await readFile(join(src, 'keys', f)));
  const idx = (await readdir(join(src, 'index'))).filter((f) => f.endsWith('.json'));
  for (const f of idx) await writeFileAtomic(join(store.dir, 'index', f), await readFile(join(src, 'index', f)));
  return { objects, keys: keyFiles.length, entries: idx.length };
}

/**
 * The verification pass: every index entry against the ledger. STORED entries must decrypt
 * completely and match the ledger's fingerprint, size, key id and location; entries the ledger
 * has DELETED (e.g. resurrected by a restore) are shredded; tombstones must have no object and no key.
 */
export async function verifyStore(store: ObjectStore, lookup: (dataId: string) => Promise<LedgerFacts | undefined>): Promise<VerifyReport> {
  const report: VerifyReport = { checked: 0, ok: [], failed: [], shredded: [], deleted: [] };
  for (const e of await store.entries()) {
    report.checked++;
    const fail = (reason: string) => report.failed.push({ dataId: e.dataId, reason });
    let facts: LedgerFacts | undefined;
    try {
      facts = await lookup(e.dataId);
    } catch (err) {
      fail(`ledger lookup failed: ${(err as Error).message}`);
      continue;
    }
    if (!facts) {
      fail('not anchored on the ledger');
      continue;
    }
    if (facts.stage === 'DELETED') {
      if (e.state === 'DELETED') {
        const left = [];
        if (await store.keyring.record(e.keyId)) left.push(`key ${e.keyId}`);
        const r = await store.backendOf(e.storeId).open(e.address);
        if (r) {
          await r.close();
          left.push(`object ${e.address}`);
        }
        if (left.length) {
          await store.shred(e.dataId, {});
          report.shredded.push(e.dataId);
        } else report.deleted.push(e.dataId);
      } else {
        await store.shred(e.dataId, { ledgerReason: `data ${e.dataId} is deleted on the ledger` });
        report.shredded.push(e.dataId);
      }
      continue;
    }
    if (e.state === 'DELETED') {
      fail(`deleted here but ${facts.stage} on the ledger`);
      continue;
    }
    if (facts.keyId !== undefined && facts.keyId !== e.keyId) {
      fail(`the ledger names key ${facts.keyId}, the store ${e.keyId}`);
      continue;
    }
    if (facts.storage?.uri !== undefined && facts.storage.uri !== e.uri) {
      fail(`the ledger locates the data at ${facts.storage.uri}, the store at ${e.uri}`);
      continue;
    }
    let v: { valid: boolean; reason: string };
    try {
      v = await store.verifyObject(e, { sha256: facts.sha256, size: facts.size });
    } catch (err) {
      v = { valid: false, reason: `could not be read: ${(err as Error).message}` };
    }
    if (v.valid) report.ok.push(e.dataId);
    else fail(v.reason);
  }
  return report;
}

async function assertEmpty(dir: string): Promise<void> {
  try {
    if ((await readdir(dir)).length) throw new Error(`backup target ${dir} is not empty`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

async function copyVerified(r: ObjectReader, address: string, to: string): Promise<number> {
  const hash = new StoredBytesHash();
  let n = 0;
  await pipeline(
    r.stream(),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const c of source) {
        hash.update(c);
        n += c.length;
        yield c;
      }
    },
    createWriteStream(to, { flags: 'wx', mode: 0o600 }),
  );
  const got = hash.digest();
  if (got !== address) {
    await rm(to, { force: true });
    throw new IntegrityError(`object ${address} hashes to ${got}: not backed up (damaged in the store)`);
  }
  return n;
}
