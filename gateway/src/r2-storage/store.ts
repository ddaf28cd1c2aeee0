/**
 * The storage agent's object store (R2, F2, S2, X7): streams plaintext in, stores it encrypted
 * and content-addressed through a backend, keeps an index entry per data id, serves it back only
 * after verifying it against the ledger's fingerprint, crypto-shreds on deletion, and backs up /
 * restores / re-verifies the whole store. See docs/storage.md.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipelineCb, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic } from '../durable-file.js';
import { LocalBackend, StorageUnavailableError, type ObjectBackend } from './backend.js';
import { DecryptStream, EncryptStream, IntegrityError, type DecryptExpectations } from './format.js';
import { Keyring, KeyError } from './keyring.js';
import { backupStore, restoreStore, verifyStore } from './maintenance.js';

export interface StoredObject {
  address: string;
  keyId: string;
  owner: string;
  sha256: string;
  size: number;
  uri: string;
  storeId: string;
  placement: ObjectBackend['placement'];
}

export interface Deletion {
  /** The ledger's DataAnchor after DeleteData (stage DELETED, the deletion step last), when known. */
  record?: unknown;
  txId?: string;
  /** The ledger's own words when the deletion was found on the ledger rather than made here. */
  ledgerReason?: string;
  shreddedAt: string;
  objectErased: boolean;
  keyDestroyed: boolean;
}

export interface IndexEntry extends StoredObject {
  v: 1;
  dataId: string;
  thingId: string;
  /** The data owner on the ledger (principal and MSP). */
  ownerPrincipal: string;
  ownerMspId: string;
  anchorTxId?: string;
  storedAt: string;
  state: 'STORED' | 'DELETED';
  deletion?: Deletion;
}

/** What the ledger says about a data id (for the verification pass). */
export interface LedgerFacts {
  sha256: string;
  size: number;
  stage: string;
  keyId?: string;
  storage?: { uri?: string };
}

export interface VerifyReport {
  checked: number;
  ok: string[];
  failed: { dataId: string; reason: string }[];
  /** Deleted on the ledger: object erased and key destroyed now. */
  shredded: string[];
  /** Tombstones whose object and key are confirmed gone. */
  deleted: string[];
}

export interface StoreOptions {
  /** Index, key records and keyring live here. */
  dir: string;
  storageKey: Buffer;
  /** The default backend; a LocalBackend in `<dir>/objects` when not given. */
  backend?: ObjectBackend;
  /** Further backends (e.g. an S3-compatible store), chosen per thing by its placement policy. */
  extraBackends?: ObjectBackend[];
  recordSize?: number;
}

/** The part of a thing's data-flow policy that decides where its data is stored (X5). */
export interface PlacementPolicy {
  /** ON_PLATFORM | EXTERNAL | ANY; the chaincode's default is ON_PLATFORM. */
  storage?: string;
  /** For EXTERNAL: the store ids allowed (empty: any external store). */
  storageIds?: string[];
}

/**
 * Where a thing's data goes (X5): the backend whose placement the policy names (ANY: the
 * default backend), and for EXTERNAL one whose store id the policy lists (in the policy's order)
 * when it lists any. The same rule as the chaincode's `data.placement` check, which runs again in
 * AnchorData. Returns the backend, or why none of this gateway's backends may hold the data.
 */
export function placeFor(
  policy: PlacementPolicy | undefined,
  primary: ObjectBackend,
  all: readonly ObjectBackend[],
): { backend: ObjectBackend } | { reason: string } {
  const want = policy?.storage ?? 'ON_PLATFORM';
  const ids = policy?.storageIds ?? [];
  const fits = (b: ObjectBackend) =>
    (want === 'ANY' || b.placement === want) && (b.placement !== 'EXTERNAL' || ids.length === 0 || ids.includes(b.storeId));
  if (fits(primary)) return { backend: primary };
  const ordered = ids.length ? ids.map((id) => all.find((b) => b.storeId === id)).filter((b) => b !== undefined) : all;
  const found = ordered.find(fits);
  if (found) return { backend: found };
  const have = all.map((b) => `${b.storeId} (${b.placement})`).join(', ');
  const where = want === 'EXTERNAL' && ids.length ? `EXTERNAL in one of [${ids.join(', ')}]` : want;
  return { reason: `the thing's policy stores data ${where}; this gateway's stores are ${have}` };
}

const sinkNull = () =>
  new Writable({
    highWaterMark: 1024 * 1024,
    write(_c, _e, cb) {
      cb();
    },
  });

