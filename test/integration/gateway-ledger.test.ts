/**
 * The gateway over HTTP against the real network: R5 platforms and federation, R1 things and
 * avatars, R4 grants and access, R3 transfers, in JSON and in CBOR, each principal transacting
 * as its own Fabric identity; the guard refusing with the contract's reason; idempotency; bad
 * input writing nothing; keys sealed at rest.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { anchorInput, ok, retireMetaverses, type World } from './support/domain.js';
import { connectAs, contractOf, newUser, org } from './support/network.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';

const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';
const MVB = 'MetaverseBMSP';
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();
const DAY = 86_400_000;

describe('gateway on the real network (R1, R3, R4, R5; P1; A1; X3)', () => {
  let gw: LiveGateway;
  let iotAdmin: Client, mvaAdmin: Client, mvbAdmin: Client, alice: Client, bob: Client, carol: Client;
  let ids: { iot: string; mva: string; mvb: string; thing: string; avatar: string; data: string; transfer: string };
  let dataSha: string;

  before(async () => {
    await retireMetaverses(MVA, MVB); // an MSP runs one ACTIVE metaverse platform (chaincode rule 6)
    gw = await startLiveGateway();
    const r = gw.run;
    ids = {
      iot: `gw-iot-${r}`,
      mva: `gw-mva-${r}`,
      mvb: `gw-mvb-${r}`,
      thing: `gw-watch-${r}`,
      avatar: `gw-av-${r}`,
      data: `gw-d-${r}`,
      transfer: `gw-tr-${r}`,
    };
    [iotAdmin, mvaAdmin, mvbAdmin, alice, bob, carol] = await Promise.all([
      gw.as(IOT, 'admin'),
      gw.as(MVA, 'admin'),
      gw.as(MVB, 'admin'),
      gw.as(IOT, 'creator'),
      gw.as(MVA, 'creator'),
      gw.as(MVB, 'user'),
    ]);
  });
  after(() => gw?.close());

  it('readiness reflects the Fabric connection', async () => {
    const r = await fetch(`${gw.url}/readyz`);
    assert.equal(r.status, 200);
    assert.match(((await r.json()) as { detail: string }).detail, /IoTPlatformMSP\/127\.0\.0\.1:\d+ up/);
  });

  it("R5/A2: a creator may not register a platform: 403 with the contract's reason", async () => {
    const r = await alice.call('POST', '/r5/platforms', { platformId: `${ids.iot}-x`, type: 'IOT', name: 'x', capabilityLevel: 1 });
    assert.equal(r.status, 403);
    assert.match(r.type, /problem\+json/);
    assert.match(r.body.detail, /^DENIED: /);
    assert.match(r.body.detail, new RegExp(alice.principal));
  });

  it('R5: admins register their platforms (JSON and CBOR), each under its own MSP', async () => {
    const a = await iotAdmin.call('POST', '/r5/platforms', { platformId: ids.iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.match(a.body.txId, /^[0-9a-f]{64}$/);
    const b = await mvaAdmin.call(
      'POST',
      '/r5/platforms',
      { platformId: ids.mva, type: 'METAVERSE', name: 'A', capabilityLevel: 3 },
      { cbor: true },
    );
    assert.equal(b.status, 201);
    assert.match(b.type, /^application\/cbor/);
    assert.equal(b.body.result.mspId, MVA);
    const c = await mvbAdmin.call('POST', '/r5/platforms', { platformId: ids.mvb, type: 'METAVERSE', name: 'B', capabilityLevel: 3 });
    assert.equal(c.status, 201);
    const read = await carol.call('GET', `/r5/platforms/${ids.mva}`, undefined, { cbor: true });
    assert.equal(read.status, 200);
    assert.equal(read.body.mspId, MVA);
    assert.equal(read.body.registeredBy.principal, mvaAdmin.principal);
  });

  it('P1: idempotency on the ledger: a replay returns the first transaction, a new request conflicts', async () => {
    const body = { platformId: `${ids.iot}-idem`, type: 'IOT', name: 'again', capabilityLevel: 1 };
    const h = { 'idempotency-key': `idem-${gw.run}` };
    const first = await iotAdmin.call('POST', '/r5/platforms', body, { headers: h });
    const replay = await iotAdmin.call('POST', '/r5/platforms', body, { headers: h });
    assert.equal(first.status, 201);
    assert.equal(replay.status, 201);
    assert.equal(replay.body.txId, first.body.txId);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    const fresh = await iotAdmin.call('POST', '/r5/platforms', body);
    assert.equal(fresh.status, 409);
    assert.match(fresh.body.detail, /^CONFLICT: /);
  });

  it('R5/X3: federation proposed by A (CBOR) and accepted by B, endorsed by both metaverses', async () => {
    const p = await mvaAdmin.call(
      'POST',
      '/r5/federations',
      { platformId: ids.mva, peerPlatformId: ids.mvb, terms: 'games' },
      { cbor: true },
    );
    assert.equal(p.status, 201, JSON.stringify(p.body));
    // the proposer cannot accept its own proposal: the contract's state machine says so (409)
    const wrongSide = await mvaAdmin.call('POST', `/r5/federations/${ids.mva}/${ids.mvb}/accept`);
    assert.equal(wrongSide.status, 409, JSON.stringify(wrongSide.body));
    assert.match(wrongSide.body.detail, /^CONFLICT: /);
    // another org's admin is not an admin of platform B
    const foreign = await iotAdmin.call('POST', `/r5/federations/${ids.mvb}/${ids.mva}/accept`);
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.detail, /^DENIED: /);
    const a = await mvbAdmin.call('POST', `/r5/federations/${ids.mvb}/${ids.mva}/accept`);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const f = await carol.call('GET', `/r5/federations/${ids.mva}/${ids.mvb}`);
    assert.equal(f.body.status, 'ACTIVE');
  });

  it('R1: a creator registers a thing, a metaverse admin proposes its avatar and the owner approves it (rule 8); reads in JSON and CBOR', async () => {
    const t = await alice.call('POST', '/r1/things', {
      thingId: ids.thing,
      platformId: ids.iot,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-${gw.run}`,
      classification: 'CONFIDENTIAL',
      policy: {
        storage: 'ANY',
        allowedMetaverses: [ids.mva, ids.mvb],
        purposes: ['gameplay'],
        retentionDays: 30,
        encryptionRequired: true,
      },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const m = await mvaAdmin.call(
      'POST',
      '/r1/avatars',
      { avatarId: ids.avatar, thingId: ids.thing, metaverseId: ids.mva, mode: 'ACTIVE', capabilityLevel: 3 },
      { cbor: true },
    );
    assert.equal(m.status, 201, JSON.stringify(m.body));
    assert.equal(m.body.result.status, 'PENDING');
    // trust rule 8: the metaverse cannot agree for the owner; the owner approves
    const self = await mvaAdmin.call('POST', `/r1/avatars/${ids.avatar}/approve`);
    assert.equal(self.status, 403, JSON.stringify(self.body));
    assert.match(self.body.detail, /^DENIED: only the owner of thing /);
    const approved = await alice.call('POST', `/r1/avatars/${ids.avatar}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.result.status, 'ACTIVE');
    assert.equal(approved.body.result.approvedBy.principal, alice.principal);
    const thing = await carol.call('GET', `/r1/things/${ids.thing}`, undefined, { cbor: true });
    assert.equal(thing.body.owner, alice.principal);
    assert.equal(thing.body.mspId ?? IOT, IOT);
    const avatars = await carol.call('GET', `/r1/things/${ids.thing}/avatars?metaverseId=${ids.mva}`);
    assert.equal(avatars.status, 200);
    assert.ok(JSON.stringify(avatars.body).includes(ids.avatar));
    // B's admin may not map into A's metaverse
    const foreign = await mvbAdmin.call('POST', '/r1/avatars', {
      avatarId: `${ids.avatar}-b`,
      thingId: ids.thing,
      metaverseId: ids.mva,
      mode: 'ACTIVE',
      capabilityLevel: 1,
    });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.detail, /^DENIED: /);
  });

  it('bad input (malformed, unknown fields, control characters) is 4xx and writes nothing', async () => {
    const id = `${ids.thing}-bad`;
    const thing = { thingId: id, platformId: ids.iot, kind: 'DEVICE', accessMode: 'AUTONOMOUS', publicKey: 'pk', classification: 'PUBLIC' };
    const cases = [
      await alice.call('POST', '/r1/things', undefined, { raw: '{"thingId":', contentType: 'application/json' }),
      await alice.call('POST', '/r1/things', undefined, { raw: Buffer.from([0xa1, 0x61]), contentType: 'application/cbor' }),
      await alice.call('POST', '/r1/things', { ...thing, colour: 'red' }),
      await alice.call('POST', '/r1/things', { ...thing, kind: 7 }),
      await alice.call('POST', '/r1/things', { ...thing, thingId: `${id}\u0007` }),
      await alice.call('POST', '/r1/things', { ...thing, publicKey: 'k'.repeat(400_000) }),
    ];
    assert.deepEqual(
      cases.map((c) => c.status),
      [400, 400, 400, 400, 400, 413],
    );
    const after = await alice.call('GET', `/r1/things/${encodeURIComponent(id)}`);
    assert.equal(after.status, 404);
    assert.match(after.body.detail, /^NOT_FOUND: /);
  });

  describe('R4 and R3 with data anchored by the owner', () => {
    let world: Pick<World, 'thingId'>;
    before(async () => {
      world = { thingId: ids.thing };
      // The owner anchors the data with its own CA identity (R2 routes are not part of this gateway yet).
      const o = org(IOT);
      const owner = await newUser(o, { role: 'creator', principal: alice.principal });
      const conn = connectAs(o, owner.name);
      try {
        // data of the avatar in MetaverseA, which the R3 transfer below moves out of A (trust rule 3)
        const input = { ...anchorInput(world as World, ids.data), avatarId: ids.avatar };
        dataSha = input.sha256;
        await ok(contractOf(conn, 'data'), 'AnchorData', [JSON.stringify(input)]);
      } finally {
        conn.close();
      }
    });

    it("R4/A1: without a grant the guard refuses access with the contract's reason; with the owner's grant it allows, naming the grant", async () => {
      const ask = { resourceType: 'DATA', resourceId: ids.data, action: 'share', purpose: 'gameplay' };
      const no = await bob.call('POST', '/r4/access', ask);
      assert.equal(no.status, 403);
      assert.match(no.body.detail, /^DENIED: /);
      const check = await bob.call('POST', '/r4/access-checks', ask, { cbor: true });
      assert.equal(check.status, 200);
      assert.equal(check.body.allowed, false);
      const untimed = (t: string) => t.replace(/ at \d{4}-\d\d-\d\dT[\d:.]+Z/g, '');
      assert.equal(untimed(no.body.detail), untimed(`DENIED: ${check.body.reason}`));

      const g = await alice.call('POST', '/r4/grants', {
        grantId: `gw-g-${gw.run}`,
        resourceType: 'THING',
        resourceId: ids.thing,
        grantee: { type: 'PRINCIPAL', id: bob.principal, mspId: MVA },
        actions: ['share', 'read'],
        purpose: 'gameplay',
        validUntil: isoIn(DAY),
      });
      assert.equal(g.status, 201, JSON.stringify(g.body));
      const yes = await bob.call('POST', '/r4/access', ask);
      assert.equal(yes.status, 200);
      assert.equal(yes.body.allowed, true);
      assert.equal(yes.body.grantId, `gw-g-${gw.run}`);
      const grant = await bob.call('GET', `/r4/grants/gw-g-${gw.run}`, undefined, { cbor: true });
      assert.equal(grant.status, 200);
      assert.deepEqual(grant.body.actions.sort(), ['read', 'share']);
    });

    const request = () => ({
      transferId: ids.transfer,
      kind: 'MOVE',
      sourceAvatarId: ids.avatar,
      targetMetaverseId: ids.mvb,
      dataId: ids.data,
      dataSha256: dataSha,
      purpose: 'gameplay',
      expiresAt: isoIn(DAY),
    });

    it('R3: a principal without share access is refused by the guard before any transaction', async () => {
      const r = await carol.call('POST', '/r3/transfers', request());
      assert.equal(r.status, 403);
      assert.match(r.body.detail, /^DENIED: /);
      const none = await mvbAdmin.call('GET', `/r3/transfers/${ids.transfer}`);
      assert.equal(none.status, 404);
    });

    it('R3/X3: request → approvals by both metaverses → owner consent → execute; execution refused until consented', async () => {
      const req = await bob.call('POST', '/r3/transfers', request(), { cbor: true });
      assert.equal(req.status, 201, JSON.stringify(req.body));
      const early = await mvbAdmin.call('POST', `/r3/transfers/${ids.transfer}/execute`, { dataSha256: dataSha });
      assert.equal(early.status, 403);
      assert.match(early.body.detail, /is REQUESTED/);
      const wrongApprover = await mvbAdmin.call('POST', `/r3/transfers/${ids.transfer}/approve`, { side: 'source' });
      assert.equal(wrongApprover.status, 403);
      assert.match(wrongApprover.body.detail, /^DENIED: /);
      assert.equal((await mvaAdmin.call('POST', `/r3/transfers/${ids.transfer}/approve`, { side: 'source' })).status, 200);
      assert.equal((await mvbAdmin.call('POST', `/r3/transfers/${ids.transfer}/approve`, { side: 'target' })).status, 200);
      const notOwner = await bob.call('POST', `/r3/transfers/${ids.transfer}/consent`);
      assert.equal(notOwner.status, 403);
      assert.match(notOwner.body.detail, /^DENIED: /);
      assert.equal((await alice.call('POST', `/r3/transfers/${ids.transfer}/consent`)).status, 200);
      const exec = await mvbAdmin.call('POST', `/r3/transfers/${ids.transfer}/execute`, { dataSha256: dataSha }, { cbor: true });
      assert.equal(exec.status, 200, JSON.stringify(exec.body));
      const t = await mvbAdmin.call('GET', `/r3/transfers/${ids.transfer}`);
      assert.equal(t.body.status, 'EXECUTED');
      assert.deepEqual(
        t.body.steps.map((s: { status: string }) => s.status),
        ['REQUESTED', 'SOURCE_APPROVED', 'TARGET_APPROVED', 'CONSENTED', 'EXECUTED'],
      );
      const again = await mvbAdmin.call('POST', `/r3/transfers/${ids.transfer}/execute`, { dataSha256: dataSha });
      assert.equal(again.status, 403);
      assert.match(again.body.detail, /is EXECUTED/);
    });
  });

  it('trust rule 8: a principal binds the key the gateway holds for it; once, and it still acts with it', async () => {
    const owner = await gw.as(IOT, 'creator');
    assert.equal((await owner.call('GET', '/auth/me/key-binding')).status, 404);
    const bound = await owner.call('POST', '/auth/me/key-binding');
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    assert.deepEqual([bound.body.result.mspId, bound.body.result.principal], [IOT, owner.principal]);
    assert.match(bound.body.result.spkiSha256, /^[0-9a-f]{64}$/);
    const read = await owner.call('GET', '/auth/me/key-binding');
    assert.equal(read.status, 200);
    assert.equal(read.body.spkiSha256, bound.body.result.spkiSha256);
    const again = await owner.call('POST', '/auth/me/key-binding');
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.match(again.body.detail, /already has a bound key/);
    const t = await owner.call('POST', '/r1/things', {
      thingId: `${ids.thing}-bound`,
      platformId: ids.iot,
      kind: 'SENSOR',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-bound-${gw.run}`,
      classification: 'PUBLIC',
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
  });

  it("C1: every enrolled principal's private key is sealed at rest (no PEM key in the state folder)", () => {
    const dir = join(gw.stateDir, 'identities');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 6, `${files.length} identities`);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      assert.doesNotMatch(text, /PRIVATE KEY/);
      const s = JSON.parse(text);
      assert.equal(s.key.alg, 'A256GCM');
      assert.match(s.certificate, /BEGIN CERTIFICATE/);
    }
  });
});
