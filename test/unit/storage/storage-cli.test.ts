/**
 * X6: `npm run storage` exit codes without a network (the verification against the real ledger,
 * exit 0 and 1, runs in test/integration/storage-s3.test.ts): 0 for a good backup, 1 when an
 * object is damaged (integrity), 2 for misuse, a missing key or store, a restore into a store that
 * holds data.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ownerKey } from '../../../gateway/src/r2-storage/keyring.js';
import { ObjectStore } from '../../../gateway/src/r2-storage/store.js';
import { EXIT, runStorageCommand } from '../../../gateway/src/cli/storage.js';

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), `mvsec-cli-${p}-`));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A store with two objects and index entries, and the environment naming it. */
async function storeWithObjects(): Promise<{ store: ObjectStore; env: NodeJS.ProcessEnv; addresses: string[] }> {
  const dir = tmp('store');
  const key = randomBytes(32);
  const store = new ObjectStore({ dir, storageKey: key });
  const addresses: string[] = [];
  for (const id of ['d-1', 'd-2']) {
    const o = await store.put(Readable.from([randomBytes(100_000)]), { owner: ownerKey('IoTPlatformMSP', 'alice') });
    await store.saveEntry({
      v: 1,
      ...o,
      dataId: id,
      thingId: 't-1',
      ownerPrincipal: 'alice',
      ownerMspId: 'IoTPlatformMSP',
      storedAt: new Date().toISOString(),
      state: 'STORED',
    });
    addresses.push(o.address);
  }
  return { store, addresses, env: { MVSEC_GATEWAY_STORAGE_DIR: dir, MVSEC_GATEWAY_STORAGE_KEY: key.toString('hex') } };
}

describe('npm run storage: exit codes (X6)', () => {
  it('a good backup exits 0 and holds every object, key record and index entry', async () => {
    const { env, addresses } = await storeWithObjects();
    const out = join(tmp('backup'), 'b');
    assert.equal(await runStorageCommand(['backup', out], env), EXIT.ok);
    assert.deepEqual(readdirSync(join(out, 'objects')).sort(), [...addresses].sort());
    assert.equal(readdirSync(join(out, 'keys')).length, 2);
    assert.equal(readdirSync(join(out, 'index')).length, 2);
    const manifest = JSON.parse(readFileSync(join(out, 'backup.json'), 'utf8'));
    assert.equal(manifest.locations[addresses[0]], 'local');
  });

  it('a damaged object makes the backup exit 1 (integrity) instead of copying it', async () => {
    const { env, addresses } = await storeWithObjects();
    const file = join(env.MVSEC_GATEWAY_STORAGE_DIR!, 'objects', addresses[1].slice(0, 2), addresses[1]);
    const bytes = readFileSync(file);
    bytes[500] ^= 0x01;
    writeFileSync(file, bytes);
    const out = join(tmp('backup'), 'b');
    assert.equal(await runStorageCommand(['backup', out], env), EXIT.integrity);
    assert.equal(existsSync(join(out, 'objects', addresses[1])), false);
  });

  it('misuse, a missing storage key or store, and a restore into a store that holds data exit 2', async () => {
    const { env } = await storeWithObjects();
    assert.equal(await runStorageCommand([], env), EXIT.usage);
    assert.equal(await runStorageCommand(['backup'], env), EXIT.usage);
    assert.equal(await runStorageCommand(['erase-everything'], env), EXIT.usage);
    assert.equal(
      await runStorageCommand(['verify'], { MVSEC_GATEWAY_STORAGE_DIR: env.MVSEC_GATEWAY_STORAGE_DIR, MVSEC_DATA_DIR: tmp('nodata') }),
      EXIT.usage,
    );
    assert.equal(await runStorageCommand(['verify'], { ...env, MVSEC_GATEWAY_STORAGE_DIR: join(tmp('none'), 'missing') }), EXIT.usage);
    const out = join(tmp('backup'), 'b');
    assert.equal(await runStorageCommand(['backup', out], env), EXIT.ok);
    assert.equal(await runStorageCommand(['backup', out], env), EXIT.usage, 'the backup target is not empty');
    assert.equal(await runStorageCommand(['restore', out], env), EXIT.usage, 'the store holds data');
  });
});
