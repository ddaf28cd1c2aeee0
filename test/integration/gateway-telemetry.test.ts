/**
 * R1 telemetry on the real network (F4, C2, C3, X1): 10,000 signed readings from several things
 * (autonomous, and one constrained thing signed by its IoT gateway) are accepted and anchored in
 * batches — far fewer AnchorBatch transactions than readings; a random reading's proof verifies
 * against the anchored root with the chaincode's own data:VerifyInclusion; a forged signature, a
 * replayed reading and a reading of a suspended thing are refused with problems; a WebSocket
 * subscriber of an allowed avatar receives the readings. Signed sets (one signature per request):
 * accepted and anchored likewise; each reading's proof carries what proves its signature, checked
 * here against the key on the ledger, and the live stream carries the set's signature too.
 */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomInt, verify, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Caller } from '../../gateway/src/auth/principal.js';
import { leafOf, readingBytes, readingSetText, type JsonValue } from 'mvsec-protocol';
import { merkleRoot, rootFromProof } from 'mvsec-protocol';
import { signBytes, signReadingSet } from '../../gateway/src/r1-things/telemetry/signature.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';
import { retireMetaverses } from './support/domain.js';

const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';
const TOTAL = 10_000;
const PER_REQUEST = 500;

/** The ledger refuses control characters in publicKey: register the base64 DER SPKI. */
const spki = (k: KeyObject) => k.export({ format: 'der', type: 'spki' }).toString('base64');
const asCaller = (c: Client): Caller => ({ principal: c.principal, mspId: c.mspId, role: c.role, issuer: 'gateway', amr: ['pwd'] });

function reading(priv: KeyObject, thingId: string, seq: number) {
  const r = {
    seq,
    time: new Date(Date.UTC(2026, 0, 1) + seq * 10).toISOString(),
    sensor: seq % 2 ? 'wrist' : 'ankle',
    value: [seq % 97, (seq * 7) % 13, 0.5],
  };
  return { ...r, signature: signBytes(priv, readingBytes({ thingId, ...r })) };
}

async function eventually<T>(fn: () => Promise<T>, done: (v: T) => boolean, tries = 40): Promise<T> {
  let v = await fn();
  for (let i = 0; i < tries && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 250));
    v = await fn();
  }
  return v;
}