export class ObjectStore {
  /** The default backend. */
  readonly backend: ObjectBackend;
  /** Every backend, the default first; store ids are unique. */
  readonly backends: readonly ObjectBackend[];
  readonly keyring: Keyring;
  readonly dir: string;

  constructor(private readonly opts: StoreOptions) {
    this.dir = opts.dir;
    this.backend = opts.backend ?? new LocalBackend(join(opts.dir, 'objects'));
    this.backends = [this.backend, ...(opts.extraBackends ?? [])];
    const ids = this.backends.map((b) => b.storeId);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw new Error(`two storage backends share the store id ${dup}`);
    this.keyring = new Keyring(opts.dir, opts.storageKey);
  }

  /** The backend with this store id (the default one when none is named). */
  backendOf(storeId?: string): ObjectBackend {
    if (storeId === undefined) return this.backend;
    const b = this.backends.find((x) => x.storeId === storeId);
    if (!b) throw new StorageUnavailableError(`store ${storeId} is not configured on this gateway`);
    return b;
  }

  /** Where a thing's data goes under its placement policy (see `placeFor`). */
  placeFor(policy: PlacementPolicy | undefined): { backend: ObjectBackend } | { reason: string } {
    return placeFor(policy, this.backend, this.backends);
  }

  private indexPath(dataId: string): string {
    return join(this.dir, 'index', `${createHash('sha256').update(dataId, 'utf8').digest('hex')}.json`);
  }

