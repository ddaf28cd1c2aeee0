/**
 * Rule 2 on the real network (issue "Chaincode trust rules"): the attacker is a legitimate member
 * with its own raw @hyperledger/fabric-gateway client, choosing its proposal's timestamp. The
 * proposal is built by the SDK, its ChannelHeader.timestamp replaced, and only then signed (the
 * offline-signing path: `gateway.newProposal(bytes)`). Endorsers refuse a timestamp more than
 * 300 s from their own clock (INVALID), and expiry decisions lean to the safe side of that bound,
 * so neither backdating nor forward-dating within it buys an action the true time refuses; every
 * refusal leaves the ledger as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proposal } from '@hyperledger/fabric-gateway';
import { common, gateway as gw, peer } from '@hyperledger/fabric-protos';
import { actor, anchorInput, buildWorld, evaluate, IOT, MVB, ok, refused, settle, type Actor, type World } from './support/domain.js';
import { commitEndorsed, utf8 } from './support/network.js';

const S = 1000;

/** `fn` of `contractName` as `a`, proposed at `millis` (the client's clock, set in the signed header). */
function proposalAt(a: Actor, contractName: string, fn: string, args: string[], millis: number): Proposal {
  const built = a.cc(contractName).newProposal(fn, { arguments: args });
  const proposed = gw.ProposedTransaction.deserializeBinary(built.getBytes());
  const signed = proposed.getProposal()!;
  const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const ts = channelHeader.getTimestamp()!;
  ts.setSeconds(Math.floor(millis / 1000));
  ts.setNanos((millis % 1000) * 1e6);
  channelHeader.setTimestamp(ts);
  header.setChannelHeader(channelHeader.serializeBinary());
  proposal.setHeader(header.serializeBinary());
  signed.setProposalBytes(proposal.serializeBinary());
  proposed.setProposal(signed);
  // Unsigned until now: endorse()/evaluate() sign the digest of the rewritten proposal bytes.
  return a.conn.gateway.newProposal(proposed.serializeBinary());
}

/** Endorse and commit a crafted proposal; the parsed result. */
async function submitAt<T>(a: Actor, contractName: string, fn: string, args: string[], millis: number): Promise<T> {
  const tx = await proposalAt(a, contractName, fn, args, millis).endorse();
  const status = await commitEndorsed(tx);
  assert.equal(status.successful, true, `${fn} committed`);
  await settle(status.blockNumber);
  return JSON.parse(utf8(tx.getResult())) as T;
}

const evaluateAt = async <T>(a: Actor, contractName: string, fn: string, args: string[], millis: number): Promise<T> =>
  JSON.parse(utf8(await proposalAt(a, contractName, fn, args, millis).evaluate())) as T;

const sleepUntil = async (millis: number) => {
  while (Date.now() < millis) await new Promise((r) => setTimeout(r, Math.min(1000, millis - Date.now())));
};

interface Transfer {
  status: string;
  steps: unknown[];
  expiresAt: string;
}

