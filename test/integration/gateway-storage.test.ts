/**
 * R2 trustworthy storage on the real network (F2, X6, X7, A1): store → AnchorData → fetch verified
 * against the ledger's fingerprint; a flipped byte in the stored file is refused as an integrity
 * error; a principal without a grant is refused with the contract's reason and with one may fetch;
 * backup → wipe → restore → verification against the ledger; delete → DeleteData on the ledger,
 * object erased, key destroyed, fetch answers 410 with the ledger's deletion record; retention:
 * the expiry pass asks the ledger (data:ExpireData), whose own time and policy decide.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blake3 } from '@napi-rs/blake-hash';
import { expireDue, retentionAgent } from '../../gateway/src/r2-storage/retention.js';
import { isRefusal } from '../../gateway/src/ledger/errors.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';

const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Another org's peer may not have committed the block yet: ask again until it has (bounded). */
async function eventually<T>(fn: () => Promise<T>, done: (v: T) => boolean, tries = 40): Promise<T> {
  let v = await fn();
  for (let i = 0; i < tries && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 250));
    v = await fn();
  }
  return v;
}

describe('R2 storage agent on the real network (F2, X6, X7, A1)', () => {
  let gw: LiveGateway;
  let iotAdmin: Client, alice: Client, bob: Client, auditor: Client;
  let ids: { iot: string; thing: string; d1: string; d2: string; d3: string; grant: string };
  const bodies = new Map<string, Buffer>();

  const put = (c: Client, dataId: string, body: Buffer) =>
    fetch(`${gw.url}/r2/data/${dataId}?thingId=${ids.thing}&category=motion&classification=CONFIDENTIAL&sha256=${sha(body)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/octet-stream', accept: 'application/json' },
      body: new Uint8Array(body),
    });
  const get = async (c: Client, dataId: string) => {
    const r = await fetch(`${gw.url}/r2/data/${dataId}`, {
      headers: { authorization: `Bearer ${c.token}`, accept: 'application/octet-stream, application/problem+json' },
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
  const objectFile = (uri: string) => {
    const address = uri.split('/').pop()!;
    return join(gw.stateDir, 'storage', 'objects', address.slice(0, 2), address);
  };

  before(async () => {
    gw = await startLiveGateway({ monitor: true });
    const r = gw.run;
    ids = { iot: `st-iot-${r}`, thing: `st-watch-${r}`, d1: `st-d1-${r}`, d2: `st-d2-${r}`, d3: `st-d3-${r}`, grant: `st-g-${r}` };
    [iotAdmin, alice, bob, auditor] = await Promise.all([
      gw.as(IOT, 'admin'),
      gw.as(IOT, 'creator'),
      gw.as(MVA, 'creator'),
      gw.as(IOT, 'auditor'),
    ]);
    const p = await iotAdmin.call('POST', '/r5/platforms', { platformId: ids.iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const t = await alice.call('POST', '/r1/things', {
      thingId: ids.thing,
      platformId: ids.iot,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-${r}`,
      classification: 'CONFIDENTIAL',
      policy: { storage: 'ON_PLATFORM', purposes: ['analytics'], encryptionRequired: true },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
  });
  after(() => gw?.close());

  it('F2/R2: store streams the object, encrypts it and anchors it; the fetch is verified against the ledger', async () => {
    const body = Buffer.concat([Buffer.from('wrist,ankle,head\n'.repeat(20_000)), randomBytes(1_500_000)]);
    bodies.set(ids.d1, body);
    const s = await put(alice, ids.d1, body);
    const stored = (await s.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(s.status, 201, JSON.stringify(stored));
    assert.match(stored.txId, /^[0-9a-f]{64}$/);
    // the ledger's anchor: fingerprint, size, category, classification, owner, location, key id
    const a = await alice.call('GET', `/r2/data/${ids.d1}/anchor`);
    assert.equal(a.status, 200);
    assert.equal(a.body.sha256, sha(body));
    assert.equal(a.body.size, body.length);
    assert.equal(a.body.category, 'motion');
    assert.equal(a.body.classification, 'CONFIDENTIAL');
    assert.equal(a.body.owner, alice.principal);
    assert.equal(a.body.encrypted, true);
    assert.equal(a.body.keyId, stored.keyId);
    assert.deepEqual(a.body.storage, stored.storage);
    assert.equal(a.body.storage.placement, 'ON_PLATFORM');
    // at rest: encrypted, content-addressed by the stored bytes (BLAKE3-256, what `b3sum` prints)
    const file = readFileSync(objectFile(stored.storage.uri));
    assert.equal(blake3(file).toString('hex'), stored.storage.uri.split('/').pop());
    assert.equal(file.includes(Buffer.from('wrist,ankle,head')), false);
    const f = await get(alice, ids.d1);
    assert.equal(f.status, 200);
    assert.equal(f.type, 'application/octet-stream');
    assert.ok(f.bytes.equals(body));
    assert.equal(f.headers.get('mvsec-data-sha256'), a.body.sha256);
    const list = await auditor.call('GET', `/r2/things/${ids.thing}/anchors?pageSize=10`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((i: { dataId: string }) => i.dataId),
      [ids.d1],
    );
  });

  it("A1: another principal without a grant is refused with the contract's reason; with the owner's grant it fetches", async () => {
    const no = await eventually(
      () => get(bob, ids.d1),
      (r) => r.status !== 404,
    );
    assert.equal(no.status, 403);
    assert.match(no.problem.detail, /^DENIED: /);
    assert.match(no.problem.detail, new RegExp(bob.principal));
    const decision = await bob.call('POST', '/r4/access-checks', {
      resourceType: 'DATA',
      resourceId: ids.d1,
      action: 'read',
      purpose: '*',
    });
    assert.equal(decision.body.allowed, false);
    const untimed = (t: string) => t.replace(/ at \d{4}-\d\d-\d\dT[\d:.]+Z/g, '');
    assert.equal(untimed(no.problem.detail), untimed(`DENIED: ${decision.body.reason}`));
    const g = await alice.call('POST', '/r4/grants', {
      grantId: ids.grant,
      resourceType: 'DATA',
      resourceId: ids.d1,
      grantee: { type: 'PRINCIPAL', id: bob.principal, mspId: MVA },
      actions: ['read'],
      purpose: '*',
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    const yes = await eventually(
      () => get(bob, ids.d1),
      (r) => r.status === 200,
    );
    assert.equal(yes.status, 200, JSON.stringify(yes.problem));
    assert.ok(yes.bytes.equals(bodies.get(ids.d1)!));
  });

  it('F2: one flipped byte in the stored file → the fetch refuses with an integrity error and serves nothing; the monitor records a CRITICAL alert on the ledger', async () => {
    const body = randomBytes(300_000);
    const s = await put(alice, ids.d2, body);
    const stored = (await s.json()) as { storage: { uri: string } };
    assert.equal(s.status, 201);
    const path = objectFile(stored.storage.uri);
    const raw = readFileSync(path);
    raw[Math.floor(raw.length / 2)] ^= 0x01;
    writeFileSync(path, raw);
    const f = await get(alice, ids.d2);
    assert.equal(f.status, 502);
    assert.match(f.type, /problem\+json/);
    assert.equal(f.problem.code, 'INTEGRITY');
    assert.match(f.problem.detail, /failed verification against the ledger and is not served/);
    assert.equal(f.bytes.includes(body.subarray(0, 32)), false);
    const v = await alice.call('POST', `/r2/data/${ids.d2}/verify`);
    assert.equal(v.status, 200);
    assert.equal(v.body.valid, false);
    assert.equal(v.body.ledger.sha256, sha(body));
    // Reported on the ledger: one CRITICAL alert on the data under the monitor's identity (the fetch
    // and the verification found the same object: one alert), readable by an auditor.
    await gw.monitor!.drain();
    const alerts = (await gw.ledger.evaluate(
      { principal: auditor.principal, mspId: IOT, role: 'auditor', issuer: 'gateway', amr: ['pwd'] },
      'alert:ListAlertsBySubject',
      ['DATA', ids.d2, '50', ''],
    )) as { items: { rule: string; severity: string; description: string; raisedBy: { role: string } }[] };
    assert.equal(alerts.items.length, 1, JSON.stringify(alerts.items));
    assert.equal(alerts.items[0].rule, 'storage-integrity');
    assert.equal(alerts.items[0].severity, 'CRITICAL');
    assert.equal(alerts.items[0].raisedBy.role, 'monitor');
    assert.match(alerts.items[0].description, new RegExp(`of data ${ids.d2} does not match the ledger and was not served`));
    raw[Math.floor(raw.length / 2)] ^= 0x01; // repaired: served again
    writeFileSync(path, raw);
    assert.equal((await get(alice, ids.d2)).status, 200);
  });

  it('X6: backup → wipe → restore into the empty store → verification against the ledger is all green', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mvsec-st-backup-')), 'b');
    try {
      const b = await gw.storage.backup(out);
      assert.ok(b.objects >= 2 && b.keys >= 2 && b.entries >= 2, JSON.stringify(b));
      await gw.storage.wipe();
      assert.equal((await get(alice, ids.d1)).status, 404);
      await gw.storage.restore(out);
      // every entry against the ledger, read as an auditor (sees anchors of every owner, deleted too)
      const report = await gw.storage.verifyAll(async (dataId) => {
        const r = await auditor.call('GET', `/r2/data/${dataId}/anchor`);
        if (r.status === 404) return undefined;
        if (r.status !== 200) throw new Error(`${r.status} ${r.body?.detail}`);
        return r.body;
      });
      assert.deepEqual(report.failed, []);
      assert.deepEqual([...report.ok].sort(), [ids.d1, ids.d2].sort());
      const f = await get(alice, ids.d1);
      assert.equal(f.status, 200);
      assert.ok(f.bytes.equals(bodies.get(ids.d1)!));
    } finally {
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });

  it('X7: delete → DeleteData on the ledger, object erased, key destroyed; fetch answers 410 with the ledger’s deletion record', async () => {
    const body = randomBytes(50_000);
    const s = await put(alice, ids.d3, body);
    const stored = (await s.json()) as { keyId: string; storage: { uri: string } };
    assert.equal(s.status, 201);
    // bob has no delete right: the ledger refuses, nothing is erased
    const refused = await bob.call('DELETE', `/r2/data/${ids.d3}?reason=not-mine`);
    assert.ok([403, 404].includes(refused.status), JSON.stringify(refused.body));
    assert.ok(existsSync(objectFile(stored.storage.uri)));
    const d = await alice.call('DELETE', `/r2/data/${ids.d3}?reason=owner%20request%20(X7)`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.objectErased, true);
    assert.equal(d.body.keyDestroyed, true);
    assert.equal(existsSync(objectFile(stored.storage.uri)), false);
    assert.equal(existsSync(join(gw.stateDir, 'storage', 'keys', `${stored.keyId}.json`)), false);
    const f = await get(alice, ids.d3);
    assert.equal(f.status, 410);
    assert.equal(f.problem.code, 'EXPIRED');
    assert.equal(f.problem.deletion.txId, d.body.txId);
    assert.equal(f.problem.deletion.reason, 'owner request (X7)');
    assert.equal(f.problem.deletion.deletedBy.principal, alice.principal);
    assert.equal(f.problem.deletion.fingerprint, sha(body));
    assert.equal(f.problem.deletion.record.stage, 'DELETED');
    // the ledger itself: DELETED, fingerprint kept, deletion step recorded (read as an auditor)
    const onLedger = await auditor.call('GET', `/r2/data/${ids.d3}/anchor`);
    assert.equal(onLedger.body.stage, 'DELETED');
    assert.equal(onLedger.body.sha256, sha(body));
    assert.equal(onLedger.body.lifecycle.at(-1).note, 'owner request (X7)');
    const v = await alice.call('POST', `/r4/access-checks`, { resourceType: 'DATA', resourceId: ids.d3, action: 'read', purpose: '*' });
    assert.equal(v.body.reason, `data ${ids.d3} is deleted`);
  });

  it("X7 retention: the gateway's pass asks the ledger, which decides by its own time and the thing's policy — a gateway clock 400 days ahead erases nothing", async () => {
    const before = await get(alice, ids.d1);
    assert.equal(before.status, 200);
    const r = await expireDue(gw.storage, gw.ledger, { now: Date.now() + 400 * 86_400_000 });
    assert.deepEqual(r.failed, [], JSON.stringify(r.failed));
    assert.deepEqual(r.expired, [], 'the chaincode refused: not due by the transaction time');
    assert.ok(r.notDue >= 1, JSON.stringify(r));
    const after = await get(alice, ids.d1);
    assert.equal(after.status, 200, 'still stored and served');
    assert.ok(after.bytes.equals(bodies.get(ids.d1)!));
    // ExpireData is the storage agent's: another organisation's member is refused by the contract
    await assert.rejects(
      gw.ledger.submit({ principal: bob.principal, mspId: MVA, role: 'creator', issuer: 'gateway', amr: ['pwd'] }, 'data:ExpireData', [
        ids.d1,
      ]),
      (e: Error) => isRefusal(e, 'DENIED') && /needs its storage agent or admin/.test(e.message),
    );
    // …and the storage agent itself gets the date the data is kept until (365 days, the default policy)
    await assert.rejects(
      gw.ledger.submit(retentionAgent(IOT), 'data:ExpireData', [ids.d1]),
      (e: Error) => isRefusal(e, 'CONFLICT') && /is kept until .*policy keeps its data 365 days/.test(e.message),
    );
  });
});