  async entry(dataId: string): Promise<IndexEntry | undefined> {
    try {
      const e = JSON.parse(await readFile(this.indexPath(dataId), 'utf8')) as IndexEntry;
      return e.dataId === dataId ? e : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async saveEntry(e: IndexEntry): Promise<void> {
    await writeFileAtomic(this.indexPath(e.dataId), JSON.stringify(e));
  }

  async entries(): Promise<IndexEntry[]> {
    let files: string[];
    try {
      files = await readdir(join(this.dir, 'index'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: IndexEntry[] = [];
    for (const f of files.filter((x) => /^[0-9a-f]{64}\.json$/.test(x)).sort())
      out.push(JSON.parse(await readFile(join(this.dir, 'index', f), 'utf8')) as IndexEntry);
    return out;
  }

  /**
   * Stream `source` in: encrypt under a fresh data key, hash, write through the backend, commit
   * under its content address, wrap and store the data key. Memory stays at one record.
   */
  async put(source: Readable, o: { owner: string; maxBytes?: number; backend?: ObjectBackend }): Promise<StoredObject> {
    const backend = o.backend ?? this.backend;
    const { keyId, key } = this.keyring.newDataKey();
    const enc = new EncryptStream(key, keyId, { recordSize: this.opts.recordSize, maxBytes: o.maxBytes });
    const w = await backend.writer();
    try {
      await pipeline(source, enc, w.stream);
      await w.commit(enc.address);
    } catch (e) {
      await w.abort();
      key.fill(0);
      throw e;
    }
    try {
      await this.keyring.storeDataKey(keyId, key, o.owner, enc.address);
    } catch (e) {
      await backend.remove(enc.address);
      throw e;
    } finally {
      key.fill(0);
    }
    return {
      address: enc.address,
      keyId,
      owner: o.owner,
      sha256: enc.sha256,
      size: enc.size,
      uri: backend.uri(enc.address),
      storeId: backend.storeId,
      placement: backend.placement,
    };
  }

  /** Undo a put whose anchoring failed: erase the object and destroy its key. */
  async discard(o: Pick<StoredObject, 'address' | 'keyId'> & { storeId?: string }): Promise<void> {
    await this.keyring.destroyDataKey(o.keyId);
    await this.backendOf(o.storeId).remove(o.address);
  }

  /**
   * Open an object for reading and verify ALL of it first (pass 1: every record's tag, the
   * content address, the plaintext's size and SHA-256 against `expect`, decrypting into nothing).
   * Only then is a stream offered (pass 2, same descriptor), which verifies again as it goes and
   * errors instead of ending if anything changed in between. Throws IntegrityError / KeyError.
   */
  async openVerified(
    o: Pick<StoredObject, 'address' | 'keyId' | 'owner'> & { storeId?: string },
    expect: { sha256: string; size: number },
  ): Promise<{ size: number; sha256: string; stream(): Readable; close(): Promise<void> }> {
    const backend = this.backendOf(o.storeId);
    const reader = await backend.open(o.address);
    if (!reader) throw new IntegrityError(`object ${o.address} is missing from store ${backend.storeId}`);
    let key: Buffer | undefined;
    try {
      key = await this.keyring.dataKey(o.keyId, o.owner, o.address);
      const exp: DecryptExpectations = { keyId: o.keyId, address: o.address, sha256: expect.sha256, size: expect.size };
      await pipeline(reader.stream(), new DecryptStream(key, exp), sinkNull());
    } catch (e) {
      key?.fill(0);
      await reader.close();
      throw e;
    }
    const k = key;
    let closed = false;
    return {
      size: expect.size,
      sha256: expect.sha256,
      // pipeline (not pipe): a read error destroys the decrypting stream, which errors instead of ending.
      stream: () => pipelineCb(reader.stream(), new DecryptStream(k, { keyId: o.keyId, address: o.address, ...expect }), () => undefined),
      close: async () => {
        if (closed) return;
        closed = true;
        k.fill(0);
        await reader.close();
      },
    };
  }

  /** A full verification pass of one object; never throws for integrity problems. */
  async verifyObject(
    o: Pick<StoredObject, 'address' | 'keyId' | 'owner'> & { storeId?: string },
    expect: { sha256: string; size: number },
  ): Promise<{ valid: boolean; reason: string }> {
    try {
      const r = await this.openVerified(o, expect);
      await r.close();
      return { valid: true, reason: 'every record authenticates; size and SHA-256 match the ledger' };
    } catch (e) {
      if (e instanceof IntegrityError || e instanceof KeyError) return { valid: false, reason: e.message };
      throw e;
    }
  }

  /** Crypto-shredding (X7): erase the object, destroy its data key, keep a tombstone with the ledger's record. */
  async shred(dataId: string, d: Omit<Deletion, 'shreddedAt' | 'objectErased' | 'keyDestroyed'>): Promise<IndexEntry> {
    const e = await this.entry(dataId);
    if (!e) throw new Error(`data ${dataId} is not in store ${this.backend.storeId}`);
    const keyDestroyed = await this.keyring.destroyDataKey(e.keyId);
    const objectErased = await this.backendOf(e.storeId).remove(e.address);
    const updated: IndexEntry = {
      ...e,
      state: 'DELETED',
      deletion: { ...(e.deletion ?? {}), ...d, shreddedAt: new Date().toISOString(), objectErased, keyDestroyed },
    };
    await this.saveEntry(updated);
    return updated;
  }

  /** The index file name of a data id. */
  indexPathName(dataId: string): string {
    return `${createHash('sha256').update(dataId, 'utf8').digest('hex')}.json`;
  }

  /** Backup (X6) into `dest` (must not exist or be empty); see maintenance.ts. */
  backup(dest: string): Promise<{ objects: number; keys: number; entries: number; bytes: number }> {
    return backupStore(this, dest);
  }

  /** Restore a backup into this store, which must be empty; see maintenance.ts. Run `verifyAll` afterwards. */
  restore(src: string): Promise<{ objects: number; keys: number; entries: number }> {
    return restoreStore(this, src);
  }

  /** Verify every stored object against what the ledger says of it; see maintenance.ts. */
  verifyAll(lookup: (dataId: string) => Promise<LedgerFacts | undefined>): Promise<VerifyReport> {
    return verifyStore(this, lookup);
  }

  /** Is the store empty (no index entries, no objects, no key records)? */
  async isEmpty(): Promise<boolean> {
    if ((await this.entries()).length) return false;
    if ((await this.keyring.listKeyIds()).length) return false;
    for (const b of this.backends) for await (const _ of b.list()) return false;
    return true;
  }

  /** Objects in a backend that no index entry names (a crash between write and index; not anchored, removable). */
  async orphans(): Promise<string[]> {
    const known = new Set((await this.entries()).map((e) => `${e.storeId}|${e.address}`));
    const out: string[] = [];
    for (const b of this.backends) for await (const a of b.list()) if (!known.has(`${b.storeId}|${a}`)) out.push(`${b.storeId}:${a}`);
    return out;
  }

  /** Remove everything (tests and disaster drills). */
  async wipe(): Promise<void> {
    for (const b of this.backends) {
      const all: string[] = [];
      for await (const a of b.list()) all.push(a);
      for (const a of all) await b.remove(a);
    }
    for (const k of await this.keyring.listKeyIds()) await unlink(join(this.keyring.keysDir, `${k}.json`));
    await rm(join(this.dir, 'index'), { recursive: true, force: true });
    await rm(this.keyring.keyringFile, { force: true });
  }
}
