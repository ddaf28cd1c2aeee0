/**
 * A thing agent as the IoT gateway of a constrained thing (F4, A2, R1) on the real network: the
 * agent holds the IoT gateway's signing key and its own Fabric identity; the constrained sensor's
 * raw readings, handed to it, are numbered, signed and submitted as the agent, reach the avatar's
 * live stream and are anchored by the agent; its collection policy, the ledger's agent listing and
 * the caller's write access are each enforced with a clear refusal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { subscribe } from '../../demo/lib.js';
import { liveCast } from './e2e-support.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';
import { retireMetaverses } from './support/domain.js';

const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';

describe('thing agent: the IoT gateway of constrained things (F4, A2, R1)', () => {
  let gw: LiveGateway;
  let iotAdmin: Client, owner: Client, mvaAdmin: Client, stranger: Client;
  let ids: { iot: string; mva: string; hub: string; heart: string; unlisted: string; avatar: string; agent: string };

  before(async () => {
    await retireMetaverses('MetaverseAMSP', 'MetaverseBMSP'); // an MSP runs one ACTIVE metaverse platform (chaincode rule 6)
    gw = await startLiveGateway({ telemetry: { batchMaxReadings: 10, batchMaxWaitMs: 500 } });
    const r = gw.run;
    ids = {
      iot: `ag-iot-${r}`,
      mva: `ag-mva-${r}`,
      hub: `ag-hub-${r}`,
      heart: `ag-heart-${r}`,
      unlisted: `ag-spo2-${r}`,
      avatar: `ag-av-${r}`,
      agent: `ag-agent-${r}`,
    };
    [iotAdmin, owner, mvaAdmin, stranger] = await Promise.all([
      gw.as(IOT, 'admin'),
      gw.as(IOT, 'creator'),
      gw.as(MVA, 'admin'),
      gw.as(IOT, 'creator'),
    ]);
    for (const [c, body] of [
      [iotAdmin, { platformId: ids.iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 }],
      [mvaAdmin, { platformId: ids.mva, type: 'METAVERSE', name: 'A', capabilityLevel: 3 }],
    ] as const)
      assert.equal((await c.call('POST', '/r5/platforms', body)).status, 201);
  });
  after(() => gw?.close());

  let publicKey: string;

  it("A2: an agent is created with its own identity and a signing key; a user who is no creator can't", async () => {
    const user = await gw.as(IOT, 'user');
    const no = await user.call('POST', '/agents', { agentId: ids.agent, kind: 'thing', serves: [ids.heart] });
    assert.equal(no.status, 403);
    const a = await owner.call('POST', '/agents', {
      agentId: ids.agent,
      kind: 'thing',
      serves: [ids.heart, ids.unlisted],
      sensors: ['heart-rate', 'spo2'],
    });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.deepEqual(a.body.identity, { role: 'thing-agent', principal: ids.agent, mspId: IOT });
    publicKey = a.body.publicKey;
    assert.match(publicKey, /^[A-Za-z0-9+/]+=*$/);
    const again = await owner.call('POST', '/agents', { agentId: ids.agent, kind: 'thing', serves: [ids.heart] });
    assert.equal(again.status, 409);
    const read = await owner.call('GET', `/agents/${ids.agent}`, undefined, { cbor: true });
    assert.equal(read.status, 200);
    assert.equal(read.body.publicKey, publicKey);
  });

  it('F4/R1: the constrained sensor hands raw readings to its agent; signed as the IoT gateway, they reach the avatar and are anchored by the agent', async () => {
    const policy = { storage: 'ANY', allowedMetaverses: [ids.mva], purposes: ['health'], encryptionRequired: true };
    const reg = (body: Record<string, unknown>) =>
      owner.call('POST', '/r1/things', { platformId: ids.iot, classification: 'CONFIDENTIAL', policy, ...body });
    assert.equal((await reg({ thingId: ids.hub, kind: 'GATEWAY', accessMode: 'AUTONOMOUS', publicKey })).status, 201);
    for (const [thingId, agents] of [
      [ids.heart, [ids.agent]],
      [ids.unlisted, []],
    ] as const) {
      const t = await reg({ thingId, kind: 'SENSOR', accessMode: 'GATEWAY', gatewayId: ids.hub, publicKey: `unused-${thingId}`, agents });
      assert.equal(t.status, 201, JSON.stringify(t.body));
    }
    const av = await mvaAdmin.call('POST', '/r1/avatars', {
      avatarId: ids.avatar,
      thingId: ids.heart,
      metaverseId: ids.mva,
      mode: 'ACTIVE',
      capabilityLevel: 3,
    });
    assert.equal(av.status, 201, JSON.stringify(av.body));
    const approved = await owner.call('POST', `/r1/avatars/${ids.avatar}/approve`); // trust rule 8: the owner agrees
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const stream = await subscribe(gw.url, await liveCast(gw).actor(MVA, 'admin', 'A'), ids.avatar);

    const readings = Array.from({ length: 12 }, (_, i) => ({
      time: new Date(Date.now() + i).toISOString(),
      sensor: 'heart-rate',
      value: 60 + i,
    }));
    const r = await owner.call('POST', `/agents/${ids.agent}/readings`, { thingId: ids.heart, readings });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.accepted, 12);
    assert.equal(r.body.signer, ids.hub);
    assert.equal(r.body.agentId, ids.agent);
    for (let i = 0; i < 100 && (stream.readings.length < 12 || stream.anchored.length === 0); i++)
      await new Promise((ok) => setTimeout(ok, 200));
    stream.close();
    assert.deepEqual(
      stream.readings.map((x) => x.value),
      readings.map((x) => x.value),
    );
    assert.ok(stream.anchored.length >= 1);
    const proof = await owner.call('GET', `/r1/things/${ids.heart}/readings/${r.body.firstSeq}/proof`);
    assert.equal(proof.status, 200, JSON.stringify(proof.body));
    assert.equal(proof.body.set?.leafCount, 12, "the agent signed the request's readings as one set");
    // The batch was anchored on the ledger by the agent's own identity.
    const batch = await iotAdmin.call('GET', `/audit/history/batch/${proof.body.batchId}`);
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    const anchored = JSON.parse(batch.body.items[0].value);
    assert.deepEqual(anchored.anchoredBy, { mspId: IOT, principal: ids.agent, role: 'thing-agent' });
  });

  it("A2: the agent's collection policy, the ledger's agent listing and the caller's write access each refuse", async () => {
    const one = [{ time: new Date().toISOString(), sensor: 'heart-rate', value: 70 }];
    const sensor = await owner.call('POST', `/agents/${ids.agent}/readings`, {
      thingId: ids.heart,
      readings: [{ ...one[0], sensor: 'gps' }],
    });
    assert.equal(sensor.status, 422);
    assert.match(sensor.body.detail, /collects only sensors/);
    const unlisted = await owner.call('POST', `/agents/${ids.agent}/readings`, {
      thingId: ids.unlisted,
      readings: [{ ...one[0], sensor: 'spo2' }],
    });
    assert.equal(unlisted.status, 403, JSON.stringify(unlisted.body));
    assert.match(unlisted.body.detail, /^DENIED: /);
    const notServed = await owner.call('POST', `/agents/${ids.agent}/readings`, { thingId: ids.hub, readings: one });
    assert.equal(notServed.status, 403);
    const foreign = await stranger.call('POST', `/agents/${ids.agent}/readings`, { thingId: ids.heart, readings: one });
    assert.equal(foreign.status, 403, JSON.stringify(foreign.body));
    assert.match(foreign.body.detail, /^DENIED: /);
  });
  it('A2/R1: an avatar agent follows its avatar as itself, once the avatar lists it; the metaverse collects the feed', async () => {
    const agentId = `ag-avagent-${gw.run}`;
    const made = await mvaAdmin.call('POST', '/agents', { agentId, kind: 'avatar', serves: [ids.avatar] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(made.body.identity, { role: 'avatar-agent', principal: agentId, mspId: MVA });
    const feed = `/agents/${agentId}/avatars/${ids.avatar}/readings`;
    const unlisted = await mvaAdmin.call('GET', feed);
    assert.equal(unlisted.status, 403, JSON.stringify(unlisted.body));
    assert.match(unlisted.body.detail, /^DENIED: /);
    assert.equal((await mvaAdmin.call('PUT', `/r1/avatars/${ids.avatar}/agents`, { agents: [agentId] })).status, 200);
    const started = await mvaAdmin.call('GET', feed);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.deepEqual(started.body.readings, []);
    const beats = [71, 72, 73].map((value, i) => ({ time: new Date(Date.now() + i).toISOString(), sensor: 'heart-rate', value }));
    assert.equal((await owner.call('POST', `/agents/${ids.agent}/readings`, { thingId: ids.heart, readings: beats })).status, 202);
    let got = started;
    for (let i = 0; i < 100 && got.body.readings.length < 3; i++) {
      await new Promise((ok) => setTimeout(ok, 200));
      got = await mvaAdmin.call('GET', feed, undefined, { cbor: true });
    }
    assert.deepEqual(
      got.body.readings.map((r: { value: number }) => r.value),
      [71, 72, 73],
    );
    const foreign = await stranger.call('GET', feed);
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.detail, /^DENIED: /);
  });
});
