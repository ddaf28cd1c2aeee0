/**
 * The ledger's JSON inputs are parsed with mvsec-protocol's schemas (the ones the gateway uses):
 * a bad field is refused INVALID naming its path, before anything is written; the same input with
 * that field fixed is accepted.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Contract } from 'fabric-contract-api';
import type { Grant } from '../../src/access/grant-types';
import type { Thing } from '../../src/thing/thing-types';
import type { Identity } from '../support/harness';
import { id, rejects, SHA_A, World } from '../support/fixtures';

const DAY = 24 * 3600 * 1000;

/** Everything a transaction could have left behind: committed blocks, events and the world state. */
function snapshot(w: World) {
  const state = w.chain.ledger.sortedKeys().map((k) => [k, Buffer.from(w.chain.ledger.state.get(k)!).toString('base64')]);
  return { blocks: w.chain.ledger.blocks.length, events: w.chain.ledger.events.length, state };
}

interface Case {
  input: string;
  contract: (w: World) => Contract;
  fn: string;
  who: Identity;
  bad: (w: World) => unknown[];
  /** message after `INVALID: ` must start with this path */
  path: string;
  good: (w: World) => unknown[];
  before?: (w: World) => Promise<void>;
}

const thing = {
  thingId: 'watch-2',
  platformId: 'iot-1',
  kind: 'SENSOR',
  accessMode: 'AUTONOMOUS',
  publicKey: 'pk-watch-2',
  classification: 'INTERNAL',
  policy: { storage: 'ANY', purposes: ['analytics'] },
};
const grant = (w: World, grantee: unknown) => ({
  grantId: 'g-role',
  resourceType: 'THING',
  resourceId: 'watch-1',
  grantee,
  actions: ['read'],
  purpose: 'analytics',
  validUntil: new Date(w.chain.now + DAY).toISOString(),
});
const transfer = (w: World, dataSha256: string) => ({
  transferId: 'tr-1',
  kind: 'SHARE',
  sourceAvatarId: 'av-a1',
  targetMetaverseId: 'mv-b',
  dataId: 'd-1',
  dataSha256,
  purpose: 'gameplay',
  expiresAt: new Date(w.chain.now + DAY).toISOString(),
});

const cases: Case[] = [
  {
    input: 'RegisterPlatform',
    contract: (w) => w.platform,
    fn: 'RegisterPlatform',
    who: id.iotAdmin,
    bad: () => [{ platformId: 'iot-2', type: 'IOT', name: 'IoT 2', capabilityLevel: 4 }],
    path: 'input.capabilityLevel: ',
    good: () => [{ platformId: 'iot-2', type: 'IOT', name: 'IoT 2', capabilityLevel: 3 }],
  },
  {
    input: 'UpdatePlatform',
    contract: (w) => w.platform,
    fn: 'UpdatePlatform',
    who: id.iotAdmin,
    bad: () => ['iot-1', { name: '' }],
    path: 'input.name: ',
    good: () => ['iot-1', { name: 'IoT renamed' }],
  },
  {
    input: 'ProposeFederation (positional arguments)',
    contract: (w) => w.platform,
    fn: 'ProposeFederation',
    who: id.aAdmin,
    bad: () => ['mv-a', 'mv-b', ''],
    path: 'terms: ',
    good: () => ['mv-a', 'mv-b', 'games'],
  },
  {
    input: 'RegisterThing',
    contract: (w) => w.thing,
    fn: 'RegisterThing',
    who: id.alice,
    bad: () => [{ ...thing, thingId: 'watch\u0000-2' }],
    path: 'input.thingId: must have no control characters and no surrounding whitespace (U+0000 at position 5)',
    good: () => [thing],
  },
  {
    input: 'RegisterThing policy (DataFlowPolicy inside)',
    contract: (w) => w.thing,
    fn: 'RegisterThing',
    who: id.alice,
    bad: () => [{ ...thing, policy: { purposes: ['p'.repeat(65)] } }],
    path: 'input.policy.purposes[0]: ',
    good: () => [{ ...thing, policy: { purposes: ['p'.repeat(64)] } }],
  },
  {
    input: 'DataFlowPolicy (SetThingPolicy)',
    contract: (w) => w.thing,
    fn: 'SetThingPolicy',
    who: id.alice,
    bad: () => ['watch-1', { retentionDays: 0 }],
    path: 'policy.retentionDays: ',
    good: () => ['watch-1', { retentionDays: 1 }],
  },
  {
    input: 'Agents (SetThingAgents)',
    contract: (w) => w.thing,
    fn: 'SetThingAgents',
    who: id.alice,
    bad: () => ['watch-1', ['agent-t1', 'agent-t1']],
    path: 'agents: must not contain duplicates',
    good: () => ['watch-1', ['agent-t1']],
  },
  {
    input: 'MapAvatar',
    contract: (w) => w.avatar,
    fn: 'MapAvatar',
    who: id.aAdmin,
    bad: () => [{ avatarId: 'av-a3', thingId: 'watch-1', metaverseId: 'mv-a', mode: 'ACTIVE', capabilityLevel: 1, agents: [' a-agent'] }],
    path: 'input.agents[0]: ',
    good: () => [{ avatarId: 'av-a3', thingId: 'watch-1', metaverseId: 'mv-a', mode: 'ACTIVE', capabilityLevel: 1, agents: ['a-agent'] }],
  },
  {
    input: 'Agents (SetAvatarAgents)',
    contract: (w) => w.avatar,
    fn: 'SetAvatarAgents',
    who: id.aAdmin,
    bad: () => ['av-a1', ['a-agent', 7]],
    path: 'agents[1]: ',
    good: () => ['av-a1', ['a-agent']],
  },
  {
    input: 'CreateGrant',
    contract: (w) => w.access,
    fn: 'CreateGrant',
    who: id.alice,
    bad: (w) => [grant(w, { type: 'ROLE', id: 'superuser' })],
    path: 'input.grantee.id: ',
    good: (w) => [grant(w, { type: 'ROLE', id: 'auditor' })],
  },
  {
    input: 'RequestTransfer',
    contract: (w) => w.transfer,
    fn: 'RequestTransfer',
    who: id.aAgent,
    before: (w) => w.federate(),
    bad: (w) => [transfer(w, SHA_A.toUpperCase())],
    path: 'input.dataSha256: ',
    good: (w) => [transfer(w, SHA_A)],
  },
];

