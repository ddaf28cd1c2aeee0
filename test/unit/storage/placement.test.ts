/**
 * X5/S2: where a thing's data goes (the chaincode's placement rule, applied before a byte is read),
 * the S3 backend's configuration from MVSEC_S3_*, and an unreachable S3 store answering 503
 * storage-unavailable (never 400 or a bare 500). The S3 backend against a real S3 server is
 * test/integration/storage-s3.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalBackend } from '../../../gateway/src/r2-storage/backend.js';
import { s3ConfigFromEnv } from '../../../gateway/src/r2-storage/s3-backend.js';
import { placeFor } from '../../../gateway/src/r2-storage/store.js';
import { startTestGateway } from '../gateway/support.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mvsec-place-'));
  dirs.push(d);
  return d;
};

/** A backend double: only store id and placement matter to the rule. */
const backend = (storeId: string, placement: 'ON_PLATFORM' | 'EXTERNAL') => Object.assign(new LocalBackend(tmp(), storeId), { placement });

describe('placement follows the thing’s policy (X5, S2)', () => {
  const local = backend('local', 'ON_PLATFORM');
  const s3 = backend('s3-eu', 'EXTERNAL');
  const s3b = backend('s3-us', 'EXTERNAL');
  const all = [local, s3, s3b];
  const where = (policy: Parameters<typeof placeFor>[0]) => {
    const r = placeFor(policy, local, all);
    return 'backend' in r ? r.backend.storeId : r.reason;
  };

  it('ON_PLATFORM (and no policy: the chaincode’s closed default) → local; ANY → the default backend', () => {
    assert.equal(where({ storage: 'ON_PLATFORM' }), 'local');
    assert.equal(where(undefined), 'local');
    assert.equal(where({ storage: 'ANY', storageIds: ['s3-us'] }), 'local');
  });

  it('EXTERNAL → the first listed store configured here; none listed → any external store', () => {
    assert.equal(where({ storage: 'EXTERNAL', storageIds: ['s3-us', 's3-eu'] }), 's3-us');
    assert.equal(where({ storage: 'EXTERNAL', storageIds: ['elsewhere', 's3-eu'] }), 's3-eu');
    assert.equal(where({ storage: 'EXTERNAL', storageIds: [] }), 's3-eu');
  });

  it('no fitting store → the reason, naming what the policy wants and what this gateway has', () => {
    assert.equal(
      where({ storage: 'EXTERNAL', storageIds: ['elsewhere'] }),
      "the thing's policy stores data EXTERNAL in one of [elsewhere]; this gateway's stores are local (ON_PLATFORM), s3-eu (EXTERNAL), s3-us (EXTERNAL)",
    );
    const r = placeFor({ storage: 'EXTERNAL' }, local, [local]);
    assert.ok('reason' in r && /stores data EXTERNAL; this gateway's stores are local \(ON_PLATFORM\)$/.test(r.reason));
  });
});

describe('S3 backend configuration (MVSEC_S3_*)', () => {
  const base = {
    MVSEC_S3_ENDPOINT: 'http://127.0.0.1:8333',
    MVSEC_S3_BUCKET: 'b',
    MVSEC_S3_ACCESS_KEY_ID: 'k',
    MVSEC_S3_SECRET_ACCESS_KEY: 's',
  };

  it('off without an endpoint; defaults: EXTERNAL, store id s3, path style, 8 MiB × 2 parts', () => {
    assert.equal(s3ConfigFromEnv({}), undefined);
    const c = s3ConfigFromEnv(base)!;
    assert.deepEqual(
      [c.placement, c.storeId, c.forcePathStyle, c.partSize, c.queueSize, c.region, c.prefix],
      ['EXTERNAL', 's3', true, 8 * 1024 * 1024, 2, 'us-east-1', ''],
    );
  });

  it('incomplete or malformed configuration is refused with what to set', () => {
    assert.throws(() => s3ConfigFromEnv({ MVSEC_S3_ENDPOINT: 'http://x' }), /MVSEC_S3_BUCKET must be set/);
    assert.throws(() => s3ConfigFromEnv({ ...base, MVSEC_S3_ENDPOINT: 'not a url' }), /must be a URL/);
    assert.throws(() => s3ConfigFromEnv({ ...base, MVSEC_S3_PLACEMENT: 'MOON' }), /EXTERNAL or ON_PLATFORM/);
    assert.throws(() => s3ConfigFromEnv({ ...base, MVSEC_S3_PART_MIB: '1' }), /5 … 512/);
    assert.throws(() => s3ConfigFromEnv({ ...base, MVSEC_S3_PREFIX: 'no-slash' }), /end with "\/"/);
  });
});

describe('an unreachable S3 store (S2)', () => {
  it('PUT for a thing whose policy names it answers 503 storage-unavailable, and nothing is anchored', async () => {
    // a port nothing listens on
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const s3 = s3ConfigFromEnv({
      MVSEC_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      MVSEC_S3_BUCKET: 'b',
      MVSEC_S3_ACCESS_KEY_ID: 'k',
      MVSEC_S3_SECRET_ACCESS_KEY: 's',
      MVSEC_S3_STORE_ID: 's3-down',
    })!;
    const gw = await startTestGateway({ storageDir: tmp(), s3 });
    try {
      gw.ledger
        .on('thing:GetThing', ({ args }) => ({
          thingId: args[0],
          owner: 'alice',
          mspId: 'IoTPlatformMSP',
          policy: { storage: 'EXTERNAL', storageIds: ['s3-down'] },
        }))
        .on('access:CheckAccess', () => ({ allowed: true, reason: 'owner' }));
      const alice = await gw.tokenFor('creator', 'IoTPlatformMSP', 'alice');
      const r = await gw.request('PUT', '/r2/data/d-down?thingId=t-1&category=motion&classification=CONFIDENTIAL', {
        token: alice,
        raw: randomBytes(10_000),
        contentType: 'application/octet-stream',
      });
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.match(r.body.type, /storage-unavailable$/);
      assert.match(r.body.detail, /S3 store s3-down .* upload failed/);
      assert.equal(gw.ledger.submits('data:AnchorData').length, 0);
    } finally {
      await gw.close();
    }
  });
});