describe('R1 telemetry on the real network (F4, C2, C3, X1)', () => {
  let gw: LiveGateway;
  let iotAdmin: Client, mvaAdmin: Client, alice: Client;
  let ids: { iot: string; mva: string; hub: string; things: string[]; avatar: string; lost: string; brief: string };
  const keys = new Map<string, KeyObject>();
  const signerOf = (thingId: string) => keys.get(thingId === ids.things[3] ? ids.hub : thingId)!;
  /** The chaincode's own answer: does the proof lead from the leaf to the batch's anchored root? */
  const verifyInclusion = async (p: { batchId: string; leaf: string; proof: unknown }) =>
    (
      (await gw.ledger.evaluate(asCaller(alice), 'data:VerifyInclusion', [p.batchId, p.leaf, JSON.stringify(p.proof)])) as {
        valid: boolean;
      }
    ).valid;

  /** The avatar's live stream, asked again while the admission may not see the newest block yet: the socket, or the last refusal's status. */
  const openStream = (token: string) =>
    eventually(
      () =>
        new Promise<WebSocket | number>((resolve) => {
          const s = new WebSocket(`${gw.url.replace('http', 'ws')}/r1/avatars/${ids.avatar}/stream`, ['bearer', token]);
          s.once('open', () => resolve(s));
          s.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
          s.once('error', () => {});
        }),
      (v) => typeof v !== 'number',
    );

  before(async () => {
    await retireMetaverses('MetaverseAMSP', 'MetaverseBMSP'); // an MSP runs one ACTIVE metaverse platform (chaincode rule 6)
    gw = await startLiveGateway();
    const r = gw.run;
    ids = {
      iot: `tl-iot-${r}`,
      mva: `tl-mva-${r}`,
      hub: `tl-hub-${r}`,
      things: [0, 1, 2, 3].map((i) => `tl-watch${i}-${r}`),
      avatar: `tl-av-${r}`,
      lost: `tl-lost-${r}`,
      brief: `tl-brief-${r}`,
    };
    [iotAdmin, mvaAdmin, alice] = await Promise.all([gw.as(IOT, 'admin'), gw.as(MVA, 'admin'), gw.as(IOT, 'creator')]);
    const created = await Promise.all([
      iotAdmin.call('POST', '/r5/platforms', { platformId: ids.iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 }),
      mvaAdmin.call('POST', '/r5/platforms', { platformId: ids.mva, type: 'METAVERSE', name: 'MVA', capabilityLevel: 3 }),
    ]);
    for (const c of created) assert.equal(c.status, 201, JSON.stringify(c.body));
    const policy = { storage: 'ON_PLATFORM', allowedMetaverses: [ids.mva], purposes: ['analytics'], encryptionRequired: true };
    const register = async (thingId: string, kind: string, accessMode: string, gatewayId?: string, retentionDays?: number) => {
      const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      keys.set(thingId, k.privateKey);
      const t = await alice.call('POST', '/r1/things', {
        thingId,
        platformId: ids.iot,
        kind,
        accessMode,
        ...(gatewayId ? { gatewayId } : {}),
        publicKey: spki(k.publicKey),
        classification: 'CONFIDENTIAL',
        policy: retentionDays ? { ...policy, retentionDays } : policy,
      });
      assert.equal(t.status, 201, JSON.stringify(t.body));
    };
    await register(ids.hub, 'GATEWAY', 'AUTONOMOUS');
    await Promise.all([
      register(ids.things[0], 'DEVICE', 'AUTONOMOUS'),
      register(ids.things[1], 'DEVICE', 'AUTONOMOUS'),
      register(ids.things[2], 'SENSOR', 'AUTONOMOUS'),
      register(ids.things[3], 'SENSOR', 'GATEWAY', ids.hub),
      register(ids.lost, 'DEVICE', 'AUTONOMOUS'),
      register(ids.brief, 'SENSOR', 'AUTONOMOUS', undefined, 2),
    ]);
    const av = await mvaAdmin.call('POST', '/r1/avatars', {
      avatarId: ids.avatar,
      thingId: ids.things[0],
      metaverseId: ids.mva,
      mode: 'ACTIVE',
      capabilityLevel: 3,
    });
    assert.equal(av.status, 201, JSON.stringify(av.body));
    const approved = await alice.call('POST', `/r1/avatars/${ids.avatar}/approve`); // trust rule 8: the owner agrees
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
  });

  after(async () => {
    await gw?.close();
  });

  it('10,000 signed readings from four things (one via its IoT gateway) → batches anchored with far fewer AnchorBatch transactions; the live stream delivers them', async () => {
    // A subscriber of the thing's avatar in an allowed metaverse, as the metaverse's admin (token as subprotocol).
    const ws = await openStream(mvaAdmin.token);
    assert.ok(ws instanceof WebSocket, `the stream opened (got ${String(ws)})`);
    const streamed = new Set<number>();
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; readings?: { seq: number }[] };
      if (m.type === 'readings') for (const x of m.readings!) streamed.add(x.seq);
    });

    const perThing = TOTAL / ids.things.length;
    const before = { ...gw.telemetry.stats };
    await Promise.all(
      ids.things.map(async (thingId) => {
        for (let start = 0; start < perThing; start += PER_REQUEST) {
          const batch = Array.from({ length: PER_REQUEST }, (_, i) => reading(signerOf(thingId), thingId, start + i));
          const res = await alice.call('POST', `/r1/things/${thingId}/readings`, { readings: batch }, { cbor: start % 1000 === 0 });
          assert.equal(res.status, 202, JSON.stringify(res.body));
          assert.equal(res.body.accepted, PER_REQUEST);
          assert.equal(res.body.signer, thingId === ids.things[3] ? ids.hub : thingId);
        }
      }),
    );
    await gw.telemetry.flush();
    const s = gw.telemetry.stats;
    assert.equal(s.accepted - before.accepted, TOTAL);
    const batches = s.batchesAnchored - before.batchesAnchored;
    assert.equal(s.batchesRefused - before.batchesRefused, 0, 'no batch refused');
    assert.ok(batches >= TOTAL / 1000 && batches <= TOTAL / 100, `${batches} AnchorBatch transactions for ${TOTAL} readings`);
    assert.equal(s.anchorTxs - before.anchorTxs, batches, 'one transaction per batch');

    // Every reading of the avatar's thing reached the subscriber.
    for (let i = 0; i < 100 && streamed.size < perThing; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(streamed.size, perThing);
    ws.close();
  });

  it("a random reading's proof verifies against the anchored root with the chaincode's VerifyInclusion", async () => {
    for (let k = 0; k < 3; k++) {
      const thingId = ids.things[randomInt(ids.things.length)];
      const seq = randomInt(TOTAL / ids.things.length);
      const p = await alice.call('GET', `/r1/things/${thingId}/readings/${seq}/proof`);
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.equal(p.body.reading.seq, seq);
      const batch = (await eventually(
        () => gw.ledger.evaluate(asCaller(alice), 'data:GetBatch', [p.body.batchId]).catch(() => undefined),
        (b) => !!b,
      )) as { merkleRoot: string; leafCount: number; thingId: string };
      assert.equal(batch.merkleRoot, p.body.merkleRoot);
      assert.equal(batch.thingId, thingId);
      assert.equal(batch.leafCount, p.body.leafCount);
      assert.equal(await verifyInclusion(p.body), true, `reading ${seq} of ${thingId}`);
      const flipped = p.body.proof.map((s: { position: string; sha256: string }, i: number) =>
        i === 0 ? { ...s, sha256: s.sha256.replace(/^./, (c: string) => (c === '0' ? '1' : '0')) } : s,
      );
      assert.equal(await verifyInclusion({ ...p.body, proof: flipped }), false, 'a tampered proof does not verify');
    }
  });

  it('refuses a forged signature (422), a replayed reading (409) and a reading of a suspended thing (403 with the ledger reason)', async () => {
    const thingId = ids.things[1];
    const next = TOTAL / ids.things.length;
    const forged = { ...reading(keys.get(thingId)!, thingId, next), value: [1, 2, 3] };
    const f = await alice.call('POST', `/r1/things/${thingId}/readings`, { readings: [forged] });
    assert.equal(f.status, 422, JSON.stringify(f.body));
    assert.match(f.type, /problem\+json/);
    const wrongKey = await alice.call('POST', `/r1/things/${ids.things[3]}/readings`, {
      readings: [reading(keys.get(ids.things[3])!, ids.things[3], next)],
    });
    assert.equal(wrongKey.status, 422, 'a GATEWAY-mode thing signing with its own key is refused');

    const replay = await alice.call('POST', `/r1/things/${thingId}/readings`, { readings: [reading(keys.get(thingId)!, thingId, 17)] });
    assert.equal(replay.status, 409, JSON.stringify(replay.body));
    assert.equal(replay.body.highestSeq, next - 1);

    const first = await alice.call('POST', `/r1/things/${ids.lost}/readings`, { readings: [reading(keys.get(ids.lost)!, ids.lost, 0)] });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const sus = await alice.call('POST', `/r1/things/${ids.lost}/suspend`, { reason: 'lost' });
    assert.equal(sus.status, 200, JSON.stringify(sus.body));
    // The gateway caches the thing's status for a short TTL (and another peer may lag a block): ask
    // with fresh sequence numbers until the suspension is seen; readings accepted meanwhile are
    // refused by AnchorBatch on the ledger.
    let seq = 0;
    const refused = await eventually(
      () => alice.call('POST', `/r1/things/${ids.lost}/readings`, { readings: [reading(keys.get(ids.lost)!, ids.lost, ++seq)] }),
      (x) => x.status !== 202,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'DENIED');
    assert.equal(refused.body.detail, `DENIED: thing ${ids.lost} is SUSPENDED (lost)`);
  });

  it('signed sets: 2,000 readings under 4 signatures are anchored; a proof proves both anchoring (VerifyInclusion) and signature (key on the ledger); the stream carries the set; an altered set is refused', async () => {
    const thingId = ids.things[0]; // the avatar's thing: its subscriber gets the sets too
    const wsUrl = `${gw.url.replace('http', 'ws')}/r1/avatars/${ids.avatar}/stream`;
    const ws = new WebSocket(wsUrl, ['bearer', mvaAdmin.token]);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const sets: {
      readings: { seq: number; time: string; sensor: string; value: JsonValue }[];
      set?: { merkleRoot: string; signature: string };
    }[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string } & (typeof sets)[number];
      if (m.type === 'readings' && m.set) sets.push(m);
    });

    const from = 20_000;
    const unsigned = (start: number) =>
      Array.from({ length: PER_REQUEST }, (_, i) => {
        const { signature: _s, ...r } = reading(keys.get(thingId)!, thingId, start + i);
        return r;
      });
    for (let k = 0; k < 4; k++) {
      const readings = unsigned(from + k * PER_REQUEST);
      const res = await alice.call(
        'POST',
        `/r1/things/${thingId}/readings`,
        { readings, setSignature: signReadingSet(keys.get(thingId)!, thingId, readings) },
        { cbor: k % 2 === 1 },
      );
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.accepted, PER_REQUEST);
    }
    await gw.telemetry.flush();

    // The thing's key as the ledger has it: what a verifier trusts, not what the gateway says.
    const thing = (await gw.ledger.evaluate(asCaller(alice), 'thing:GetThing', [thingId])) as { publicKey: string };
    const publicKey = createPublicKey({ key: Buffer.from(thing.publicKey, 'base64'), format: 'der', type: 'spki' });
    const seq = from + randomInt(4 * PER_REQUEST);
    const p = await alice.call('GET', `/r1/things/${thingId}/readings/${seq}/proof`);
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.leaf, leafOf(readingBytes({ thingId, ...p.body.reading })));
    assert.equal(await verifyInclusion(p.body), true, 'anchored: leaf → the batch root on the ledger');
    assert.equal(rootFromProof(p.body.leaf, p.body.set.proof), p.body.set.merkleRoot, 'leaf → the signed set root');
    assert.equal(p.body.set.signedText, readingSetText(thingId, p.body.set.merkleRoot, PER_REQUEST));
    assert.ok(
      verify(
        'sha256',
        Buffer.from(p.body.set.signedText),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(p.body.set.signature, 'base64url'),
      ),
      "the set's signature verifies with the thing's key on the ledger",
    );

    // A subscriber verifies each set itself: the root over the readings it got, the signature with the ledger's key.
    for (let i = 0; i < 100 && sets.length < 4; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(sets.length, 4);
    for (const m of sets) {
      const root = merkleRoot(m.readings.map((r) => leafOf(readingBytes({ thingId, ...r }))));
      assert.equal(root, m.set!.merkleRoot);
      assert.ok(
        verify(
          'sha256',
          Buffer.from(readingSetText(thingId, root, m.readings.length)),
          { key: publicKey, dsaEncoding: 'ieee-p1363' },
          Buffer.from(m.set!.signature, 'base64url'),
        ),
      );
    }
    ws.close();

    const next = unsigned(from + 4 * PER_REQUEST).slice(0, 10);
    const sig = signReadingSet(keys.get(thingId)!, thingId, next);
    const altered = await alice.call('POST', `/r1/things/${thingId}/readings`, {
      readings: next.map((r, i) => (i === 5 ? { ...r, value: [0, 0, 0] } : r)),
      setSignature: sig,
    });
    assert.equal(altered.status, 422, JSON.stringify(altered.body));
    assert.equal(altered.body.errors[0].path, 'body.setSignature');
    const otherKey = await alice.call('POST', `/r1/things/${thingId}/readings`, {
      readings: next,
      setSignature: signReadingSet(keys.get(ids.things[1])!, thingId, next),
    });
    assert.equal(otherKey.status, 422);
    const ok = await alice.call('POST', `/r1/things/${thingId}/readings`, { readings: next, setSignature: sig });
    assert.equal(ok.status, 202, 'nothing of the refused requests was accepted');
  });

  it("retention (X7): readings are kept for the thing's policy.retentionDays on the ledger; then the gateway removes them, the proof answers 410 and the root stays on the ledger", async () => {
    const thingId = ids.brief;
    const posted = await alice.call('POST', `/r1/things/${thingId}/readings`, {
      readings: [0, 1, 2].map((seq) => reading(keys.get(thingId)!, thingId, seq)),
    });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    await gw.telemetry.flush();
    const p = await eventually(
      () => alice.call('GET', `/r1/things/${thingId}/readings/1/proof`),
      (x) => x.status === 200,
    );
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(Date.parse(p.body.keptUntil) - Date.parse(p.body.anchoredAt), 2 * 86_400_000, 'two days, as the ledger policy says');
    const other = await alice.call('GET', `/r1/things/${ids.things[0]}/readings/5/proof`);
    assert.equal(Date.parse(other.body.keptUntil) - Date.parse(other.body.anchoredAt), 365 * 86_400_000, "the chaincode's default");

    // The retention pass as it runs two days later (the gateway's clock, here passed in).
    const removed = gw.telemetry.batches.prune(Date.parse(p.body.keptUntil) + 1);
    assert.deepEqual(removed, { batches: 1, things: 1, more: false });
    const gone = await alice.call('GET', `/r1/things/${thingId}/readings/1/proof`);
    assert.equal(gone.status, 410, JSON.stringify(gone.body));
    assert.equal(gone.body.code, 'EXPIRED');
    assert.match(gone.type, /problem\+json/);
    assert.equal((await alice.call('GET', `/r1/things/${ids.things[0]}/readings/5/proof`)).status, 200, 'the 365-day things keep theirs');
    const batch = (await gw.ledger.evaluate(asCaller(alice), 'data:GetBatch', [p.body.batchId])) as { merkleRoot: string };
    assert.equal(batch.merkleRoot, p.body.merkleRoot, 'the ledger keeps the root');
  });

  it('X1/A1: a subscriber admitted by a grant is closed (4403) once the grant is revoked on the ledger, and receives nothing after', async () => {
    const thingId = ids.things[0]; // the avatar's thing
    const viewer = await gw.as(MVA, 'user');
    const grantId = `tl-view-${gw.run}`;
    const g = await mvaAdmin.call('POST', '/r4/grants', {
      grantId,
      resourceType: 'AVATAR',
      resourceId: ids.avatar,
      grantee: { type: 'PRINCIPAL', id: viewer.principal, mspId: MVA },
      actions: ['read'],
      purpose: '*',
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    const ws = await openStream(viewer.token);
    assert.ok(ws instanceof WebSocket, `the grantee's stream opened (got ${String(ws)})`);
    const frames: { type: string; reason?: string; readings?: { seq: number }[] }[] = [];
    let closed: number | undefined;
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    ws.on('close', (code) => (closed = code));
    let seq = gw.telemetry.seqs.get(thingId);
    const send = () => alice.call('POST', `/r1/things/${thingId}/readings`, { readings: [reading(keys.get(thingId)!, thingId, ++seq)] });
    assert.equal((await send()).status, 202);
    await eventually(
      async () => frames.some((f) => f.type === 'readings'),
      (x) => x,
    );
    assert.ok(
      frames.some((f) => f.type === 'readings'),
      'the grantee receives readings',
    );

    const r = await mvaAdmin.call('POST', `/r4/grants/${grantId}/revoke`, { reason: 'viewing ended' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // The read right is asked again at most every cache TTL (2 s): readings keep coming until then.
    await eventually(
      async () => {
        if (closed === undefined) assert.equal((await send()).status, 202);
        return closed;
      },
      (c) => c !== undefined,
    );
    assert.equal(closed, 4403);
    const at = frames.findIndex((f) => f.type === 'closed');
    assert.ok(at > 0, JSON.stringify(frames.slice(-2)));
    assert.match(String(frames[at].reason), new RegExp(`read access to avatar ${ids.avatar} ended: `));
    assert.equal(frames.slice(at + 1).length, 0, 'nothing after the closing frame');
  });
});
