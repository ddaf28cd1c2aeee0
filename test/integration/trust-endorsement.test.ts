/**
 * Trust rule 9 on the real network: records that belong to one organisation (a metaverse's
 * avatars and the data anchored at them, an IoT organisation's things) carry a key-level
 * (state-based) endorsement policy naming that organisation's peer. The chaincode-level policy
 * OutOf(2, IoT, MetaverseA, MetaverseB) is met by two other organisations; only Fabric's validator
 * can show that such a write, simulated successfully, is invalidated at commit
 * (ENDORSEMENT_POLICY_FAILURE) and changes nothing — while the same write submitted through the
 * Gateway, which discovers the key-level policy itself, commits.
 */
import { StatusCode } from '@hyperledger/fabric-gateway';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { anchorInput, buildWorld, evaluate, IOT, MVA, MVB, ok, statusName, submit, type World } from './support/domain.js';

interface Avatar {
  avatarId: string;
  status: string;
  statusReason?: string;
}
interface Thing {
  thingId: string;
  status: string;
}
interface DataAnchor {
  dataId: string;
  stage: string;
  lifecycle: unknown[];
}

describe('trust rule 9: key-level endorsement of records that belong to one organisation (real network)', () => {
  let w: World;
  let dataId: string;

  before(async () => {
    w = await buildWorld('r9');
    dataId = `d-${w.run}`;
    // data the owner anchors at the MetaverseA avatar: held by MetaverseA (rule 3)
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify({ ...anchorInput(w, dataId), avatarId: w.avatarId })]);
  });
  after(() => w?.close());

  const avatar = () => evaluate<Avatar>(w.mvaAdmin.cc('avatar'), 'GetAvatar', [w.avatarId]);

  it('X1/A2: a change to a MetaverseA avatar endorsed by IoT + MetaverseB only (chaincode policy met) is INVALID at commit; the avatar is unchanged', async () => {
    const before = await avatar();
    assert.equal(before.status, 'ACTIVE');
    // the thing's owner controls the avatar, so both endorsers' chaincode accepts the call
    const tx = await submit(w.alice.cc('avatar'), 'SuspendAvatar', [w.avatarId, 'without MetaverseA'], {
      endorsingOrganizations: [IOT, MVB],
    });
    assert.equal(tx.successful, false, 'two other organisations must not change a MetaverseA avatar');
    assert.equal(tx.code, StatusCode.ENDORSEMENT_POLICY_FAILURE, `status ${statusName(tx.code)}`);
    assert.equal((JSON.parse(tx.result) as Avatar).status, 'SUSPENDED', 'the endorsers simulated success');
    assert.deepEqual(await avatar(), before, 'the invalidated transaction must not change the avatar');
  });

  it('X1: the same change submitted through the Gateway (which discovers the key-level policy) commits', async () => {
    const { value, tx } = await ok<Avatar>(w.alice.cc('avatar'), 'SuspendAvatar', [w.avatarId, 'lost']);
    assert.ok(tx.successful);
    assert.equal(value.status, 'SUSPENDED');
    assert.equal((await avatar()).status, 'SUSPENDED');
    await ok(w.mvaAdmin.cc('avatar'), 'ResumeAvatar', [w.avatarId]);
    assert.equal((await avatar()).status, 'ACTIVE');
  });

  it('X5/F2: a lifecycle step on data held by the MetaverseA avatar endorsed by IoT + MetaverseB only is INVALID at commit; with discovery it commits', async () => {
    const read = () => evaluate<DataAnchor>(w.alice.cc('data'), 'GetData', [dataId]);
    const before = await read();
    const args = [dataId, 'STORED', '*', 'stored at the metaverse'];
    const tx = await submit(w.alice.cc('data'), 'RecordLifecycle', args, { endorsingOrganizations: [IOT, MVB] });
    assert.equal(tx.successful, false);
    assert.equal(tx.code, StatusCode.ENDORSEMENT_POLICY_FAILURE, `status ${statusName(tx.code)}`);
    assert.deepEqual(await read(), before, 'the data anchor is unchanged');
    const { value } = await ok<DataAnchor>(w.alice.cc('data'), 'RecordLifecycle', args);
    assert.equal(value.stage, 'STORED');
    assert.equal((await read()).lifecycle.length, before.lifecycle.length + 1);
  });

  it('F4: a change to an IoT thing endorsed by MetaverseA + MetaverseB only is INVALID at commit; the thing stays ACTIVE', async () => {
    const read = () => evaluate<Thing>(w.alice.cc('thing'), 'GetThing', [w.thingId]);
    const before = await read();
    const tx = await submit(w.alice.cc('thing'), 'SuspendThing', [w.thingId, 'without IoT'], { endorsingOrganizations: [MVA, MVB] });
    assert.equal(tx.successful, false);
    assert.equal(tx.code, StatusCode.ENDORSEMENT_POLICY_FAILURE, `status ${statusName(tx.code)}`);
    assert.deepEqual(await read(), before);
  });

  it('M1: an invalidated write leaves no activity (its activity keys, under the chaincode-level policy, are not committed either)', async () => {
    const page = await evaluate<{ items: { action: string; details: string }[] }>(w.mvaAdmin.cc('audit'), 'QueryActivityBySubject', [
      'avatar',
      w.avatarId,
      '50',
      '',
    ]);
    const suspensions = page.items.filter((r) => r.action === 'suspended');
    assert.equal(suspensions.length, 1, 'only the committed suspension is in the activity log');
    assert.ok(!page.items.some((r) => r.details.includes('without MetaverseA')));
  });
});
