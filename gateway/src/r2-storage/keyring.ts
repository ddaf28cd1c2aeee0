/**
 * Key handling (C1, X7). Three levels:
 *  - the gateway's storage key (MVSEC_GATEWAY_STORAGE_KEY) seals the keyring file at rest;
 *  - the keyring holds one key-encryption key (KEK) per data owner (`<mspId>|<principal>`);
 *  - every object has a fresh random data key, wrapped (AES-256-GCM) by its owner's KEK, stored as
 *    one key record per object. The wrap's AAD binds key id, owner and object address, so a record
 *    moved to another object or owner does not unwrap.
 * Only key ids leave this module (they go to the ledger); keys never do. Destroying a key record
 * (crypto-shredding) makes the object unreadable wherever a copy of its ciphertext survives.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { seal, unseal, type Sealed } from '../crypto/seal.js';
import { syncDir, writeFileAtomic } from '../durable-file.js';

const KEYRING_CONTEXT = 'mvsec-storage-keyring:v1';
const KEY_ID = /^dk-[0-9a-f]{32}$/;

interface Kek {
  kekId: string;
  owner: string;
  key: string; // base64, only ever inside the sealed keyring
  createdAt: string;
}

export interface KeyRecord {
  v: 1;
  keyId: string;
  kekId: string;
  owner: string;
  address: string;
  wrapped: Sealed;
}

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

const wrapContext = (r: Pick<KeyRecord, 'keyId' | 'owner' | 'address'>) => `mvsec-dk:v1|${r.keyId}|${r.owner}|${r.address}`;

export const ownerKey = (mspId: string, principal: string) => `${mspId}|${principal}`;

export class Keyring {
  private keks: Kek[] | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly storageKey: Buffer,
  ) {
    if (storageKey.length !== 32) throw new Error('the storage key must be 32 bytes');
  }

  get keyringFile(): string {
    return join(this.dir, 'keyring.sealed.json');
  }
  get keysDir(): string {
    return join(this.dir, 'keys');
  }

  private async load(): Promise<Kek[]> {
    if (this.keks) return this.keks;
    let text: string;
    try {
      text = await readFile(this.keyringFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return (this.keks = []);
      throw e;
    }
    try {
      const file = JSON.parse(text) as { v: number; sealed: Sealed };
      this.keks = JSON.parse(unseal(this.storageKey, file.sealed, KEYRING_CONTEXT).toString('utf8')) as Kek[];
    } catch {
      throw new KeyError('the keyring cannot be unsealed: wrong storage key (MVSEC_GATEWAY_STORAGE_KEY) or a damaged keyring');
    }
    return this.keks;
  }

  /** Fail early when the keyring does not open with this storage key. */
  async check(): Promise<number> {
    return (await this.load()).length;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async kekFor(owner: string, create: boolean): Promise<Kek | undefined> {
    const found = (await this.load()).find((k) => k.owner === owner);
    if (found || !create) return found;
    return this.serial(async () => {
      const keks = await this.load();
      const again = keks.find((k) => k.owner === owner);
      if (again) return again;
      const kek: Kek = {
        kekId: `kek-${randomBytes(16).toString('hex')}`,
        owner,
        key: randomBytes(32).toString('base64'),
        createdAt: new Date().toISOString(),
      };
      const next = [...keks, kek];
      const sealed = seal(this.storageKey, JSON.stringify(next), KEYRING_CONTEXT);
      await writeFileAtomic(this.keyringFile, JSON.stringify({ v: 1, sealed }));
      this.keks = next;
      return kek;
    });
  }

  /** A fresh data key and its id (not yet stored). */
  newDataKey(): { keyId: string; key: Buffer } {
    return { keyId: `dk-${randomBytes(16).toString('hex')}`, key: randomBytes(32) };
  }

  private recordPath(keyId: string): string {
    if (!KEY_ID.test(keyId)) throw new KeyError(`not a data key id: ${keyId}`);
    return join(this.keysDir, `${keyId}.json`);
  }

  /** Wrap the data key under the owner's KEK and store the key record (atomic). */
  async storeDataKey(keyId: string, key: Buffer, owner: string, address: string): Promise<void> {
    const kek = (await this.kekFor(owner, true))!;
    const wrapped = seal(Buffer.from(kek.key, 'base64'), key, wrapContext({ keyId, owner, address }));
    const rec: KeyRecord = { v: 1, keyId, kekId: kek.kekId, owner, address, wrapped };
    await writeFileAtomic(this.recordPath(keyId), JSON.stringify(rec));
  }

  async record(keyId: string): Promise<KeyRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.recordPath(keyId), 'utf8')) as KeyRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Unwrap the data key of `keyId` for the object at `address` owned by `owner`. */
  async dataKey(keyId: string, owner: string, address: string): Promise<Buffer> {
    const rec = await this.record(keyId);
    if (!rec) throw new KeyError(`data key ${keyId} does not exist (destroyed, or never stored here)`);
    const kek = (await this.load()).find((k) => k.kekId === rec.kekId);
    if (!kek) throw new KeyError(`key-encryption key ${rec.kekId} of data key ${keyId} is not in the keyring`);
    try {
      const key = unseal(Buffer.from(kek.key, 'base64'), rec.wrapped, wrapContext({ keyId, owner, address }));
      if (key.length !== 32) throw new Error('bad length');
      return key;
    } catch {
      throw new KeyError(`data key ${keyId} does not unwrap for owner ${owner} and object ${address} (wrong key or tampered key record)`);
    }
  }

  /**
   * Crypto-shredding: overwrite the key record in place, flush it, unlink it. Returns whether a
   * record existed. (On copy-on-write or journaling storage the old blocks may survive; they hold
   * only the wrapped key, useless without the owner's KEK, see docs/storage.md.)
   */
  async destroyDataKey(keyId: string): Promise<boolean> {
    const path = this.recordPath(keyId);
    let fh;
    try {
      fh = await open(path, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    try {
      const { size } = await fh.stat();
      await fh.write(randomBytes(size), 0, size, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(path);
    await syncDir(this.keysDir);
    return true;
  }

  async listKeyIds(): Promise<string[]> {
    try {
      return (await readdir(this.keysDir))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5))
        .filter((k) => KEY_ID.test(k))
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}