describe('ledger inputs are parsed with the protocol schemas', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.avatars();
    await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' });
  });

  for (const c of cases) {
    it(`${c.input}: a bad field is refused INVALID with its path and nothing is written`, async () => {
      await c.before?.(w);
      const before = snapshot(w);
      await rejects(w.chain.submit(c.contract(w), c.fn, c.who, c.bad(w)), 'INVALID', `INVALID: ${c.path}`);
      assert.deepEqual(snapshot(w), before, 'the refused transaction wrote nothing');
      await w.chain.submit(c.contract(w), c.fn, c.who, c.good(w));
      assert.equal(w.chain.ledger.blocks.length, before.blocks + 1, 'the same input with the field fixed is accepted');
    });
  }

  it('a member named __proto__ is refused, also when written with \\u escapes', async () => {
    const before = snapshot(w);
    const body = '"platformId":"iot-2","type":"IOT","name":"x","capabilityLevel":1';
    for (const key of ['__proto__', '\\u005f\\u005fproto__']) {
      await rejects(
        w.chain.submit(w.platform, 'RegisterPlatform', id.iotAdmin, [`{"${key}":{"mspId":"MetaverseAMSP"},${body}}`]),
        'INVALID',
        'input must not have a member named __proto__',
      );
      await rejects(
        w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', `{"transmitWindow":{"${key}":{}},"purposes":[]}`]),
        'INVALID',
        'policy must not have a member named __proto__',
      );
    }
    assert.deepEqual(snapshot(w), before);
  });

  it('every problem is named (missing members first-to-last), at most five and a count of the rest', async () => {
    await rejects(
      w.chain.submit(w.thing, 'RegisterThing', id.alice, [{ colour: 'red' }]),
      'INVALID',
      /^INVALID: input\.thingId: is required; input\.platformId: is required; input\.kind: is required; input\.accessMode: is required; input\.publicKey: is required; and 2 more$/,
    );
    await rejects(w.chain.submit(w.platform, 'RegisterPlatform', id.iotAdmin, ['[1]']), 'INVALID', 'input: Invalid input: expected object');
    await rejects(w.chain.submit(w.platform, 'RegisterPlatform', id.iotAdmin, ['{']), 'INVALID', 'input is not valid JSON');
  });

  it('rules the schema does not express stay in the contract (gateway mode, empty window)', async () => {
    await rejects(
      w.chain.submit(w.thing, 'RegisterThing', id.alice, [{ ...thing, accessMode: 'GATEWAY' }]),
      'INVALID',
      'gatewayId is required for accessMode GATEWAY',
    );
    await rejects(
      w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { transmitWindow: { fromHour: 5, toHour: 5 } }]),
      'INVALID',
      'policy.transmitWindow is empty',
    );
    const t = await w.chain.submit<Thing>(w.thing, 'SetThingPolicy', id.alice, ['watch-1', {}]);
    assert.deepEqual(t.policy, {
      storage: 'ON_PLATFORM',
      storageIds: [],
      allowedMetaverses: [],
      allowedDpmProviders: [],
      purposes: [],
      retentionDays: 365,
      encryptionRequired: true,
    });
  });

  it('timestamps are stored in UTC with milliseconds; an impossible calendar date is refused', async () => {
    const g = grant(w, { type: 'MSP', id: 'MetaverseAMSP' });
    await rejects(
      w.chain.submit(w.access, 'CreateGrant', id.alice, [{ ...g, validUntil: '2025-02-30T10:00:00Z' }]),
      'INVALID',
      'input.validUntil: ',
    );
    const created = await w.chain.submit<Grant>(w.access, 'CreateGrant', id.alice, [
      { ...g, actions: ['read', 'read', 'write'], validFrom: '2025-03-01T12:00:00+02:00', validUntil: '2025-03-05T00:00:00.5-01:00' },
    ]);
    assert.equal(created.validFrom, '2025-03-01T10:00:00.000Z');
    assert.equal(created.validUntil, '2025-03-05T01:00:00.500Z');
    assert.deepEqual(created.actions, ['read', 'write']);
  });

  it('the order of an input’s members does not change what is written', async () => {
    const reversed = Object.fromEntries(Object.entries(thing).reverse());
    const other = new World();
    await other.platforms();
    await other.watch();
    await other.avatars();
    await other.anchor('d-1', SHA_A);
    await w.chain.submit(w.thing, 'RegisterThing', id.alice, [thing]);
    await other.chain.submit(other.thing, 'RegisterThing', id.alice, [reversed]);
    const written = (x: World) => Buffer.from(x.chain.ledger.state.get(x.chain.ledger.sortedKeys().find((k) => k.includes('watch-2'))!)!);
    assert.ok(written(w).equals(written(other)));
  });
});
