/**
 * R1 telemetry (F4, C2, C3): canonical reading encoding, ECDSA P-256 signatures, the replay rule
 * (persisted), batching by count and time, Merkle roots and proofs equal to the chaincode's own
 * implementation, refusals as problems, and the WebSocket live stream — against a ledger double.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { merkleRoot as ccMerkleRoot, rootFromProof as ccRootFromProof, sha256Hex } from 'mvsec-protocol';
import type { Caller } from '../../../gateway/src/auth/principal.js';
import { canonicalJson, leafOf, readingBytes, readingSetText } from 'mvsec-protocol';
import { merkleLevels, merkleProof, merkleRoot, rootFromProof } from 'mvsec-protocol';
import { verify } from 'node:crypto';
import { SeqStore } from '../../../gateway/src/r1-things/telemetry/seq-store.js';
import { TelemetryService, inTransmitWindow } from '../../../gateway/src/r1-things/telemetry/service.js';
import {
  decodeSignature,
  parsePublicKey,
  signBytes,
  signReadingSet,
  verifyReading,
} from '../../../gateway/src/r1-things/telemetry/signature.js';
import { FakeLedger, startTestGateway, type TestGateway } from '../gateway/support.js';

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'spki' }).toString();

function signed(
  priv: KeyObject,
  thingId: string,
  seq: number,
  value: unknown = seq * 0.5,
  time = new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
) {
  const r = { seq, time, sensor: 'wrist', value: value as number };
  return { ...r, signature: signBytes(priv, readingBytes({ thingId, ...r })) };
}

describe('telemetry: canonical encoding (C3)', () => {
  it('sorts keys at every depth, has no whitespace, and is what the leaf hashes', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1.5, y: -2 } }), '{"a":[true,null,"x"],"b":1,"c":{"y":-2,"z":1.5}}');
    const bytes = readingBytes({ value: { y: 2, x: 1 }, time: '2025-01-01T00:00:00.000Z', sensor: 's', seq: 7, thingId: 't' } as never);
    assert.equal(bytes.toString(), '{"sensor":"s","seq":7,"thingId":"t","time":"2025-01-01T00:00:00.000Z","value":{"x":1,"y":2}}');
    assert.equal(leafOf(bytes), sha256Hex(bytes));
    assert.throws(() => canonicalJson({ v: Number.NaN }), /non-finite/);
    assert.throws(() => canonicalJson({ v: 1n }), /bigint/);
  });
});

describe('telemetry: Merkle trees equal to the chaincode (C3)', () => {
  it('root and every proof agree with chaincode/src/data/merkle.ts for 1..40 leaves', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => sha256Hex(`reading ${n}/${i}`));
      const levels = merkleLevels(leaves);
      const root = merkleRoot(leaves);
      assert.equal(root, ccMerkleRoot(leaves), `root of ${n}`);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(levels, i);
        assert.equal(ccRootFromProof(leaves[i], proof), root, `proof ${i} of ${n}`);
        assert.equal(rootFromProof(leaves[i], proof), root);
      }
      if (n > 1) {
        const proof = merkleProof(levels, 0);
        assert.notEqual(ccRootFromProof(sha256Hex('not a reading'), proof), root, 'another leaf does not verify');
      }
    }
  });
});

describe('telemetry: signatures (F4, C3)', () => {
  const { privateKey, publicKey } = keyPair();
  const bytes = readingBytes({ thingId: 't', seq: 1, time: '2025-01-01T00:00:00Z', sensor: 's', value: 3 });

  it('verifies r‖s (base64url and base64) and DER; refuses tampered bytes, another key and garbage', async () => {
    const key = parsePublicKey(pem(publicKey));
    const sig = signBytes(privateKey, bytes);
    assert.equal(decodeSignature(sig)?.encoding, 'ieee-p1363');
    assert.equal(await verifyReading(key, bytes, sig), true);
    assert.equal(await verifyReading(key, bytes, Buffer.from(sig, 'base64url').toString('base64')), true);
    const der = sign('sha256', bytes, privateKey).toString('base64');
    assert.equal(decodeSignature(der)?.encoding, 'der');
    assert.equal(await verifyReading(key, bytes, der), true);
    const tampered = readingBytes({ thingId: 't', seq: 1, time: '2025-01-01T00:00:00Z', sensor: 's', value: 4 });
    assert.equal(await verifyReading(key, tampered, sig), false);
    assert.equal(await verifyReading(parsePublicKey(pem(keyPair().publicKey)), bytes, sig), false);
    assert.equal(await verifyReading(key, bytes, 'AAAA'), false);
  });

  it('reads PEM, base64 DER SPKI and JWK; refuses non-P-256 and non-keys', () => {
    const der = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const jwk = JSON.stringify(publicKey.export({ format: 'jwk' }));
    for (const text of [pem(publicKey), der, jwk]) assert.equal(parsePublicKey(text).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const ed = generateKeyPairSync('ed25519').publicKey;
    assert.throws(() => parsePublicKey(pem(ed)), /not an EC P-256 key/);
    assert.throws(() => parsePublicKey('pk-123'), /not a usable public key/);
  });
});

describe('telemetry: replay memory (C2)', () => {
  it('persists the high-water mark across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvsec-seq-'));
    try {
      const a = new SeqStore(dir);
      assert.equal(a.get('t1'), -1);
      a.advance('t1', 5);
      const w1 = a.flush();
      a.advance('t1', 9);
      a.advance('t2', 0);
      await Promise.all([w1, a.flush()]);
      assert.throws(() => a.advance('t1', 9), /not above/);
      const b = new SeqStore(dir);
      assert.equal(b.get('t1'), 9);
      assert.equal(b.get('t2'), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('transmit window follows the chaincode rule [from, to) UTC, wrapping midnight', () => {
    const at = (h: number) => Date.UTC(2025, 0, 1, h, 30);
    assert.equal(inTransmitWindow(undefined, at(3)), true);
    assert.equal(inTransmitWindow({ fromHour: 8, toHour: 18 }, at(8)), true);
    assert.equal(inTransmitWindow({ fromHour: 8, toHour: 18 }, at(18)), false);
    assert.equal(inTransmitWindow({ fromHour: 22, toHour: 6 }, at(23)), true);
    assert.equal(inTransmitWindow({ fromHour: 22, toHour: 6 }, at(12)), false);
  });
});

interface World {
  things: Map<string, Record<string, unknown>>;
  avatars: Map<string, Record<string, unknown>>;
  denyWrite: Set<string>;
  denyAvatarRead: Set<string>;
  anchored: Map<string, { merkleRoot: string; leafCount: number; thingId: string; caller: string }>;
}

function ledgerFor(w: World): FakeLedger {
  const l = new FakeLedger();
  const notFound = (what: string) => {
    throw new Error(`NOT_FOUND: ${what} does not exist`);
  };
  l.on('thing:GetThing', (c) => structuredClone(w.things.get(c.args[0])) ?? notFound(`thing ${c.args[0]}`));
  l.on('avatar:GetAvatar', (c) => structuredClone(w.avatars.get(c.args[0])) ?? notFound(`avatar ${c.args[0]}`));
  l.on('access:CheckAccess', (c) => {
    const [type, id, action] = c.args;
    if (type === 'AVATAR')
      return w.denyAvatarRead.has(c.caller.principal)
        ? { allowed: false, reason: `no grant on avatar ${id} for ${c.caller.principal}` }
        : { allowed: true, reason: 'controller' };
    const t = w.things.get(id);
    if (!t) return notFound(`thing ${id}`);
    if (t.status !== 'ACTIVE')
      return { allowed: false, reason: `thing ${id} is ${String(t.status)}${t.statusReason ? ` (${String(t.statusReason)})` : ''}` };
    if (action === 'write' && w.denyWrite.has(c.caller.principal))
      return { allowed: false, reason: `caller ${c.caller.principal} may not write thing ${id}` };
    return { allowed: true, reason: 'owner' };
  });
  l.on('data:AnchorBatch', (c) => {
    const b = JSON.parse(c.args[0]) as { batchId: string; merkleRoot: string; leafCount: number; thingId: string };
    const t = w.things.get(b.thingId)!;
    if (t.status !== 'ACTIVE') throw new Error(`DENIED: thing ${b.thingId} is ${String(t.status)}`);
    w.anchored.set(b.batchId, { merkleRoot: b.merkleRoot, leafCount: b.leafCount, thingId: b.thingId, caller: c.caller.principal });
    return b;
  });
  l.on('data:VerifyInclusion', (c) => {
    const b = w.anchored.get(c.args[0]);
    if (!b) return notFound(`batch ${c.args[0]}`);
    return { valid: ccRootFromProof(c.args[1], JSON.parse(c.args[2])) === b.merkleRoot };
  });
  return l;
}

describe('telemetry over the gateway API with a ledger double (R1, F4, C2, C3)', () => {
  let gw: TestGateway;
  /** The gateway's storage key: it seals the readings in the state dir, so a second service on that dir needs it. */
  const storageKey = randomBytes(32);
  let w: World;
  let dir: string;
  let token: string;
  let mvaToken: string;
  let outsiderToken: string;
  const watch = keyPair();
  const hub = keyPair();
  const leaf = keyPair();
  const post = (thingId: string, readings: unknown[], o: { cbor?: boolean; token?: string } = {}) =>
    gw.request('POST', `/r1/things/${thingId}/readings`, {
      token: o.token ?? token,
      ...(o.cbor ? { cbor: { readings } } : { json: { readings } }),
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mvsec-tele-'));
    w = { things: new Map(), avatars: new Map(), denyWrite: new Set(), denyAvatarRead: new Set(), anchored: new Map() };
    const thing = (thingId: string, accessMode: string, publicKey: string, gatewayId?: string) =>
      w.things.set(thingId, {
        thingId,
        status: 'ACTIVE',
        accessMode,
        publicKey,
        ...(gatewayId ? { gatewayId } : {}),
        policy: { allowedMetaverses: ['mv-a'] },
      });
    thing('watch', 'AUTONOMOUS', pem(watch.publicKey));
    thing('hub', 'AUTONOMOUS', pem(hub.publicKey));
    thing('leaf', 'GATEWAY', pem(leaf.publicKey), 'hub');
    thing('lost', 'AUTONOMOUS', pem(watch.publicKey));
    thing('nokey', 'AUTONOMOUS', 'pk-not-a-key');
    thing('bulk', 'AUTONOMOUS', pem(watch.publicKey));
    thing('hub2', 'AUTONOMOUS', pem(hub.publicKey));
    thing('leaf2', 'GATEWAY', pem(leaf.publicKey), 'hub2');
    w.avatars.set('av-1', { avatarId: 'av-1', thingId: 'watch', metaverseId: 'mv-a', status: 'ACTIVE' });
    w.avatars.set('av-b', { avatarId: 'av-b', thingId: 'watch', metaverseId: 'mv-b', status: 'ACTIVE' });
    gw = await startTestGateway(
      { stateDir: dir, storageKey },
      { ledger: ledgerFor(w), telemetry: { batchMaxReadings: 10, batchMaxWaitMs: 60_000, cacheTtlMs: 0 } },
    );
    token = await gw.tokenFor('creator', 'IoTPlatformMSP', 'alice');
    mvaToken = await gw.tokenFor('avatar-agent', 'MetaverseAMSP', 'mva-agent');
    outsiderToken = await gw.tokenFor('user', 'MetaverseBMSP', 'mallory');
    w.denyWrite.add('mallory');
  });
  after(async () => {
    gw.app.telemetry.close();
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts 25 signed readings (JSON and CBOR), anchors 3 batches by count, one AnchorBatch per batch', async () => {
    const r1 = await post(
      'watch',
      Array.from({ length: 15 }, (_, i) => signed(watch.privateKey, 'watch', i)),
    );
    assert.equal(r1.status, 202, JSON.stringify(r1.body));
    assert.deepEqual(r1.body, { thingId: 'watch', accepted: 15, firstSeq: 0, lastSeq: 14, signer: 'watch' });
    const r2 = await post(
      'watch',
      Array.from({ length: 10 }, (_, i) => signed(watch.privateKey, 'watch', 15 + i, [1, 2, i])),
      { cbor: true },
    );
    assert.equal(r2.status, 202, JSON.stringify(r2.body));
    await gw.app.telemetry.flush();
    const anchors = gw.ledger.submits('data:AnchorBatch');
    assert.deepEqual(
      anchors.map((c) => JSON.parse(c.args[0]).leafCount),
      [10, 10, 5],
    );
    assert.ok(
      anchors.every((c) => c.caller.principal === 'alice'),
      'anchored as the caller',
    );
    const first = JSON.parse(anchors[0].args[0]);
    const leaves = Array.from({ length: 10 }, (_, i) =>
      leafOf(readingBytes({ thingId: 'watch', ...signed(watch.privateKey, 'watch', i) })),
    );
    assert.equal(first.merkleRoot, ccMerkleRoot(leaves), 'root over the canonical readings, as the chaincode computes it');
    assert.equal(first.firstReadingAt, '2025-01-01T00:00:00.000Z');
    assert.equal(first.lastReadingAt, '2025-01-01T00:00:09.000Z');
  });

  it("serves each reading's proof; it verifies with the chaincode rule against the anchored root", async () => {
    for (const seq of [0, 7, 13, 24]) {
      const p = await gw.request('GET', `/r1/things/watch/readings/${seq}/proof`, { token });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      const anchored = w.anchored.get(p.body.batchId)!;
      assert.equal(p.body.merkleRoot, anchored.merkleRoot);
      assert.equal(ccRootFromProof(p.body.leaf, p.body.proof), anchored.merkleRoot);
      assert.equal(p.body.leaf, leafOf(readingBytes({ thingId: 'watch', ...p.body.reading })));
      assert.match(p.body.txId, /^tx-/);
      const v = await gw.ledger.evaluate({} as Caller, 'data:VerifyInclusion', [p.body.batchId, p.body.leaf, JSON.stringify(p.body.proof)]);
      assert.deepEqual(v, { valid: true });
    }
    const none = await gw.request('GET', '/r1/things/watch/readings/999/proof', { token });
    assert.equal(none.status, 404);
  });

  it('refuses a forged signature with 422 problem+json and accepts nothing of the request', async () => {
    const good = signed(watch.privateKey, 'watch', 30);
    const forged = { ...signed(watch.privateKey, 'watch', 31), value: 999 };
    const r = await post('watch', [good, forged]);
    assert.equal(r.status, 422);
    assert.match(r.type, /application\/problem\+json/);
    assert.equal(r.body.errors[0].path, 'body.readings.1.signature');
    const otherKey = await post('watch', [signed(hub.privateKey, 'watch', 30)]);
    assert.equal(otherKey.status, 422);
    const ok = await post('watch', [good]);
    assert.equal(ok.status, 202, 'seq 30 was not consumed by the refused request');
  });

  it('refuses replays: a seq not above the highest accepted, and a non-increasing request', async () => {
    const replay = await post('watch', [signed(watch.privateKey, 'watch', 7)]);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.code, 'CONFLICT');
    assert.equal(replay.body.highestSeq, 30);
    assert.match(replay.body.detail, /replay/);
    const dup = await post('watch', [signed(watch.privateKey, 'watch', 40), signed(watch.privateKey, 'watch', 40)]);
    assert.equal(dup.status, 409);
    assert.match(dup.body.errors[0].message, /does not increase/);
  });

  it('the replay window stays closed across a restart (seq persisted in the state dir)', async () => {
    const again = new TelemetryService({ ledger: gw.ledger, dir: join(dir, 'telemetry'), sealKey: storageKey, cacheTtlMs: 0 });
    assert.equal(again.seqs.get('watch'), 30);
    const caller: Caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator', issuer: 'gateway', amr: ['pwd'] };
    await assert.rejects(
      again.ingest(caller, 'watch', [signed(watch.privateKey, 'watch', 30)]),
      (e: Error & { status?: number }) => e.status === 409,
    );
    const p = await again.proof(caller, 'watch', 13);
    assert.equal(ccRootFromProof(p.leaf, p.proof), w.anchored.get(p.batchId)!.merkleRoot, 'anchored batches reloaded');
    again.close();
  });

  it("refuses readings of a suspended thing with the contract's reason (403 DENIED)", async () => {
    w.things.get('lost')!.status = 'SUSPENDED';
    w.things.get('lost')!.statusReason = 'lost';
    const r = await post('lost', [signed(watch.privateKey, 'lost', 1)]);
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'DENIED');
    assert.equal(r.body.detail, 'DENIED: thing lost is SUSPENDED (lost)');
  });

  it('refuses a caller without write on the thing, and a thing whose ledger key is not a P-256 key', async () => {
    const r = await post('watch', [signed(watch.privateKey, 'watch', 50)], { token: outsiderToken });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /mallory may not write/);
    const k = await post('nokey', [signed(watch.privateKey, 'nokey', 1)]);
    assert.equal(k.status, 422);
    assert.match(k.body.detail, /cannot verify readings/);
  });

  it("GATEWAY mode: readings are signed by the IoT gateway's key, not the thing's own", async () => {
    const own = await post('leaf', [signed(leaf.privateKey, 'leaf', 1)]);
    assert.equal(own.status, 422);
    const viaHub = await post('leaf', [signed(hub.privateKey, 'leaf', 1)]);
    assert.equal(viaHub.status, 202, JSON.stringify(viaHub.body));
    assert.equal(viaHub.body.signer, 'hub');
  });

  it('refreshes a rotated key on a verification miss', async () => {
    const rotated = keyPair();
    await post('hub', [signed(hub.privateKey, 'hub', 1)]);
    w.things.get('hub')!.publicKey = pem(rotated.publicKey);
    const r = await post('hub', [signed(rotated.privateKey, 'hub', 2)]);
    assert.equal(r.status, 202, JSON.stringify(r.body));
  });

  it('a batch whose thing was suspended before anchoring is refused by the ledger; its proof says so', async () => {
    w.things.get('lost')!.status = 'ACTIVE';
    const r = await post('lost', [signed(watch.privateKey, 'lost', 2)]);
    assert.equal(r.status, 202);
    w.things.get('lost')!.status = 'SUSPENDED';
    await gw.app.telemetry.flush();
    const p = await gw.request('GET', '/r1/things/lost/readings/2/proof', { token });
    assert.equal(p.status, 403, 'reading the proof of a suspended thing is refused by CheckAccess');
    w.things.get('lost')!.status = 'ACTIVE';
    const p2 = await gw.request('GET', '/r1/things/lost/readings/2/proof', { token });
    assert.equal(p2.status, 409);
    assert.match(p2.body.detail, /was not anchored: DENIED: thing lost is SUSPENDED/);
  });

  describe('signed sets: one signature per request (F4, C3)', () => {
    const unsigned = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => {
        const { signature: _s, ...r } = signed(watch.privateKey, 'bulk', from + i);
        return r;
      });
    const postSet = (thingId: string, readings: unknown[], setSignature: string) =>
      gw.request('POST', `/r1/things/${thingId}/readings`, { token, json: { readings, setSignature } });

    it("accepts 13 readings under one setSignature; each proof proves the reading's signature and its anchoring, also after a restart", async () => {
      const readings = unsigned(0, 13);
      const r = await postSet('bulk', readings, signReadingSet(watch.privateKey, 'bulk', readings));
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.deepEqual(r.body, { thingId: 'bulk', accepted: 13, firstSeq: 0, lastSeq: 12, signer: 'bulk' });
      await gw.app.telemetry.flush();
      const check = (p: Awaited<ReturnType<TelemetryService['proof']>>, seq: number) => {
        // anchoring: leaf → batch root, the chaincode's rule
        assert.equal(ccRootFromProof(p.leaf, p.proof), w.anchored.get(p.batchId)!.merkleRoot);
        assert.equal(p.leaf, leafOf(readingBytes({ thingId: 'bulk', ...readings[seq] })));
        // signature: leaf → set root, and the thing's signature over the set's text
        assert.ok(p.set, 'set evidence');
        assert.equal(p.set.index, seq);
        assert.equal(p.set.leafCount, 13);
        assert.equal(rootFromProof(p.leaf, p.set.proof), p.set.merkleRoot);
        assert.equal(p.set.signedText, readingSetText('bulk', p.set.merkleRoot, 13));
        assert.ok(
          verify(
            'sha256',
            Buffer.from(p.set.signedText),
            { key: watch.publicKey, dsaEncoding: 'ieee-p1363' },
            Buffer.from(p.set.signature, 'base64url'),
          ),
        );
        assert.equal(p.reading.signature, undefined);
      };
      const batches = new Set<string>();
      for (const seq of [0, 9, 10, 12]) {
        const p = await gw.request('GET', `/r1/things/bulk/readings/${seq}/proof`, { token });
        assert.equal(p.status, 200, JSON.stringify(p.body));
        check(p.body, seq);
        batches.add(p.body.batchId);
      }
      assert.equal(batches.size, 2, 'the set was cut across two batches (10 readings each at most); both carry it');
      const again = new TelemetryService({ ledger: gw.ledger, dir: join(dir, 'telemetry'), sealKey: storageKey, cacheTtlMs: 0 });
      const caller: Caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator', issuer: 'gateway', amr: ['pwd'] };
      check(await again.proof(caller, 'bulk', 11), 11);
      again.close();
    });

    it('refuses a set with one reading changed after signing (422, nothing accepted), and a request mixing or lacking signatures (400)', async () => {
      const readings = unsigned(20, 5);
      const sig = signReadingSet(watch.privateKey, 'bulk', readings);
      const altered = readings.map((x, i) => (i === 3 ? { ...x, value: 42 } : x));
      const bad = await postSet('bulk', altered, sig);
      assert.equal(bad.status, 422);
      assert.match(bad.type, /application\/problem\+json/);
      assert.equal(bad.body.errors[0].path, 'body.setSignature');
      const reordered = await postSet('bulk', [readings[1], readings[0], ...readings.slice(2)], sig);
      assert.equal(reordered.status, 409, 'out of order is a replay refusal before any signature is checked');
      const otherThing = await postSet('watch', readings, sig);
      assert.ok([409, 422].includes(otherThing.status), 'signed for bulk, not for watch');
      const mixed = await postSet('bulk', [signed(watch.privateKey, 'bulk', 20), ...readings.slice(1)], sig);
      assert.equal(mixed.status, 400);
      assert.match(mixed.body.detail, /not both/);
      const neither = await post('bulk', readings);
      assert.equal(neither.status, 400);
      assert.equal(neither.body.errors[0].path, 'body.readings.0.signature');
      const ok = await postSet('bulk', readings, sig);
      assert.equal(ok.status, 202, 'seq 20..24 were not consumed by the refused requests');
    });

    it("GATEWAY mode: the IoT gateway signs the constrained thing's set", async () => {
      const readings = unsigned(1, 3);
      const own = await postSet('leaf2', readings, signReadingSet(leaf.privateKey, 'leaf2', readings));
      assert.equal(own.status, 422);
      const viaHub = await postSet('leaf2', readings, signReadingSet(hub.privateKey, 'leaf2', readings));
      assert.equal(viaHub.status, 202, JSON.stringify(viaHub.body));
      assert.equal(viaHub.body.signer, 'hub2');
    });
  });

  it('batches by time: a lone reading is anchored after the wait', async () => {
    const t = new TelemetryService({ ledger: gw.ledger, batchMaxReadings: 1000, batchMaxWaitMs: 20, cacheTtlMs: 0 });
    const caller: Caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator', issuer: 'gateway', amr: ['pwd'] };
    const before = gw.ledger.submits('data:AnchorBatch').length;
    await t.ingest(caller, 'watch', [signed(watch.privateKey, 'watch', 100)]);
    for (let i = 0; i < 100 && gw.ledger.submits('data:AnchorBatch').length === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(gw.ledger.submits('data:AnchorBatch').length, before + 1);
    assert.equal(JSON.parse(gw.ledger.submits('data:AnchorBatch').at(-1)!.args[0]).leafCount, 1);
    t.close();
  });

  it("retention (X7): a thing's readings leave the gateway after its policy's retentionDays — the current policy, once seen; their proof answers 410, the root stays on the ledger", async () => {
    w.things.set('brief', {
      ...structuredClone(w.things.get('bulk')!),
      thingId: 'brief',
      policy: { allowedMetaverses: [], retentionDays: 30 },
    });
    const r = await post(
      'brief',
      Array.from({ length: 10 }, (_, i) => signed(watch.privateKey, 'brief', i + 1)),
    );
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await gw.app.telemetry.flush();
    const kept = await gw.request('GET', '/r1/things/brief/readings/4/proof', { token });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    const root = w.anchored.get(kept.body.batchId)!.merkleRoot;
    assert.equal(Date.parse(kept.body.keptUntil) - Date.parse(kept.body.anchoredAt), 30 * 86_400_000, 'kept 30 days from its anchoring');

    const started = gw.clock.now;
    const passAt = (ms: number) => {
      gw.clock.now = started + ms;
      gw.app.telemetry.applyRetention();
      gw.clock.now = started; // the tokens are valid again
    };
    passAt(86_400_000 + 1000);
    assert.equal((await gw.request('GET', '/r1/things/brief/readings/4/proof', { token })).status, 200, 'a day later: kept (30 days)');

    // The owner shortens the retention to one day; the gateway sees it with the thing's next readings.
    (w.things.get('brief')!.policy as { retentionDays: number }).retentionDays = 1;
    assert.equal((await post('brief', [signed(watch.privateKey, 'brief', 11)])).status, 202);
    const shortened = await gw.request('GET', '/r1/things/brief/readings/4/proof', { token });
    assert.equal(Date.parse(shortened.body.keptUntil) - Date.parse(shortened.body.anchoredAt), 86_400_000, 'now one day');
    passAt(86_400_000 + 1000);
    const gone = await gw.request('GET', '/r1/things/brief/readings/4/proof', { token });
    assert.equal(gone.status, 410, JSON.stringify(gone.body));
    assert.equal(gone.body.code, 'EXPIRED');
    assert.match(gone.body.type, /retention-expired$/);
    assert.match(gone.body.detail, /retention/);
    assert.equal(
      (await gw.request('GET', '/r1/things/brief/readings/12/proof', { token })).status,
      404,
      'a seq never accepted is not "gone"',
    );
    assert.equal(w.anchored.get(kept.body.batchId)!.merkleRoot, root, 'the ledger keeps the root');
    const watchProof = await gw.request('GET', '/r1/things/watch/readings/13/proof', { token });
    assert.equal(watchProof.status, 200, 'a thing kept 365 days (the default) keeps its proofs');
  });

  describe('live stream over WebSocket', () => {
    let running: { close(): void };
    before(() => {
      running = gw.app.attachStream(gw.server);
    });
    after(() => running.close());

    it("an allowed avatar's subscriber receives readings; a metaverse removed from the policy receives nothing more", async () => {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/r1/avatars/av-1/stream`, ['bearer', mvaToken]);
      const msgs: Record<string, unknown>[] = [];
      let closed: number | undefined;
      ws.on('message', (d) => msgs.push(JSON.parse(String(d))));
      ws.on('close', (code) => (closed = code));
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      await until(() => msgs.length >= 1);
      assert.equal(msgs[0].type, 'subscribed');
      assert.equal((await post('watch', [signed(watch.privateKey, 'watch', 200), signed(watch.privateKey, 'watch', 201)])).status, 202);
      await until(() => msgs.some((m) => m.type === 'readings'));
      const got = msgs.find((m) => m.type === 'readings') as { readings: { seq: number }[] };
      assert.deepEqual(
        got.readings.map((r) => r.seq),
        [200, 201],
      );
      (w.things.get('watch')!.policy as { allowedMetaverses: string[] }).allowedMetaverses = [];
      assert.equal((await post('watch', [signed(watch.privateKey, 'watch', 202)])).status, 202);
      await until(() => closed !== undefined);
      assert.equal(closed, 4403);
      assert.ok(msgs.some((m) => m.type === 'closed' && /does not allow metaverse mv-a/.test(String(m.reason))));
      assert.ok(
        !msgs.some((m) => m.type === 'readings' && (m.readings as { seq: number }[]).some((r) => r.seq === 202)),
        'no reading after the revocation',
      );
      (w.things.get('watch')!.policy as { allowedMetaverses: string[] }).allowedMetaverses = ['mv-a'];
    });

    it('refuses the upgrade without a token (401), to a caller without read (403) and for a metaverse not in the policy (403)', async () => {
      assert.equal(await upgradeStatus(`${gw.url.replace('http', 'ws')}/r1/avatars/av-1/stream`), 401);
      w.denyAvatarRead.add('mallory');
      assert.equal(await upgradeStatus(`${gw.url.replace('http', 'ws')}/r1/avatars/av-1/stream?access_token=${outsiderToken}`), 403);
      assert.equal(await upgradeStatus(`${gw.url.replace('http', 'ws')}/r1/avatars/av-b/stream?access_token=${mvaToken}`), 403);
      assert.equal(await upgradeStatus(`${gw.url.replace('http', 'ws')}/r1/avatars/nope/stream?access_token=${mvaToken}`), 404);
      const plain = await gw.request('GET', '/r1/avatars/av-1/stream', { token: mvaToken });
      assert.equal(plain.status, 426, 'a plain GET is told to upgrade');
      assert.equal(plain.headers.get('upgrade'), 'websocket');
    });

    it('a subscriber whose read right on the avatar ends (grant revoked) is closed with 4403 and receives nothing more', async () => {
      w.denyAvatarRead.delete('mva-agent');
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/r1/avatars/av-1/stream`, ['bearer', mvaToken]);
      const msgs: Record<string, unknown>[] = [];
      let closed: { code: number; reason: string } | undefined;
      ws.on('message', (d) => msgs.push(JSON.parse(String(d))));
      ws.on('close', (code, reason) => (closed = { code, reason: String(reason) }));
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      assert.equal((await post('watch', [signed(watch.privateKey, 'watch', 300)])).status, 202);
      await until(() => msgs.some((m) => m.type === 'readings'));
      w.denyAvatarRead.add('mva-agent'); // the ledger now refuses mva-agent's read on av-1
      assert.equal((await post('watch', [signed(watch.privateKey, 'watch', 301)])).status, 202);
      await until(() => closed !== undefined);
      assert.equal(closed!.code, 4403);
      const last = msgs.find((m) => m.type === 'closed') as { reason: string } | undefined;
      assert.match(String(last?.reason), /read access to avatar av-1 ended: no grant on avatar av-1 for mva-agent/);
      assert.ok(
        !msgs.some((m) => m.type === 'readings' && (m.readings as { seq: number }[]).some((r) => r.seq === 301)),
        'nothing after the revocation',
      );
      w.denyAvatarRead.delete('mva-agent');
    });
  });
});

async function until(cond: () => boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => {});
  });
}
