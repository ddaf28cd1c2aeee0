/**
 * Trust rule 8 (bound identities), the owners' and agents' part:
 * - mapping a thing into a metaverse needs the thing's side to agree: the avatar is PENDING (usable
 *   for nothing) until the owner or a listed thing agent approves it (X1: both sides authenticate);
 * - mapping does not make an arbitrary avatar agent the avatar's controller;
 * - a principal that bound its key is that key: another certificate naming it counts as no principal.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Avatar } from '../../src/avatar/avatar-types';
import type { PrincipalKey } from '../../src/identity/principal-key';
import { IdentityContract } from '../../src/identity/identity-contract';
import { dpm1Certificate, dpm2Certificate } from '../support/certificates';
import { id, rejects, SHA_A, World } from '../support/fixtures';

const proposal = (avatarId: string, extra: Record<string, unknown> = {}) => ({
  avatarId,
  thingId: 'watch-1',
  metaverseId: 'mv-a',
  mode: 'ACTIVE',
  capabilityLevel: 3,
  ...extra,
});

describe('trust rule 8: a mapping needs the thing owner’s agreement', () => {
  let w: World;
  const avatar = (avatarId: string) => w.chain.evaluate<Avatar>(w.avatar, 'GetAvatar', id.auditor, [avatarId]);

  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
  });

  it('X1: a proposed avatar is PENDING and usable for nothing until the owner approves it', async () => {
    const pending = await w.chain.submit<Avatar>(w.avatar, 'MapAvatar', id.aAdmin, [proposal('av-p')]);
    assert.equal(pending.status, 'PENDING');
    assert.equal(pending.approvedBy, undefined);
    await rejects(w.anchor('d-p', SHA_A, { avatarId: 'av-p' }, id.aAdmin), 'DENIED', 'avatar av-p is PENDING');
    await rejects(w.chain.submit(w.avatar, 'SuspendAvatar', id.aAdmin, ['av-p', 'x']), 'CONFLICT', 'awaits its owner');
    await rejects(w.chain.submit(w.avatar, 'SetAvatarAgents', id.aAdmin, ['av-p', '["a-agent"]']), 'CONFLICT', 'awaits its owner');
    const approved = await w.chain.submit<Avatar>(w.avatar, 'ApproveMapping', id.alice, ['av-p']);
    assert.equal(approved.status, 'ACTIVE');
    assert.deepEqual(approved.approvedBy, { mspId: 'IoTPlatformMSP', principal: 'alice', role: 'creator' });
    assert.equal(approved.approvedAt, approved.updatedAt);
    await w.anchor('d-p', SHA_A, { avatarId: 'av-p' }, id.aAdmin);
    await rejects(w.chain.submit(w.avatar, 'ApproveMapping', id.alice, ['av-p']), 'CONFLICT', 'is ACTIVE, not awaiting approval');
  });

  it('attack: neither the metaverse, the thing platform’s admin, another owner nor an avatar agent agrees for the owner', async () => {
    await w.chain.submit(w.avatar, 'MapAvatar', id.aAdmin, [proposal('av-p')]);
    const before = await avatar('av-p');
    for (const who of [id.aAdmin, id.iotAdmin, id.bob, id.aAgent, id.carol]) {
      await rejects(
        w.chain.submit(w.avatar, 'ApproveMapping', who, ['av-p']),
        'DENIED',
        'only the owner of thing watch-1 (alice@IoTPlatformMSP) or a thing agent it lists may approve a mapping',
      );
    }
    assert.deepEqual(await avatar('av-p'), before);
    // a listed thing agent is the owner's registered controller and may agree
    const approved = await w.chain.submit<Avatar>(w.avatar, 'ApproveMapping', id.thingAgent, ['av-p']);
    assert.equal(approved.approvedBy?.principal, 'agent-t1');
  });

  it('the owner rejects a proposal: UNMAPPED with the reason, no longer listed', async () => {
    await w.chain.submit(w.avatar, 'MapAvatar', id.aAdmin, [proposal('av-p')]);
    await rejects(w.chain.submit(w.avatar, 'RejectMapping', id.aAdmin, ['av-p', 'mine']), 'DENIED', 'may reject a mapping');
    const rejected = await w.chain.submit<Avatar>(w.avatar, 'RejectMapping', id.alice, ['av-p', 'not this game']);
    assert.equal(rejected.status, 'UNMAPPED');
    assert.equal(rejected.statusReason, 'not this game');
    assert.deepEqual(await w.chain.evaluate<Avatar[]>(w.avatar, 'ListAvatarsOfThing', id.bob, ['watch-1', 'mv-a']), []);
    await rejects(w.chain.submit(w.avatar, 'ApproveMapping', id.alice, ['av-p']), 'CONFLICT', 'is UNMAPPED');
  });

  it('approval re-checks the thing: a policy that no longer allows the metaverse, or a suspended thing, is refused', async () => {
    await w.chain.submit(w.avatar, 'MapAvatar', id.aAdmin, [proposal('av-p')]);
    await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { allowedMetaverses: ['mv-b'] }]);
    await rejects(w.chain.submit(w.avatar, 'ApproveMapping', id.alice, ['av-p']), 'DENIED', 'does not allow metaverse mv-a');
    await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { allowedMetaverses: ['mv-a'] }]);
    await w.chain.submit(w.thing, 'SuspendThing', id.alice, ['watch-1', 'lost']);
    await rejects(w.chain.submit(w.avatar, 'ApproveMapping', id.alice, ['av-p']), 'DENIED', 'is SUSPENDED');
  });

  it('attack: an avatar agent listed on nothing maps an avatar and does not become its agent, nor can it name agents', async () => {
    const mapped = await w.chain.submit<Avatar>(w.avatar, 'MapAvatar', id.aAgent, [proposal('av-g')]);
    assert.deepEqual(mapped.agents, []);
    await rejects(
      w.chain.submit(w.avatar, 'MapAvatar', id.aAgent, [proposal('av-h', { agents: ['a-agent'] })]),
      'DENIED',
      'an avatar agent maps avatars without naming agents',
    );
    await w.chain.submit(w.avatar, 'ApproveMapping', id.alice, ['av-g']);
    await rejects(w.chain.submit(w.avatar, 'SuspendAvatar', id.aAgent, ['av-g', 'mine now']), 'DENIED', 'is not the owner, an agent');
    assert.equal((await avatar('av-g')).status, 'ACTIVE');
  });
});

describe('trust rule 8: a principal that bound its key is that key', () => {
  let w: World;
  const identity = new IdentityContract();
  // the same principal with two keys: the one alice binds, and a second certificate her CA could issue
  const alice = { ...id.alice, certificate: dpm1Certificate };
  const aliceOtherKey = { ...id.alice, certificate: dpm2Certificate };

  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.chain.submit(w.avatar, 'MapAvatar', id.aAdmin, [proposal('av-p')]);
  });

  it('S1: after binding, another certificate naming the owner cannot consent; the bound key can', async () => {
    const bound = await w.chain.submit<PrincipalKey>(identity, 'BindPrincipalKey', alice);
    assert.equal(bound.principal, 'alice');
    assert.equal(bound.mspId, 'IoTPlatformMSP');
    assert.match(bound.spkiSha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(await w.chain.evaluate(identity, 'GetPrincipalKey', id.auditor, ['IoTPlatformMSP', 'alice']), bound);
    const before = await w.chain.evaluate<Avatar>(w.avatar, 'GetAvatar', id.auditor, ['av-p']);
    await rejects(
      w.chain.submit(w.avatar, 'ApproveMapping', aliceOtherKey, ['av-p']),
      'DENIED',
      /<alice: not its bound key>@IoTPlatformMSP \(role creator\)/,
    );
    assert.deepEqual(await w.chain.evaluate<Avatar>(w.avatar, 'GetAvatar', id.auditor, ['av-p']), before);
    // the owner's other rights go with the key too
    await rejects(w.chain.submit(w.thing, 'SuspendThing', aliceOtherKey, ['watch-1', 'x']), 'DENIED');
    assert.equal((await w.chain.submit<Avatar>(w.avatar, 'ApproveMapping', alice, ['av-p'])).status, 'ACTIVE');
  });

  it('attack: the binding is the principal’s own — a second key cannot bind, unbind or take it; the admin cannot unbind it', async () => {
    await w.chain.submit(identity, 'BindPrincipalKey', alice);
    await rejects(w.chain.submit(identity, 'BindPrincipalKey', alice), 'CONFLICT', 'already has a bound key');
    await rejects(w.chain.submit(identity, 'BindPrincipalKey', aliceOtherKey), 'DENIED', 'needs a certificate naming its principal');
    await rejects(w.chain.submit(identity, 'UnbindPrincipalKey', aliceOtherKey), 'DENIED', 'only the key bound to alice');
    await rejects(w.chain.submit(identity, 'UnbindPrincipalKey', id.iotAdmin), 'NOT_FOUND', 'no key is bound to principal iot-admin');
    await rejects(w.chain.submit(identity, 'BindPrincipalKey', id.dpm1), 'DENIED', 'platform:BindProviderIdentity');
    // the bound key unbinds: then any certificate naming alice is alice again
    await w.chain.submit(identity, 'UnbindPrincipalKey', alice);
    await rejects(w.chain.evaluate(identity, 'GetPrincipalKey', id.auditor, ['IoTPlatformMSP', 'alice']), 'NOT_FOUND');
    assert.equal((await w.chain.submit<Avatar>(w.avatar, 'ApproveMapping', aliceOtherKey, ['av-p'])).status, 'ACTIVE');
  });
});
