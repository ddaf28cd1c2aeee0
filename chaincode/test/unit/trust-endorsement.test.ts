/**
 * Trust rule 9: records that belong to one organisation carry a key-level (state-based)
 * endorsement policy naming that organisation's peer, so the chaincode-level OutOf(2, …) met by
 * two other organisations is not enough to change them. The memory ledger checks key-level
 * policies at commit against the endorsing organisations, as Fabric's validator does.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { id, SHA_A, World } from '../support/fixtures';

const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';
const MVB = 'MetaverseBMSP';
const key = (type: string, ...attrs: string[]) => `\u0000${type}\u0000${attrs.map((a) => `${a}\u0000`).join('')}`;

/** The organisations the committed key-level policy of `k` requires ([] when it has none). */
function policyOf(w: World, k: string): string[] {
  const ep = w.chain.ledger.validationParams.get(k);
  return ep ? new KeyEndorsementPolicy(ep).listOrgs().sort() : [];
}

const valueOf = (w: World, k: string) => Buffer.from(w.chain.ledger.state.get(k) ?? []).toString();

describe('rule 9: records carry a key-level policy of the organisation they belong to', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.federate();
    await w.watch();
    await w.avatars();
  });

  it('X1/A2: an avatar and its thing index need the metaverse MSP; the thing and its owner index need the IoT MSP', () => {
    assert.deepEqual(policyOf(w, key('avatar', 'av-a1')), [MVA]);
    assert.deepEqual(policyOf(w, key('avatar~thing', 'watch-1', 'mv-a', 'av-a1')), [MVA]);
    assert.deepEqual(policyOf(w, key('avatar', 'av-b1')), [MVB]);
    assert.deepEqual(policyOf(w, key('thing', 'watch-1')), [IOT]);
    assert.deepEqual(policyOf(w, key('thing~owner', IOT, 'alice', 'watch-1')), [IOT]);
  });

  it('R5/A2: a peer organisation’s platform (and its metaverse index) needs its MSP; a DPM platform (no peer) has no key-level policy', () => {
    assert.deepEqual(policyOf(w, key('platform', 'mv-a')), [MVA]);
    assert.deepEqual(policyOf(w, key('platform~metaverse~msp', MVA)), [MVA]);
    assert.deepEqual(policyOf(w, key('platform', 'iot-1')), [IOT]);
    assert.deepEqual(policyOf(w, key('platform', 'dpm-1')), []);
  });

  it('X5/F2: data anchored at an avatar needs the avatar’s MSP; thing-level data the owner’s; a batch the thing’s', async () => {
    await w.anchor('d-av', SHA_A, { avatarId: 'av-a1' });
    await w.anchor('d-thing');
    assert.deepEqual(policyOf(w, key('data', 'd-av')), [MVA]);
    assert.deepEqual(policyOf(w, key('data~thing', 'watch-1', 'd-av')), [MVA]);
    assert.deepEqual(policyOf(w, key('data', 'd-thing')), [IOT]);
    await w.chain.submit(w.data, 'AnchorBatch', id.alice, [
      {
        batchId: 'b-1',
        thingId: 'watch-1',
        merkleRoot: SHA_A,
        leafCount: 2,
        firstReadingAt: '2025-03-01T09:00:00Z',
        lastReadingAt: '2025-03-01T09:30:00Z',
      },
    ]);
    assert.deepEqual(policyOf(w, key('batch', 'b-1')), [IOT]);
  });

  it('A1: a grant (and its resource copy) needs the MSP of the record it is on, also when the thing’s owner issued it', async () => {
    const grant = (grantId: string, resourceType: string, resourceId: string) => ({
      grantId,
      resourceType,
      resourceId,
      grantee: { type: 'MSP', id: MVB },
      actions: ['read'],
      purpose: '*',
      validUntil: '2025-03-10T00:00:00Z',
    });
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [grant('g-av', 'AVATAR', 'av-a1')]);
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [grant('g-th', 'THING', 'watch-1')]);
    assert.deepEqual(policyOf(w, key('grant', 'g-av')), [MVA]);
    assert.deepEqual(policyOf(w, key('grant~resource', 'AVATAR', 'av-a1', 'g-av')), [MVA]);
    assert.deepEqual(policyOf(w, key('grant', 'g-th')), [IOT]);
  });

  it('X1: a change to a MetaverseA avatar endorsed by IoT + MetaverseB only fails at commit and changes nothing; with MetaverseA it commits', async () => {
    const k = key('avatar', 'av-a1');
    const before = valueOf(w, k);
    await assert.rejects(
      w.chain.submit(w.avatar, 'SuspendAvatar', id.aAdmin, ['av-a1', 'forged'], { endorsers: [IOT, MVB] }),
      /ENDORSEMENT_POLICY_FAILURE: key-level policy of .*avatar.*needs MetaverseAMSP/,
    );
    assert.equal(valueOf(w, k), before);
    await w.chain.submit(w.avatar, 'SuspendAvatar', id.aAdmin, ['av-a1', 'lost'], { endorsers: [MVA, IOT] });
    assert.match(valueOf(w, k), /"status":"SUSPENDED"/);
  });

  it('F4: a change to a thing endorsed by MetaverseA + MetaverseB only fails at commit', async () => {
    const k = key('thing', 'watch-1');
    const before = valueOf(w, k);
    await assert.rejects(
      w.chain.submit(w.thing, 'SuspendThing', id.alice, ['watch-1', 'forged'], { endorsers: [MVA, MVB] }),
      /ENDORSEMENT_POLICY_FAILURE: .*needs IoTPlatformMSP/,
    );
    assert.equal(valueOf(w, k), before);
  });

  it('X5: a lifecycle step on data held by a MetaverseA avatar endorsed by IoT + MetaverseB only fails at commit', async () => {
    await w.anchor('d-av', SHA_A, { avatarId: 'av-a1' });
    const k = key('data', 'd-av');
    const before = valueOf(w, k);
    await assert.rejects(
      w.chain.submit(w.data, 'RecordLifecycle', id.alice, ['d-av', 'STORED', '*', 'stored'], { endorsers: [IOT, MVB] }),
      /ENDORSEMENT_POLICY_FAILURE: .*needs MetaverseAMSP/,
    );
    assert.equal(valueOf(w, k), before);
  });

  it('M1: activity records of the same transaction keep the chaincode-level policy (each is a new key)', async () => {
    const activity = [...w.chain.ledger.state.keys()].filter((k) => k.startsWith('\u0000activity'));
    assert.ok(activity.length > 0);
    for (const k of activity) assert.deepEqual(policyOf(w, k), [], `activity key ${JSON.stringify(k)} has a key-level policy`);
  });
});
