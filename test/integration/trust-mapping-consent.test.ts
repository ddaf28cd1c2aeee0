/**
 * Trust rule 8 on the real network, the owners' and agents' part (X1, X3, S1), played with raw
 * fabric-gateway clients as a hostile member would:
 * - an avatar agent listed on nothing maps an avatar of someone's thing: the avatar is PENDING,
 *   the agent is not its controller, and neither it, its metaverse's admin nor the thing
 *   platform's admin can agree for the owner — only the owner does;
 * - the thing platform's admin has its CA issue a second certificate naming the owner: once the
 *   owner bound its key, that certificate consents to nothing and cannot take the binding.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { actor, buildWorld, evaluate, IOT, MVA, ok, refused, type Actor, type World } from './support/domain.js';

interface Avatar {
  avatarId: string;
  status: string;
  agents: string[];
  approvedBy?: { principal: string; mspId: string };
}
interface PrincipalKey {
  mspId: string;
  principal: string;
  spkiSha256: string;
}

describe('trust rule 8: a mapping needs the owner, and an owner is its bound key (real network)', () => {
  let w: World;
  let agent: Actor;
  let auditor: Actor;
  let impostor: Actor;
  let n = 0;
  const avatarOf = (avatarId: string) => evaluate<Avatar>(auditor.cc('avatar'), 'GetAvatar', [avatarId]);
  const propose = async (by: Actor) => {
    const avatarId = `av-${w.run}-${++n}`;
    const input = { avatarId, thingId: w.thingId, metaverseId: w.mvaId, mode: 'ACTIVE', capabilityLevel: 3 };
    await ok(by.cc('avatar'), 'MapAvatar', [JSON.stringify(input)]);
    return avatarId;
  };

  before(async () => {
    w = await buildWorld('consent');
    [agent, auditor] = await Promise.all([actor(MVA, 'avatar-agent'), actor(IOT, 'auditor')]);
    // what the IoT platform's admin can always do: its CA issues another certificate naming the owner
    impostor = await actor(IOT, 'creator', w.alice.principal);
  });

  after(() => {
    w?.close();
    for (const a of [agent, auditor, impostor]) a?.conn.close();
  });

  it('X1 attack: an avatar agent listed on nothing maps an avatar — PENDING, not its agent; nobody but the owner agrees', async () => {
    const avatarId = await propose(agent);
    const before = await avatarOf(avatarId);
    assert.equal(before.status, 'PENDING');
    assert.deepEqual(before.agents, []);
    for (const who of [agent, w.mvaAdmin, w.iotAdmin]) {
      const reason = await refused(() => ok(who.cc('avatar'), 'ApproveMapping', [avatarId]));
      assert.match(reason, /DENIED: only the owner of thing .* or a thing agent it lists may approve a mapping/);
    }
    const suspend = await refused(() => ok(agent.cc('avatar'), 'SuspendAvatar', [avatarId, 'mine']));
    assert.match(suspend, /DENIED: .* is not the owner, an agent or an MetaverseAMSP admin of avatar/);
    const naming = await refused(() =>
      ok(agent.cc('avatar'), 'MapAvatar', [
        JSON.stringify({
          avatarId: `${avatarId}-x`,
          thingId: w.thingId,
          metaverseId: w.mvaId,
          mode: 'ACTIVE',
          capabilityLevel: 1,
          agents: [agent.principal],
        }),
      ]),
    );
    assert.match(naming, /DENIED: an avatar agent maps avatars without naming agents/);
    assert.deepEqual(await avatarOf(avatarId), before, 'the refused steps changed nothing');
    await ok(w.alice.cc('avatar'), 'ApproveMapping', [avatarId]);
    const approved = await avatarOf(avatarId);
    assert.equal(approved.status, 'ACTIVE');
    assert.deepEqual(approved.approvedBy && [approved.approvedBy.principal, approved.approvedBy.mspId], [w.alice.principal, IOT]);
    // approved, the agent is still not its controller
    assert.match(await refused(() => ok(agent.cc('avatar'), 'SuspendAvatar', [avatarId, 'mine'])), /DENIED: .* is not the owner, an agent/);
  });

  it('S1 attack: a second certificate naming the owner consents while no key is bound — not after the owner binds hers', async () => {
    // without a binding, the principal attribute is all the ledger has (the case rule 8 closes)
    const early = await propose(w.mvaAdmin);
    await ok(impostor.cc('avatar'), 'ApproveMapping', [early]);
    assert.equal((await avatarOf(early)).approvedBy?.principal, w.alice.principal);

    const { value: bound } = await ok<PrincipalKey>(w.alice.cc('identity'), 'BindPrincipalKey', []);
    assert.deepEqual([bound.mspId, bound.principal], [IOT, w.alice.principal]);
    assert.deepEqual(await evaluate(auditor.cc('identity'), 'GetPrincipalKey', [IOT, w.alice.principal]), bound);

    const avatarId = await propose(w.mvaAdmin);
    const before = await avatarOf(avatarId);
    const reason = await refused(() => ok(impostor.cc('avatar'), 'ApproveMapping', [avatarId]));
    assert.match(reason, /DENIED: only the owner .* caller is <.*: not its bound key>@IoTPlatformMSP/);
    for (const fn of ['BindPrincipalKey', 'UnbindPrincipalKey']) {
      assert.match(await refused(() => ok(impostor.cc('identity'), fn, [])), /DENIED: /, `${fn} by the impostor`);
    }
    assert.match(await refused(() => ok(impostor.cc('thing'), 'SuspendThing', [w.thingId, 'x'])), /DENIED: /);
    assert.deepEqual(await avatarOf(avatarId), before);
    assert.deepEqual(await evaluate(auditor.cc('identity'), 'GetPrincipalKey', [IOT, w.alice.principal]), bound);
    await ok(w.alice.cc('avatar'), 'ApproveMapping', [avatarId]);
    assert.equal((await avatarOf(avatarId)).status, 'ACTIVE');
  });

  it('the bound key moves the binding to a new key of the same principal and CA; then only the new key acts', async () => {
    const { value: moved } = await ok<PrincipalKey>(w.alice.cc('identity'), 'RebindPrincipalKey', [impostor.certificate]);
    const avatarId = await propose(w.mvaAdmin);
    assert.match(await refused(() => ok(w.alice.cc('avatar'), 'ApproveMapping', [avatarId])), /not its bound key/);
    await ok(impostor.cc('avatar'), 'ApproveMapping', [avatarId]);
    assert.equal((await avatarOf(avatarId)).status, 'ACTIVE');
    // give the binding back so the world's owner acts again, and leave the principal unbound
    await ok(impostor.cc('identity'), 'RebindPrincipalKey', [w.alice.certificate]);
    await ok(w.alice.cc('identity'), 'UnbindPrincipalKey', []);
    assert.notEqual(moved.spkiSha256, '');
    assert.match(await refused(() => evaluate(auditor.cc('identity'), 'GetPrincipalKey', [IOT, w.alice.principal])), /NOT_FOUND/);
  });
});
