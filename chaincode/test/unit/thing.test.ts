import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Thing } from '../../src/thing/thing-types';
import { id, rejects, World } from '../support/fixtures';

describe('thing contract', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
  });

  it('F4/A2: a creator registers its own thing (autonomous) with a closed-by-default policy fields filled', async () => {
    const t = await w.chain.evaluate<Thing>(w.thing, 'GetThing', id.bob, ['watch-1']);
    assert.equal(t.owner, 'alice');
    assert.equal(t.mspId, 'IoTPlatformMSP');
    assert.equal(t.accessMode, 'AUTONOMOUS');
    assert.deepEqual(t.policy.storageIds, []);
    assert.equal(t.policy.encryptionRequired, true);
  });

  it('A2: a creator may not register a thing for someone else; an admin or thing agent may', async () => {
    const input = {
      thingId: 't2',
      platformId: 'iot-1',
      kind: 'SENSOR',
      accessMode: 'AUTONOMOUS',
      publicKey: 'pk',
      owner: 'bob',
      classification: 'PUBLIC',
    };
    await rejects(w.chain.submit(w.thing, 'RegisterThing', id.alice, [input]), 'DENIED', 'registers only things it owns');
    // rule 6: an agent names only owners its MSP already knows on the ledger; an admin vouches for bob first
    await rejects(w.chain.submit(w.thing, 'RegisterThing', id.thingAgent, [input]), 'DENIED', 'bob owns no thing in IoTPlatformMSP');
    await w.chain.submit<Thing>(w.thing, 'RegisterThing', id.iotAdmin, [{ ...input, thingId: 't2-first' }]);
    const t = await w.chain.submit<Thing>(w.thing, 'RegisterThing', id.thingAgent, [input]);
    assert.deepEqual(t.agents, ['agent-t1']);
  });

  it('A2: a user may not register a thing (wrong role); another MSP may not use the IoT platform (wrong MSP)', async () => {
    const input = {
      thingId: 't3',
      platformId: 'iot-1',
      kind: 'SENSOR',
      accessMode: 'AUTONOMOUS',
      publicKey: 'pk',
      classification: 'PUBLIC',
    };
    await rejects(w.chain.submit(w.thing, 'RegisterThing', id.bob, [input]), 'DENIED', 'needs role admin, creator or thing-agent');
    await rejects(w.chain.submit(w.thing, 'RegisterThing', id.aAdmin, [input]), 'DENIED', 'belongs to IoTPlatformMSP');
  });

  it('F4: gateway access needs a registered GATEWAY thing', async () => {
    const base = { platformId: 'iot-1', publicKey: 'pk', classification: 'INTERNAL' };
    await rejects(
      w.chain.submit(w.thing, 'RegisterThing', id.alice, [{ ...base, thingId: 's1', kind: 'SENSOR', accessMode: 'GATEWAY' }]),
      'INVALID',
      'gatewayId is required',
    );
    await rejects(
      w.chain.submit(w.thing, 'RegisterThing', id.alice, [
        { ...base, thingId: 's1', kind: 'SENSOR', accessMode: 'GATEWAY', gatewayId: 'watch-1' },
      ]),
      'CONFLICT',
      'not a GATEWAY',
    );
    await w.chain.submit(w.thing, 'RegisterThing', id.alice, [{ ...base, thingId: 'gw-1', kind: 'GATEWAY', accessMode: 'AUTONOMOUS' }]);
    const s = await w.chain.submit<Thing>(w.thing, 'RegisterThing', id.alice, [
      { ...base, thingId: 's1', kind: 'SENSOR', accessMode: 'GATEWAY', gatewayId: 'gw-1' },
    ]);
    assert.equal(s.gatewayId, 'gw-1');
  });

  it('X5: owner and listed agent set the policy; another principal may not (wrong principal)', async () => {
    const policy = {
      storage: 'EXTERNAL',
      storageIds: ['s3-eu'],
      allowedMetaverses: ['mv-a'],
      purposes: ['analytics'],
      retentionDays: 7,
      encryptionRequired: true,
      transmitWindow: { fromHour: 8, toHour: 20 },
    };
    const t = await w.chain.submit<Thing>(w.thing, 'SetThingPolicy', id.alice, ['watch-1', policy]);
    assert.equal(t.policy.storage, 'EXTERNAL');
    assert.deepEqual(t.policy.transmitWindow, { fromHour: 8, toHour: 20 });
    await w.chain.submit(w.thing, 'SetThingPolicy', id.thingAgent, ['watch-1', policy]);
    await rejects(w.chain.submit(w.thing, 'SetThingPolicy', id.carol, ['watch-1', policy]), 'DENIED', 'is not the owner, an agent');
    await rejects(w.chain.submit(w.thing, 'SetThingPolicy', id.aAdmin, ['watch-1', policy]), 'DENIED');
    await rejects(
      w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { ...policy, storage: 'CLOUD' }]),
      'INVALID',
      'policy.storage: Invalid option: expected one of',
    );
  });

  it('agents can be replaced by the owner; an unlisted thing-agent loses control', async () => {
    await w.chain.submit(w.thing, 'SetThingAgents', id.alice, ['watch-1', ['agent-t2']]);
    await rejects(w.chain.submit(w.thing, 'SetThingAgents', id.thingAgent, ['watch-1', ['agent-t1']]), 'DENIED');
  });

  it('status: owner suspends, only an admin of the MSP resumes, revoke is final', async () => {
    const s = await w.chain.submit<Thing>(w.thing, 'SuspendThing', id.alice, ['watch-1', 'lost']);
    assert.equal(s.status, 'SUSPENDED');
    await rejects(w.chain.submit(w.thing, 'ResumeThing', id.alice, ['watch-1']), 'DENIED', 'needs an admin of IoTPlatformMSP');
    await w.chain.submit(w.thing, 'ResumeThing', id.iotAdmin, ['watch-1']);
    await rejects(w.chain.submit(w.thing, 'ResumeThing', id.iotAdmin, ['watch-1']), 'CONFLICT', 'expected SUSPENDED');
    await rejects(w.chain.submit(w.thing, 'RevokeThing', id.thingAgent, ['watch-1', 'x']), 'DENIED');
    await w.chain.submit(w.thing, 'RevokeThing', id.alice, ['watch-1', 'sold']);
    await rejects(w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', {}]), 'CONFLICT', 'REVOKED');
  });

  it('an id with a control character is refused before any key is built', async () => {
    await rejects(w.chain.evaluate(w.thing, 'GetThing', id.bob, ['watch\u0000-1']), 'INVALID', 'U+0000');
    await rejects(w.chain.evaluate(w.thing, 'GetThing', id.bob, ['nope']), 'NOT_FOUND', 'thing nope does not exist');
  });
});
