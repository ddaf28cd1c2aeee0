/**
 * R2 storage on a REAL S3-compatible server (SeaweedFS `weed server -s3`, built from the Go module
 * proxy) and the real Fabric network (F2, S1, S2, X5, X6, X7, C2): a thing whose policy says
 * EXTERNAL in store `s3-it` stores there, anchored with the S3 location, fetched verified over /r2;
 * one byte flipped in the S3 object through the S3 API is refused as an integrity error; backup →
 * wipe → restore → verification with `npm run storage` is all green (its exit codes: 0 good, 1
 * mismatch, 2 usage); delete → the object is gone from S3, the key destroyed, 410 with the
 * ledger's deletion record.
 *
 * The S3 server is the one `npm test` starts for the integration suite; run alone, this file
 * starts it (and stops it at the end).
 */
import '../../scripts/lib/test-env.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { blake3 } from '@napi-rs/blake-hash';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Backend, type S3BackendConfig } from '../../gateway/src/r2-storage/s3-backend.js';
import { ROOT } from '../../scripts/lib/paths.js';
import { localS3Config, s3Env, startS3Server, stopS3Server } from '../../scripts/s3/server.js';
import { writeGatewayConfig } from '../../scripts/gateway-config.js';
import { topology } from './support/network.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';

const IOT = 'IoTPlatformMSP';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `npm run storage -- …` as a child process against the test gateway's store; its exit code and output. */
function storageCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway', 'src', 'cli', 'storage.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('R2 storage agent on a real S3 server (SeaweedFS) and the real network (F2, S1, S2, X5, X6, X7, C2)', () => {
  let gw: LiveGateway;
  let s3: S3BackendConfig;
  let raw: S3Backend;
  let startedS3 = false;
  let alice: Client, iotAdmin: Client, auditor: Client;
  const storageKey = randomBytes(32);
  let ids: { iot: string; thing: string; local: string; other: string; d1: string; d2: string; d3: string; d4: string };
  const bodies = new Map<string, Buffer>();
  let cliEnv: Record<string, string>;

  const put = (thingId: string, dataId: string, body: Buffer) =>
    fetch(`${gw.url}/r2/data/${dataId}?thingId=${thingId}&category=motion&classification=CONFIDENTIAL&sha256=${sha(body)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/octet-stream', accept: 'application/json' },
      body: new Uint8Array(body),
    });
  const get = async (dataId: string) => {
    const r = await fetch(`${gw.url}/r2/data/${dataId}`, {
      headers: { authorization: `Bearer ${alice.token}`, accept: 'application/octet-stream, application/problem+json' },
    });
    const bytes = Buffer.from(await r.arrayBuffer());
    const type = r.headers.get('content-type') ?? '';
    return {
      status: r.status,
      type,
      headers: r.headers,
      bytes,
      problem: /json/.test(type) ? JSON.parse(bytes.toString('utf8')) : undefined,
    };
  };
  const addressOf = (uri: string) => uri.split('/').pop()!;
  const listed = async () => {
    const l: string[] = [];
    for await (const x of raw.list()) l.push(x);
    return l;
  };
  const thingWith = async (thingId: string, storage: Record<string, unknown>) => {
    const t = await alice.call('POST', '/r1/things', {
      thingId,
      platformId: ids.iot,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-${thingId}`,
      classification: 'CONFIDENTIAL',
      policy: { ...storage, purposes: ['analytics'], encryptionRequired: true },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
  };

  before(async () => {
    const server = await startS3Server();
    startedS3 = server.started;
    gw = await startLiveGateway({ storageKey, s3: localS3Config({ prefix: `it-${randomBytes(4).toString('hex')}/`, storeId: 's3-it' }) });
    s3 = (gw.storage.backends.find((b) => b.storeId === 's3-it') as S3Backend).config;
    raw = new S3Backend(s3);
    const r = gw.run;
    ids = {
      iot: `s3-iot-${r}`,
      thing: `s3-watch-${r}`,
      local: `s3-local-${r}`,
      other: `s3-other-${r}`,
      d1: `s3-d1-${r}`,
      d2: `s3-d2-${r}`,
      d3: `s3-d3-${r}`,
      d4: `s3-d4-${r}`,
    };
    [iotAdmin, alice, auditor] = await Promise.all([gw.as(IOT, 'admin'), gw.as(IOT, 'creator'), gw.as(IOT, 'auditor')]);
    const p = await iotAdmin.call('POST', '/r5/platforms', { platformId: ids.iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    await thingWith(ids.thing, { storage: 'EXTERNAL', storageIds: ['s3-it'] });
    await thingWith(ids.local, { storage: 'ON_PLATFORM' });
    await thingWith(ids.other, { storage: 'EXTERNAL', storageIds: ['some-other-store'] });
    cliEnv = {
      // The gateway's configuration (its Fabric network), with the store and key of the test gateway over it.
      MVSEC_GATEWAY_CONFIG: writeGatewayConfig(topology, mkdtempSync(join(tmpdir(), 'mvsec-cli-config-'))),
      MVSEC_GATEWAY_STORAGE_DIR: join(gw.stateDir, 'storage'),
      MVSEC_GATEWAY_STORAGE_KEY: storageKey.toString('hex'),
      ...s3Env(s3),
    };
  });
  after(async () => {
    raw?.close();
    await gw?.close();
    if (startedS3) await stopS3Server();
  });

  it('F2/S2/X5: the thing’s policy (EXTERNAL, store s3-it) puts the object on S3, multipart, encrypted; anchored with the S3 location; the fetch is verified', async () => {
    // > one 8 MiB part: the upload is multipart
    const body = Buffer.concat([Buffer.from('wrist,ankle,head\n'.repeat(100_000)), randomBytes(8 * 1024 * 1024)]);
    bodies.set(ids.d1, body);
    const s = await put(ids.thing, ids.d1, body);
    const stored = (await s.json()) as { txId: string; keyId: string; storage: { placement: string; storeId: string; uri: string } };
    assert.equal(s.status, 201, JSON.stringify(stored));
    assert.equal(stored.storage.placement, 'EXTERNAL');
    assert.equal(stored.storage.storeId, 's3-it');
    const address = addressOf(stored.storage.uri);
    assert.equal(stored.storage.uri, `s3://${s3.bucket}/${s3.prefix}objects/${address}`);
    // the ledger's anchor names the S3 location and the key id
    const a = await alice.call('GET', `/r2/data/${ids.d1}/anchor`);
    assert.equal(a.status, 200);
    assert.equal(a.body.sha256, sha(body));
    assert.equal(a.body.size, body.length);
    assert.deepEqual(a.body.storage, stored.storage);
    assert.equal(a.body.keyId, stored.keyId);
    // at rest on S3 (read through the S3 API): encrypted, content-addressed, no temporary upload left
    const object = await raw.getRaw(address);
    assert.equal(blake3(object).toString('hex'), address, 'the address is the BLAKE3-256 of the stored bytes');
    assert.equal(object.includes(Buffer.from('wrist,ankle,head')), false);
    assert.deepEqual(await listed(), [address]);
    assert.equal(existsSync(join(gw.stateDir, 'storage', 'objects', address.slice(0, 2), address)), false, 'not on the local disk');
    const f = await get(ids.d1);
    assert.equal(f.status, 200);
    assert.ok(f.bytes.equals(body));
    assert.equal(f.headers.get('mvsec-data-sha256'), sha(body));
  });

  it('X5: an ON_PLATFORM thing stays on the local store; a policy naming another store is refused before a byte is read', async () => {
    const body = randomBytes(70_000);
    const s = await put(ids.local, `${ids.d4}-local`, body);
    const stored = (await s.json()) as { storage: { placement: string; storeId: string; uri: string } };
    assert.equal(s.status, 201, JSON.stringify(stored));
    assert.deepEqual([stored.storage.placement, stored.storage.storeId], ['ON_PLATFORM', 'local']);
    assert.equal(await raw.exists(addressOf(stored.storage.uri)), false);
    const refused = await put(ids.other, `${ids.d4}-other`, body);
    const problem = (await refused.json()) as { detail: string };
    assert.equal(refused.status, 403);
    assert.match(problem.detail, /EXTERNAL in one of \[some-other-store\]/);
  });

  it('F2/C2: one flipped byte in the S3 object (through the S3 API) → the fetch refuses with an integrity error and serves nothing', async () => {
    const body = randomBytes(300_000);
    const s = await put(ids.thing, ids.d2, body);
    const stored = (await s.json()) as { storage: { uri: string } };
    assert.equal(s.status, 201, JSON.stringify(stored));
    const address = addressOf(stored.storage.uri);
    const bytes = await raw.getRaw(address);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await raw.putRaw(address, bytes);
    const f = await get(ids.d2);
    assert.equal(f.status, 502);
    assert.match(f.type, /problem\+json/);
    assert.equal(f.problem.code, 'INTEGRITY');
    assert.match(f.problem.type, /integrity-error$/);
    assert.match(f.problem.detail, /failed verification against the ledger and is not served/);
    assert.equal(f.bytes.includes(body.subarray(0, 32)), false);
    const v = await alice.call('POST', `/r2/data/${ids.d2}/verify`);
    assert.equal(v.status, 200);
    assert.equal(v.body.valid, false);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01; // repaired: served again
    await raw.putRaw(address, bytes);
    const again = await get(ids.d2);
    assert.equal(again.status, 200);
    assert.ok(again.bytes.equals(body));
  });

  it('X6/S1: `npm run storage` backup → wipe → restore → verification against the ledger all green on S3; exit 1 on a mismatch, 2 on misuse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvsec-s3-backup-'));
    const out = join(dir, 'b');
    try {
      const b = await storageCli(['backup', out], cliEnv);
      assert.equal(b.code, 0, b.out);
      assert.match(b.out, /backed up 3 objects/);
      await gw.storage.wipe();
      assert.deepEqual(await listed(), [], 'the S3 prefix is empty after the wipe');
      assert.equal((await get(ids.d1)).status, 404);
      const r = await storageCli(['restore', out, '--json'], cliEnv);
      assert.equal(r.code, 0, r.out);
      const report = JSON.parse(r.out.slice(r.out.indexOf('{'))) as { ok: string[]; failed: unknown[] };
      assert.deepEqual(report.failed, []);
      assert.deepEqual([...report.ok].sort(), [ids.d1, ids.d2, `${ids.d4}-local`].sort());
      const f = await get(ids.d1);
      assert.equal(f.status, 200);
      assert.ok(f.bytes.equals(bodies.get(ids.d1)!));
      // a restore into a store that holds data is refused (2), and changes nothing
      const again = await storageCli(['restore', out], cliEnv);
      assert.equal(again.code, 2, again.out);
      assert.match(again.out, /restore needs an empty store/);
      // one flipped byte on S3 → verify exits 1 and names the data id
      const e = (await gw.storage.entry(ids.d2))!;
      const bytes = await raw.getRaw(e.address);
      const at = Math.floor(bytes.length / 2);
      bytes[at] ^= 0x80;
      await raw.putRaw(e.address, bytes);
      const bad = await storageCli(['verify'], cliEnv);
      assert.equal(bad.code, 1, bad.out);
      assert.match(bad.out, new RegExp(`FAILED  ${ids.d2}: record \\d+ failed authentication`));
      assert.match(bad.out, /verified 3 entries against the ledger: 2 ok, 1 failed/);
      bytes[at] ^= 0x80;
      await raw.putRaw(e.address, bytes);
      const good = await storageCli(['verify'], cliEnv);
      assert.equal(good.code, 0, good.out);
      assert.match(good.out, /3 ok, 0 failed/);
      const usage = await storageCli(['verify', 'extra'], cliEnv);
      assert.equal(usage.code, 2, usage.out);
      assert.match(usage.out, /usage: npm run storage/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('X7: delete → DeleteData on the ledger, the object gone from S3, its key destroyed; the fetch answers 410 with the ledger’s deletion record', async () => {
    const body = randomBytes(40_000);
    const s = await put(ids.thing, ids.d3, body);
    const stored = (await s.json()) as { keyId: string; storage: { uri: string } };
    assert.equal(s.status, 201, JSON.stringify(stored));
    const address = addressOf(stored.storage.uri);
    assert.equal(await raw.exists(address), true);
    const d = await alice.call('DELETE', `/r2/data/${ids.d3}?reason=owner%20request%20(X7)`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.objectErased, true);
    assert.equal(d.body.keyDestroyed, true);
    assert.equal(await raw.exists(address), false);
    assert.equal(existsSync(join(gw.stateDir, 'storage', 'keys', `${stored.keyId}.json`)), false);
    const f = await get(ids.d3);
    assert.equal(f.status, 410);
    assert.equal(f.problem.code, 'EXPIRED');
    assert.equal(f.problem.deletion.txId, d.body.txId);
    assert.equal(f.problem.deletion.reason, 'owner request (X7)');
    assert.equal(f.problem.deletion.fingerprint, sha(body));
    assert.equal(f.problem.deletion.record.stage, 'DELETED');
    assert.equal(f.problem.deletion.record.storage.storeId, 's3-it');
    const onLedger = await auditor.call('GET', `/r2/data/${ids.d3}/anchor`);
    assert.equal(onLedger.body.stage, 'DELETED');
    assert.equal(onLedger.body.sha256, sha(body));
  });
});
