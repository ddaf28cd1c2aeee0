/** R2 routes over HTTP with a ledger double: store → anchor → verified fetch, guard, integrity refusal, rollback, deletion (410). */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../gateway/support.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const IOT = 'IoTPlatformMSP';

describe('R2 routes (F2, X5, X7, A1) with a ledger double', () => {
  let gw: TestGateway;
  let dir: string;
  let alice: string, bob: string, carol: string;
  const anchors = new Map<string, Record<string, unknown>>();
  const grants = new Set<string>(); // principals allowed to read
  let refuseAnchor = false;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mvsec-r2-unit-'));
    gw = await startTestGateway({ storageDir: dir });
    gw.ledger
      .on('thing:GetThing', ({ args }) => ({ thingId: args[0], owner: 'alice', mspId: IOT, policy: { storage: 'ANY' } }))
      .on('access:CheckAccess', ({ caller, args }) => {
        const a = anchors.get(args[1]);
        if (a?.stage === 'DELETED') return { allowed: false, reason: `data ${args[1]} is deleted` };
        if (args[2] === 'write')
          return caller.principal === 'alice' ? { allowed: true, reason: 'owner' } : { allowed: false, reason: 'no write' };
        return grants.has(caller.principal)
          ? { allowed: true, reason: 'grant g-1 allows read', grantId: 'g-1' }
          : { allowed: false, reason: `no grant gives ${caller.principal}@${caller.mspId} 'read' on data ${args[1]}` };
      })
      .on('data:AnchorData', ({ args }) => {
        if (refuseAnchor) throw new Error("DENIED: thing t-1's policy requires encrypted data with a keyId");
        const input = JSON.parse(args[0]);
        const a = { ...input, owner: 'alice', ownerMspId: IOT, lifecycle: [{ stage: 'STORED', at: '2025-01-01T00:00:00.000Z' }] };
        anchors.set(input.dataId, a);
        return a;
      })
      .on('data:GetData', ({ args }) => {
        const a = anchors.get(args[0]);
        if (!a) throw new Error(`NOT_FOUND: data ${args[0]} does not exist`);
        if (a.stage === 'DELETED') throw new Error(`DENIED: data ${args[0]} is deleted`);
        return a;
      })
      .on('data:DeleteData', ({ caller, args }) => {
        const a = anchors.get(args[0])!;
        const step = {
          stage: 'DELETED',
          at: '2025-01-02T00:00:00.000Z',
          by: { mspId: caller.mspId, principal: caller.principal },
          note: args[1],
        };
        const d = { ...a, stage: 'DELETED', lifecycle: [...(a.lifecycle as unknown[]), step] };
        anchors.set(args[0], d);
        return d;
      })
      .on('data:VerifyData', ({ args }) => {
        const a = anchors.get(args[0])!;
        return a.stage === 'DELETED' ? { valid: false, reason: `data ${args[0]} is deleted` } : { valid: a.sha256 === args[1], reason: '' };
      });
    alice = await gw.tokenFor('creator', IOT, 'alice');
    bob = await gw.tokenFor('user', 'MetaverseAMSP', 'bob');
    carol = await gw.tokenFor('user', 'MetaverseBMSP', 'carol');
  });
  after(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const put = (id: string, body: Buffer, token = alice, extra = '') =>
    gw.request('PUT', `/r2/data/${id}?thingId=t-1&category=motion&classification=CONFIDENTIAL${extra}`, {
      token,
      raw: body,
      contentType: 'application/octet-stream',
    });

  it('R2: store streams the object in and anchors fingerprint, size, category, classification, location and key id (never a key)', async () => {
    const body = randomBytes(200_000);
    const r = await put('d-1', body, alice, `&sha256=${sha(body)}`);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const input = JSON.parse(gw.ledger.submits('data:AnchorData').at(-1)!.args[0]);
    assert.equal(input.sha256, sha(body));
    assert.equal(input.size, body.length);
    assert.equal(input.category, 'motion');
    assert.equal(input.classification, 'CONFIDENTIAL');
    assert.equal(input.encrypted, true);
    assert.match(input.keyId, /^dk-[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(input.storage).sort(), ['placement', 'storeId', 'uri']);
    assert.match(input.storage.uri, /^local:\/\/local\/[0-9a-f]{64}$/);
    assert.equal(r.body.keyId, input.keyId);
    const keyRecord = JSON.parse(readFileSync(join(dir, 'keys', `${input.keyId}.json`), 'utf8'));
    assert.equal(JSON.stringify(input).includes(keyRecord.wrapped.ct), false, 'the wrapped key is not on the ledger');
  });

  it('R2/F2: the owner fetches the verified object without a CheckAccess round trip; Repr-Digest is the ledger fingerprint', async () => {
    const body = randomBytes(150_000);
    assert.equal((await put('d-2', body)).status, 201);
    const before = gw.ledger.calls.filter((c) => c.fn === 'access:CheckAccess').length;
    const r = await gw.request('GET', '/r2/data/d-2', { token: alice, accept: 'application/octet-stream' });
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/octet-stream');
    assert.ok(r.bytes.equals(body));
    assert.equal(r.headers.get('repr-digest'), `sha-256=:${Buffer.from(sha(body), 'hex').toString('base64')}:`);
    assert.equal(gw.ledger.calls.filter((c) => c.fn === 'access:CheckAccess').length, before);
  });

  it("A1: a non-owner is asked CheckAccess 'read' first: 403 with the contract's reason; with a grant the fetch succeeds", async () => {
    const denied = await gw.request('GET', '/r2/data/d-2?purpose=gameplay', { token: bob });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.detail, "DENIED: no grant gives bob@MetaverseAMSP 'read' on data d-2");
    const check = gw.ledger.calls.filter((c) => c.fn === 'access:CheckAccess').at(-1)!;
    assert.deepEqual(check.args, ['DATA', 'd-2', 'read', 'gameplay']);
    grants.add('bob');
    const ok = await gw.request('GET', '/r2/data/d-2?purpose=gameplay', { token: bob });
    assert.equal(ok.status, 200);
    assert.equal(sha(ok.bytes), anchors.get('d-2')!.sha256);
  });

  it('F2: one flipped byte in the stored file → 502 integrity-error, no object bytes; verify reports it', async () => {
    const body = randomBytes(100_000);
    const s = await put('d-3', body);
    const addr = s.body.storage.uri.split('/').pop();
    const p = join(dir, 'objects', addr.slice(0, 2), addr);
    const raw = readFileSync(p);
    raw[raw.length - 50_000] ^= 0x04;
    writeFileSync(p, raw);
    const r = await gw.request('GET', '/r2/data/d-3', { token: alice });
    assert.equal(r.status, 502);
    assert.match(r.type, /problem\+json/);
    assert.equal(r.body.code, 'INTEGRITY');
    assert.match(r.body.type, /integrity-error$/);
    assert.match(r.body.detail, /failed verification against the ledger and is not served/);
    const v = await gw.request('POST', '/r2/data/d-3/verify', { token: alice });
    assert.equal(v.status, 200);
    assert.equal(v.body.valid, false);
  });

  it('X5: an anchor the ledger refuses leaves nothing behind (object erased, key destroyed)', async () => {
    const objectsBefore = readdirSync(join(dir, 'objects'))
      .filter((d) => d.length === 2)
      .flatMap((d) => readdirSync(join(dir, 'objects', d))).length;
    const keysBefore = readdirSync(join(dir, 'keys')).length;
    refuseAnchor = true;
    const r = await put('d-4', randomBytes(10_000));
    refuseAnchor = false;
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /requires encrypted data/);
    const objectsAfter = readdirSync(join(dir, 'objects'))
      .filter((d) => d.length === 2)
      .flatMap((d) => readdirSync(join(dir, 'objects', d))).length;
    assert.equal(objectsAfter, objectsBefore);
    assert.equal(readdirSync(join(dir, 'keys')).length, keysBefore);
    assert.equal((await gw.request('GET', '/r2/data/d-4', { token: alice })).status, 404);
  });

  it('X7: delete → ledger DeleteData, object erased, key destroyed; fetch answers 410 with the deletion record (the owner) or the reason (others)', async () => {
    const body = randomBytes(5000);
    const s = await put('d-5', body);
    const keyId = s.body.keyId;
    const foreign = await gw.request('DELETE', '/r2/data/d-5?reason=gdpr', { token: carol });
    // the double lets anyone delete; what matters here is that the route asks the ledger first
    assert.equal(gw.ledger.submits('data:DeleteData').at(-1)!.caller.principal, 'carol');
    assert.equal(foreign.status, 200);
    assert.equal(foreign.body.keyDestroyed, true);
    assert.equal(foreign.body.objectErased, true);
    assert.throws(() => readFileSync(join(dir, 'keys', `${keyId}.json`)), /ENOENT/);
    const r = await gw.request('GET', '/r2/data/d-5', { token: alice });
    assert.equal(r.status, 410);
    assert.equal(r.body.deletion.reason, 'gdpr');
    assert.equal(r.body.deletion.fingerprint, sha(body));
    assert.equal(r.body.deletion.deletedBy.principal, 'carol');
    assert.equal(r.body.deletion.record.stage, 'DELETED');
    assert.match(r.body.deletion.txId, /^tx-/);
    const other = await gw.request('GET', '/r2/data/d-5', { token: bob });
    assert.equal(other.status, 410);
    assert.equal(other.body.detail, 'data d-5 is deleted');
    assert.equal(other.body.deletion, undefined);
  });

  it('P1: an object upload must be application/octet-stream; JSON routes refuse a byte stream', async () => {
    const j = await gw.request('PUT', '/r2/data/d-6?thingId=t-1&category=m&classification=PUBLIC', { token: alice, json: { a: 1 } });
    assert.equal(j.status, 415);
    const o = await gw.request('POST', '/r4/access-checks', {
      token: alice,
      raw: Buffer.from('xx'),
      contentType: 'application/octet-stream',
    });
    assert.equal(o.status, 415);
    const bad = await put('d-7', randomBytes(100), alice, `&sha256=${'0'.repeat(64)}`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /nothing stored/);
  });
  it("P2: a page bookmark (the chaincode's composite key, NUL-separated) travels base64url and comes back intact", async () => {
    const raw = '\u0000data~thing\u0000t-1\u0000d-9\u0000';
    const seen: string[] = [];
    gw.ledger.on('data:ListDataOfThing', ({ args }) => {
      seen.push(args[2]);
      return { items: [], bookmark: args[2] ? '' : raw };
    });
    const first = await gw.request('GET', '/r2/things/t-1/anchors?pageSize=1', { token: alice });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.match(first.body.bookmark, /^[A-Za-z0-9_-]+$/);
    const next = await gw.request('GET', `/r2/things/t-1/anchors?pageSize=1&bookmark=${first.body.bookmark}`, { token: alice });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.deepEqual(seen, ['', raw]);
    assert.equal(next.body.bookmark, '');
    const bad = await gw.request('GET', '/r2/things/t-1/anchors?bookmark=%00x', { token: alice });
    assert.equal(bad.status, 400);
  });
});
