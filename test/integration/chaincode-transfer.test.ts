/**
 * X3/R3 double verification on the real network: a transfer key carries a key-level (state-based)
 * endorsement policy naming both metaverse organisations. Only Fabric's validator can prove that a
 * step endorsed by one metaverse alone (plus a third org, which satisfies the chaincode policy) is
 * invalidated at commit while the same step endorsed by both commits.
 */
import { StatusCode } from '@hyperledger/fabric-gateway';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  DAY,
  evaluate,
  IOT,
  isoIn,
  MVA,
  MVB,
  ok,
  refused,
  statusName,
  submit,
  type Actor,
  type World,
} from './support/domain.js';

interface Transfer {
  transferId: string;
  status: string;
  endorsingMsps: string[];
  steps: { status: string; txId: string }[];
}

describe('chaincode transfer on the real network (X3, R3: state-based endorsement)', () => {
  let w: World;
  let requester: Actor;
  let transferId: string;
  let dataId: string;
  let dataSha: string;

  before(async () => {
    w = await buildWorld('x3');
    requester = await actor(MVA, 'creator');
    dataId = `d-${w.run}`;
    // data of the avatar in MetaverseA: A holds it, so A's avatar is the transfer's source (trust rule 3)
    const input = { ...anchorInput(w, dataId), avatarId: w.avatarId };
    dataSha = input.sha256;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(input)]);
    transferId = `tr-${w.run}`;
  });
  after(() => {
    w?.close();
    requester?.conn.close();
  });

  const request = () =>
    JSON.stringify({
      transferId,
      kind: 'MOVE',
      sourceAvatarId: w.avatarId,
      targetMetaverseId: w.mvbId,
      dataId,
      dataSha256: dataSha,
      purpose: 'gameplay',
      expiresAt: isoIn(DAY),
    });
  const read = (a: Actor = w.mvbAdmin) => evaluate<Transfer>(a.cc('transfer'), 'GetTransfer', [transferId]);

  it("A1/X5: a metaverse creator without a grant cannot request the transfer; with the owner's share grant it can", async () => {
    const denied = await refused(() => submit(requester.cc('transfer'), 'RequestTransfer', [request()]));
    assert.match(denied, /DENIED: /);
    assert.match(denied, new RegExp(`${requester.principal}@${MVA}`));

    await ok(w.alice.cc('access'), 'CreateGrant', [
      JSON.stringify({
        grantId: `g-${w.run}`,
        resourceType: 'THING',
        resourceId: w.thingId,
        grantee: { type: 'PRINCIPAL', id: requester.principal, mspId: MVA },
        actions: ['share'],
        purpose: 'gameplay',
        validUntil: isoIn(DAY),
      }),
    ]);
    const { value } = await ok<Transfer>(requester.cc('transfer'), 'RequestTransfer', [request()]);
    assert.equal(value.status, 'REQUESTED');
    assert.deepEqual(value.endorsingMsps, [MVA, MVB]);
  });

  it('X3/R3: the source approval endorsed by MetaverseA + IoT only (chaincode policy met) is invalidated at commit with ENDORSEMENT_POLICY_FAILURE', async () => {
    const tx = await submit(w.mvaAdmin.cc('transfer'), 'ApproveTransferAsSource', [transferId], { endorsingOrganizations: [MVA, IOT] });
    assert.equal(tx.successful, false, 'one metaverse alone must not move a transfer forward');
    assert.equal(tx.code, StatusCode.ENDORSEMENT_POLICY_FAILURE, `status ${statusName(tx.code)}`);
    // the endorsers simulated success: the chaincode accepted the caller, only the key-level policy refused
    assert.equal((JSON.parse(tx.result) as Transfer).status, 'SOURCE_APPROVED');
    const now = await read();
    assert.equal(now.status, 'REQUESTED', 'the invalidated transaction must not change the transfer');
    assert.equal(now.steps.length, 1);
  });

  it('X3/R3: the same source approval endorsed by MetaverseA + MetaverseB commits', async () => {
    const tx = await submit(w.mvaAdmin.cc('transfer'), 'ApproveTransferAsSource', [transferId], { endorsingOrganizations: [MVA, MVB] });
    assert.equal(tx.successful, true, `status ${statusName(tx.code)}`);
    const now = await read();
    assert.equal(now.status, 'SOURCE_APPROVED');
    assert.equal(now.steps.at(-1)!.txId, tx.txId);
  });

  it('X3/R3: the target approval endorsed by MetaverseB + IoT only is invalidated too; with both metaverses it commits', async () => {
    const alone = await submit(w.mvbAdmin.cc('transfer'), 'ApproveTransferAsTarget', [transferId], { endorsingOrganizations: [MVB, IOT] });
    assert.equal(alone.successful, false);
    assert.equal(alone.code, StatusCode.ENDORSEMENT_POLICY_FAILURE, `status ${statusName(alone.code)}`);
    assert.equal((await read()).status, 'SOURCE_APPROVED');

    const both = await submit(w.mvbAdmin.cc('transfer'), 'ApproveTransferAsTarget', [transferId], { endorsingOrganizations: [MVA, MVB] });
    assert.equal(both.successful, true, `status ${statusName(both.code)}`);
    assert.equal((await read()).status, 'TARGET_APPROVED');
  });

  it("X3: the owner's consent (Gateway picks the endorsers from the key-level policy) and a single execution bound to the hash commit; a second execution is refused", async () => {
    const consent = await submit(w.alice.cc('transfer'), 'ConsentTransfer', [transferId]);
    assert.equal(consent.successful, true, `consent status ${statusName(consent.code)}`);
    assert.equal((await read(w.alice)).status, 'CONSENTED');

    const exec = await submit(w.mvbAdmin.cc('transfer'), 'ExecuteTransfer', [transferId, dataSha], { endorsingOrganizations: [MVA, MVB] });
    assert.equal(exec.successful, true, `execute status ${statusName(exec.code)}`);
    const done = await read();
    assert.equal(done.status, 'EXECUTED');
    assert.deepEqual(
      done.steps.map((s) => s.status),
      ['REQUESTED', 'SOURCE_APPROVED', 'TARGET_APPROVED', 'CONSENTED', 'EXECUTED'],
    );
    const data = await evaluate<{ stage: string }>(w.alice.cc('data'), 'GetData', [dataId]);
    assert.equal(data.stage, 'SHARED');

    const again = await refused(() =>
      submit(w.mvbAdmin.cc('transfer'), 'ExecuteTransfer', [transferId, dataSha], { endorsingOrganizations: [MVA, MVB] }),
    );
    assert.match(again, /CONFLICT: transfer /);
  });
});