describe('rule 2 on the real network: a member choosing its proposal timestamp (X3, A1, X7)', () => {
  let w: World;
  let bUser: Actor;
  let storageAgent: Actor;
  const extra: Actor[] = [];

  before(async () => {
    w = await buildWorld('t2');
    [bUser, storageAgent] = await Promise.all([actor(MVB, 'user'), actor(IOT, 'storage-agent')]);
    extra.push(bUser, storageAgent);
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify({ ...anchorInput(w, `d-${w.run}`), avatarId: w.avatarId })]);
  });
  after(() => {
    w?.close();
    for (const a of extra) a.conn.close();
  });

  it('A1/X6: a proposal backdated or forward-dated by more than 300 s is refused INVALID by the endorsers; the ledger is unchanged; inside the bound the crafted time is the record time', async () => {
    const platformId = `st-${w.run}`;
    const input = JSON.stringify({ platformId, type: 'STORAGE', name: platformId, capabilityLevel: 1 });
    const back = await refused(() => proposalAt(w.iotAdmin, 'platform', 'RegisterPlatform', [input], Date.now() - 3600 * S).endorse());
    assert.match(
      back,
      /INVALID: transaction timestamp \S+ is 3[56]\d\d s behind the endorser's clock \(\S+\); at most 300 s of clock skew is accepted/,
    );
    const ahead = await refused(() => proposalAt(w.iotAdmin, 'platform', 'RegisterPlatform', [input], Date.now() + 3600 * S).endorse());
    assert.match(ahead, /INVALID: transaction timestamp \S+ is 3[56]\d\d s ahead of the endorser's clock/);
    const evaluation = await refused(() =>
      proposalAt(w.alice, 'access', 'CheckAccess', ['THING', w.thingId, 'read', '*'], Date.now() - 3600 * S).evaluate(),
    );
    assert.match(evaluation, /INVALID: transaction timestamp .* behind the endorser's clock/, 'evaluations too');
    assert.match(
      await refused(() => evaluate(w.iotAdmin.cc('platform'), 'GetPlatform', [platformId])),
      /NOT_FOUND: /,
      'nothing was written',
    );

    const at = Date.now() - 120 * S;
    const p = await submitAt<{ createdAt: string }>(w.iotAdmin, 'platform', 'RegisterPlatform', [input], at);
    assert.equal(p.createdAt, new Date(at).toISOString(), 'the proposal timestamp really is the client-chosen one');
  });

  it('X3: a transfer that has truly expired cannot be executed by a proposal backdated within the bound (EXPIRED, nothing changes)', async () => {
    const transferId = `tr-${w.run}`;
    const dataId = `d-${w.run}`;
    const back = () => Date.now() - 295 * S; // parties steer clear of T − 300 s by backdating (allowed: within the bound)
    const expiresAt = Date.now() + 45 * S;
    const request = {
      transferId,
      kind: 'SHARE',
      sourceAvatarId: w.avatarId,
      targetMetaverseId: w.mvbId,
      dataId,
      dataSha256: anchorInput(w, dataId).sha256,
      purpose: 'gameplay',
      expiresAt: new Date(expiresAt).toISOString(),
    };
    await submitAt(w.alice, 'transfer', 'RequestTransfer', [JSON.stringify(request)], back());
    await submitAt(w.mvaAdmin, 'transfer', 'ApproveTransferAsSource', [transferId], back());
    await submitAt(w.mvbAdmin, 'transfer', 'ApproveTransferAsTarget', [transferId], back());
    await submitAt(w.alice, 'transfer', 'ConsentTransfer', [transferId], back());
    const consented = await evaluate<Transfer>(w.mvbAdmin.cc('transfer'), 'GetTransfer', [transferId]);
    assert.equal(consented.status, 'CONSENTED');

    await sleepUntil(expiresAt + 2 * S); // the transfer has now expired in true time
    const attack = await refused(() =>
      proposalAt(w.mvbAdmin, 'transfer', 'ExecuteTransfer', [transferId, request.dataSha256], back()).endorse(),
    );
    assert.match(
      attack,
      new RegExp(`EXPIRED: transfer ${transferId} expires at ${request.expiresAt}: no step from \\S+ \\(clock skew bound 300 s\\)`),
    );
    const honest = await refused(() =>
      proposalAt(w.mvbAdmin, 'transfer', 'ExecuteTransfer', [transferId, request.dataSha256], Date.now()).endorse(),
    );
    assert.match(honest, new RegExp(`EXPIRED: transfer ${transferId} expired at ${request.expiresAt}`));
    const far = await refused(() =>
      proposalAt(w.mvbAdmin, 'transfer', 'ExecuteTransfer', [transferId, request.dataSha256], Date.now() - 3600 * S).endorse(),
    );
    assert.match(far, /INVALID: transaction timestamp .* behind the endorser's clock/);

    const after = await evaluate<Transfer>(w.mvbAdmin.cc('transfer'), 'GetTransfer', [transferId]);
    assert.deepEqual(after, consented, 'the transfer record is as before');
    const data = await evaluate<{ stage: string }>(w.alice.cc('data'), 'GetData', [dataId]);
    assert.notEqual(data.stage, 'SHARED', 'no data moved');

    // Marking it expired: refused to a forward-dated proposal only before T + 300 s; honest now: also not yet.
    const early = await refused(() => proposalAt(w.mvaAdmin, 'transfer', 'ExpireTransfer', [transferId], Date.now()).endorse());
    assert.match(early, /CONFLICT: transfer \S+ expires at \S+, not yet: it can be marked expired from /);
  });

  it('A1: a grant that has truly expired is not used by a proposal backdated within the bound; a fresh one is', async () => {
    const grantId = `g-${w.run}`;
    const validUntil = Date.now() + 30 * S;
    const grant = {
      grantId,
      resourceType: 'THING',
      resourceId: w.thingId,
      grantee: { type: 'PRINCIPAL', id: bUser.principal, mspId: MVB },
      actions: ['read'],
      purpose: '*',
      validUntil: new Date(validUntil).toISOString(),
    };
    // the owner backdates the creation so that a 30-second grant is accepted (validUntil > time + 300 s)
    await submitAt(w.alice, 'access', 'CreateGrant', [JSON.stringify(grant)], Date.now() - 295 * S);
    const check = (millis: number) =>
      evaluateAt<{ allowed: boolean; reason: string }>(bUser, 'access', 'CheckAccess', ['THING', w.thingId, 'read', 'analytics'], millis);
    assert.equal((await check(Date.now() - 295 * S)).allowed, true, 'usable while more than 300 s before expiry (in the chosen time)');
    const before = await evaluate(w.alice.cc('access'), 'GetGrant', [grantId]);

    await sleepUntil(validUntil + 2 * S);
    const attack = await check(Date.now() - 295 * S);
    assert.equal(attack.allowed, false);
    assert.match(
      attack.reason,
      new RegExp(`grant ${grantId} expires at ${grant.validUntil}: refused from \\S+ \\(clock skew bound 300 s\\)`),
    );
    const honest = await check(Date.now());
    assert.match(honest.reason, new RegExp(`grant ${grantId} expired at ${grant.validUntil}`));
    assert.deepEqual(await evaluate(w.alice.cc('access'), 'GetGrant', [grantId]), before, 'the grant record is unchanged');
  });

  it('X7: retention: a forward-dated ExpireData cannot delete data anchored seconds earlier (INVALID beyond the bound, CONFLICT within); the anchor stays', async () => {
    const dataId = `d-r-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, dataId))]);
    const anchored = await evaluate<{ stage: string; createdAt: string; updatedAt: string }>(w.alice.cc('data'), 'GetData', [dataId]);
    const due = Date.parse(anchored.createdAt) + 30 * 24 * 3600 * S; // the world's thing keeps data 30 days
    const far = await refused(() => proposalAt(storageAgent, 'data', 'ExpireData', [dataId], due + 60 * S).endorse());
    assert.match(far, /INVALID: transaction timestamp .* ahead of the endorser's clock/);
    const near = await refused(() => proposalAt(storageAgent, 'data', 'ExpireData', [dataId], Date.now() + 299 * S).endorse());
    assert.match(
      near,
      new RegExp(
        `CONFLICT: data ${dataId} is kept until \\S+: thing ${w.thingId}'s policy keeps its data 30 days; it can be expired from `,
      ),
    );
    assert.deepEqual(await evaluate(w.alice.cc('data'), 'GetData', [dataId]), anchored, 'the anchor is unchanged');
  });
});
