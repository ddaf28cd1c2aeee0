/**
 * Rule 6 on the real network (issue "Chaincode trust rules"): double verification needs two
 * different organisations and the owner's own consent. The attacker is a legitimate member (an
 * admin of MetaverseAMSP, a thing agent of IoTPlatformMSP) with its own raw fabric-gateway
 * client; each refusal carries the chaincode's code and reason, and the ledger is unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  evaluate,
  IOT,
  isoIn,
  DAY,
  MVA,
  MVB,
  ok,
  refused,
  submit,
  type Actor,
  type World,
} from './support/domain.js';

interface Platform {
  platformId: string;
  status: string;
  mspId: string;
}
interface Transfer {
  status: string;
  steps: unknown[];
  owner: string;
  ownerMspId: string;
}

describe('rule 6 on the real network: distinct parties (X3, R5, A2)', () => {
  let w: World;
  const extra: Actor[] = [];
  const extraActor = async (mspId: string, role: string, principal?: string) => {
    const a = await actor(mspId, role, principal);
    extra.push(a);
    return a;
  };

  before(async () => {
    w = await buildWorld('r6');
  });
  after(() => {
    w?.close();
    for (const a of extra) a.conn.close();
  });

  it('X3/R5: an MSP that runs an ACTIVE metaverse platform cannot register a second one (DENIED); nothing is written', async () => {
    const second = `mv2-${w.run}`;
    const reason = await refused(() =>
      submit(w.mvaAdmin.cc('platform'), 'RegisterPlatform', [
        JSON.stringify({ platformId: second, type: 'METAVERSE', name: 'second', capabilityLevel: 3 }),
      ]),
    );
    assert.match(
      reason,
      new RegExp(`DENIED: ${MVA} already runs metaverse platform ${w.mvaId} \\(ACTIVE\\); an organisation runs one metaverse platform`),
    );
    assert.match(await refused(() => evaluate(w.mvbAdmin.cc('platform'), 'GetPlatform', [second])), /NOT_FOUND: /);
    const current = await evaluate<Platform>(w.iotAdmin.cc('platform'), 'GetMetaverseOfMsp', [MVA]);
    assert.equal(current.platformId, w.mvaId);
    assert.equal(current.status, 'ACTIVE');
  });

  it('X3: one organisation cannot approve both sides of a transfer, nor consent for the owner; the transfer stays where it was', async () => {
    const dataId = `d-${w.run}`;
    const transferId = `tr-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify({ ...anchorInput(w, dataId), avatarId: w.avatarId })]);
    await ok(w.alice.cc('transfer'), 'RequestTransfer', [
      JSON.stringify({
        transferId,
        kind: 'SHARE',
        sourceAvatarId: w.avatarId,
        targetMetaverseId: w.mvbId,
        dataId,
        dataSha256: anchorInput(w, dataId).sha256,
        purpose: 'gameplay',
        expiresAt: isoIn(DAY),
      }),
    ]);
    await ok(w.mvaAdmin.cc('transfer'), 'ApproveTransferAsSource', [transferId]);
    const before = await evaluate<Transfer>(w.mvaAdmin.cc('transfer'), 'GetTransfer', [transferId]);
    assert.equal(before.status, 'SOURCE_APPROVED');
    assert.equal(before.owner, w.alice.principal, "the owner is the thing's, as the ledger recorded it");
    assert.equal(before.ownerMspId, IOT);

    const asTarget = await refused(() => submit(w.mvaAdmin.cc('transfer'), 'ApproveTransferAsTarget', [transferId]));
    assert.match(asTarget, new RegExp(`DENIED: approving transfer ${transferId} as target needs an admin of ${MVB}`));
    // an identity of another organisation carrying the owner's principal name is not the owner
    const lookalike = await extraActor(MVA, 'user', w.alice.principal);
    await ok(w.mvbAdmin.cc('transfer'), 'ApproveTransferAsTarget', [transferId], { endorsingOrganizations: [MVA, MVB] });
    const approved = await evaluate<Transfer>(w.mvaAdmin.cc('transfer'), 'GetTransfer', [transferId]);
    for (const who of [lookalike, w.mvaAdmin, w.iotAdmin]) {
      const consent = await refused(() => submit(who.cc('transfer'), 'ConsentTransfer', [transferId]));
      assert.match(consent, new RegExp(`DENIED: only owner ${w.alice.principal}@${IOT} may consent to transfer ${transferId}`));
    }
    assert.deepEqual(await evaluate(w.mvaAdmin.cc('transfer'), 'GetTransfer', [transferId]), approved, 'unchanged by the refusals');
    const consented = await ok<Transfer>(w.alice.cc('transfer'), 'ConsentTransfer', [transferId]);
    assert.equal(consented.value.status, 'CONSENTED');
  });

  it('A2: a thing agent registers things only for owners its organisation knows on the ledger; an agent of another MSP not at all', async () => {
    const agent = await extraActor(IOT, 'thing-agent');
    const thing = (thingId: string, owner: string) =>
      JSON.stringify({
        thingId,
        platformId: w.iotId,
        kind: 'SENSOR',
        accessMode: 'AUTONOMOUS',
        publicKey: `pk-${thingId}`,
        owner,
        classification: 'PUBLIC',
      });
    const stranger = `mallory-${w.run}`;
    const t1 = `t-m-${w.run}`;
    const reason = await refused(() => submit(agent.cc('thing'), 'RegisterThing', [thing(t1, stranger)]));
    assert.match(
      reason,
      new RegExp(
        `DENIED: a thing agent registers things only for owners of its own organisation known on the ledger; ${stranger} owns no thing in ${IOT}`,
      ),
    );
    assert.match(await refused(() => evaluate(w.iotAdmin.cc('thing'), 'GetThing', [t1])), /NOT_FOUND: /);

    const foreign = await extraActor(MVA, 'thing-agent');
    const t2 = `t-f-${w.run}`;
    const other = await refused(() => submit(foreign.cc('thing'), 'RegisterThing', [thing(t2, w.alice.principal)]));
    // trust rule 1 refuses it first: MetaverseAMSP may not issue thing-agent identities at all
    assert.match(other, new RegExp(`DENIED: role thing-agent from ${MVA} is not recognised: only ${IOT} may issue thing-agent`));

    // alice registered the world's thing herself: she is a known owner of IoTPlatformMSP
    const t3 = `t-a-${w.run}`;
    const { value } = await ok<{ owner: string; mspId: string }>(agent.cc('thing'), 'RegisterThing', [thing(t3, w.alice.principal)]);
    assert.equal(value.owner, w.alice.principal);
    assert.equal(value.mspId, IOT, 'the owner is bound to the registering organisation');
  });

  it('X3/R5: replacing the metaverse does not give one MSP two federable platforms: the old one stays suspended while the new one is ACTIVE', async () => {
    const second = `mv2-${w.run}`;
    await ok(w.mvaAdmin.cc('platform'), 'SuspendPlatform', [w.mvaId, 'replaced']);
    await ok(w.mvaAdmin.cc('platform'), 'RegisterPlatform', [
      JSON.stringify({ platformId: second, type: 'METAVERSE', name: 'second', capabilityLevel: 3 }),
    ]);
    const resume = await refused(() => submit(w.mvaAdmin.cc('platform'), 'ResumePlatform', [w.mvaId]));
    assert.match(resume, new RegExp(`DENIED: ${MVA} already runs metaverse platform ${second} \\(ACTIVE\\)`));
    const old = await evaluate<Platform>(w.mvbAdmin.cc('platform'), 'GetPlatform', [w.mvaId]);
    assert.equal(old.status, 'SUSPENDED', 'the refused resume changed nothing');
    const fed = await refused(() => submit(w.mvaAdmin.cc('platform'), 'ProposeFederation', [second, w.mvaId, 'self']));
    assert.match(fed, new RegExp(`CONFLICT: platform ${w.mvaId} is SUSPENDED`));
    assert.match(await refused(() => evaluate(w.mvbAdmin.cc('platform'), 'GetFederation', [second, w.mvaId])), /NOT_FOUND: /);
  });
});
