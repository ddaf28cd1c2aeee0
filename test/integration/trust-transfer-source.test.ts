/**
 * Trust rule 3 on the real network, played by a hostile member with a raw fabric-gateway client
 * (no project gateway): MetaverseB names its own avatar as the source of data MetaverseA holds,
 * towards a second metaverse of its own whose capability is below the data's classification, so
 * that it could approve both sides itself. The chaincode refuses, with the reason, and the ledger
 * is as before: no transfer, the data anchor unchanged, no new activity on the data.
 */
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
  mapAvatar,
  MVA,
  MVB,
  ok,
  refused,
  registerMetaverse,
  submit,
  type Actor,
  type World,
} from './support/domain.js';

interface Page {
  items: { action: string; txId: string }[];
  bookmark: string;
}

describe('trust rule 3 on the real network: a transfer’s source is the data’s holder (X3, X2, A1)', () => {
  let w: World;
  let auditor: Actor;
  let avB: string;
  let mvb2: string;
  let held: string;
  let restricted: string;
  const sha: Record<string, string> = {};

  before(async () => {
    w = await buildWorld('t3');
    auditor = await actor(IOT, 'auditor');
    avB = `avb-${w.run}`;
    mvb2 = `mvb2-${w.run}`;
    // MetaverseB: its own avatar of the thing; and a low-level metaverse of a third organisation
    // (one metaverse per MSP, trust rule 6), federated with mv-b
    await mapAvatar(w.mvbAdmin, w.alice, { avatarId: avB, thingId: w.thingId, metaverseId: w.mvbId, mode: 'ACTIVE', capabilityLevel: 3 });
    await registerMetaverse(w.iotAdmin, mvb2, 1);
    await ok(w.iotAdmin.cc('platform'), 'ProposeFederation', [mvb2, w.mvbId, 'partners']);
    await ok(w.mvbAdmin.cc('platform'), 'AcceptFederation', [w.mvbId, mvb2]);
    await ok(w.alice.cc('thing'), 'SetThingPolicy', [
      w.thingId,
      JSON.stringify({
        storage: 'ANY',
        allowedMetaverses: [w.mvaId, w.mvbId, mvb2],
        allowedDpmProviders: [w.dpmId],
        purposes: ['analytics', 'gameplay'],
        retentionDays: 30,
        encryptionRequired: true,
      }),
    ]);
    // the owner's data, kept by MetaverseA's avatar: one CONFIDENTIAL, one RESTRICTED
    held = `d-held-${w.run}`;
    restricted = `d-restr-${w.run}`;
    for (const [dataId, classification] of [
      [held, 'CONFIDENTIAL'],
      [restricted, 'RESTRICTED'],
    ]) {
      const input = { ...anchorInput(w, dataId), avatarId: w.avatarId, classification };
      sha[dataId] = input.sha256;
      await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(input)]);
    }
  });
  after(() => {
    w?.close();
    auditor?.conn.close();
  });

  const request = (transferId: string, dataId: string, overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      transferId,
      kind: 'MOVE',
      sourceAvatarId: w.avatarId,
      targetMetaverseId: w.mvbId,
      dataId,
      dataSha256: sha[dataId],
      purpose: 'gameplay',
      expiresAt: isoIn(DAY),
      ...overrides,
    });
  const activity = (dataId: string) => evaluate<Page>(auditor.cc('audit'), 'QueryActivityBySubject', ['data', dataId, '200', '']);
  const anchor = (dataId: string) => evaluate<Record<string, unknown>>(w.alice.cc('data'), 'GetData', [dataId]);

  /** `attempt` is refused with `pattern`; the transfer does not exist, the anchor and its activity are as before. */
  async function refusedUnchanged(transferId: string, dataId: string, attempt: () => Promise<unknown>, pattern: RegExp) {
    const [anchorBefore, activityBefore] = [await anchor(dataId), await activity(dataId)];
    const reason = await refused(attempt);
    assert.match(reason, pattern);
    const missing = await refused(() => evaluate(w.mvbAdmin.cc('transfer'), 'GetTransfer', [transferId]));
    assert.match(missing, /NOT_FOUND: transfer .* does not exist/, 'no transfer was recorded');
    assert.deepEqual(await anchor(dataId), anchorBefore, 'the data anchor is unchanged');
    assert.deepEqual(await activity(dataId), activityBefore, 'no new activity on the data');
  }

  it("X3/A1: MetaverseB naming its own avatar as the source of MetaverseA's data, to a low-level metaverse, is refused (CONFLICT: capability) whichever peers endorse", async () => {
    const transferId = `tr-b-${w.run}`;
    for (const endorsingOrganizations of [
      [MVB, IOT],
      [MVA, MVB],
    ]) {
      await refusedUnchanged(
        transferId,
        restricted,
        () =>
          submit(
            w.mvbAdmin.cc('transfer'),
            'RequestTransfer',
            [request(transferId, restricted, { sourceAvatarId: avB, targetMetaverseId: mvb2 })],
            {
              endorsingOrganizations,
            },
          ),
        new RegExp(`CONFLICT: target metaverse ${mvb2} has capability level 1; data ${restricted} is RESTRICTED \\(needs 3\\)`),
      );
    }
  });

  it("X3/A1: MetaverseB naming its own avatar as the source of data held by MetaverseA's avatar (to a cleared target) is DENIED with the holder named", async () => {
    const transferId = `tr-b2-${w.run}`;
    await refusedUnchanged(
      transferId,
      held,
      () =>
        submit(w.mvbAdmin.cc('transfer'), 'RequestTransfer', [
          request(transferId, held, { sourceAvatarId: avB, targetMetaverseId: w.mvaId }),
        ]),
      new RegExp(
        `DENIED: data ${held} is held by avatar ${w.avatarId} of ${w.mvaId} \\(${MVA}\\); a transfer's source must be its holder, not avatar ${avB} of ${w.mvbId} \\(${MVB}\\)`,
      ),
    );
  });

  it('X3/X2: even the holder cannot send RESTRICTED data to a metaverse below its classification (CONFLICT), nor name a target avatar below it', async () => {
    const transferId = `tr-a-low-${w.run}`;
    await ok(w.mvaAdmin.cc('platform'), 'ProposeFederation', [w.mvaId, mvb2, 'low']);
    await ok(w.iotAdmin.cc('platform'), 'AcceptFederation', [mvb2, w.mvaId], { endorsingOrganizations: [MVA, IOT] });
    await refusedUnchanged(
      transferId,
      restricted,
      () => submit(w.mvaAdmin.cc('transfer'), 'RequestTransfer', [request(transferId, restricted, { targetMetaverseId: mvb2 })]),
      new RegExp(`CONFLICT: target metaverse ${mvb2} has capability level 1; data ${restricted} is RESTRICTED`),
    );
    const lowAvatar = `avb-low-${w.run}`;
    await mapAvatar(w.mvbAdmin, w.alice, {
      avatarId: lowAvatar,
      thingId: w.thingId,
      metaverseId: w.mvbId,
      mode: 'PASSIVE',
      capabilityLevel: 2,
    });
    await refusedUnchanged(
      transferId,
      restricted,
      () => submit(w.mvaAdmin.cc('transfer'), 'RequestTransfer', [request(transferId, restricted, { targetAvatarId: lowAvatar })]),
      new RegExp(`CONFLICT: target avatar ${lowAvatar} has capability level 2; data ${restricted} is RESTRICTED \\(needs 3\\)`),
    );
  });

  it("X3: thing-level data anchored by the owner's organisation has no metaverse holder: MetaverseA's avatar is refused as its source", async () => {
    const dataId = `d-thing-${w.run}`;
    const input = anchorInput(w, dataId);
    sha[dataId] = input.sha256;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(input)]);
    const transferId = `tr-thing-${w.run}`;
    await refusedUnchanged(
      transferId,
      dataId,
      () => submit(w.mvaAdmin.cc('transfer'), 'RequestTransfer', [request(transferId, dataId)]),
      new RegExp(`DENIED: data ${dataId} is held by ${IOT} \\(the owner's organisation\\); a transfer's source must be its holder`),
    );
  });

  it('X3: the holder’s request to a cleared target commits; the source platform that must approve is the holder’s', async () => {
    const transferId = `tr-ok-${w.run}`;
    const { value } = await ok<{ status: string; sourceMspId: string; endorsingMsps: string[] }>(
      w.mvaAdmin.cc('transfer'),
      'RequestTransfer',
      [request(transferId, restricted)],
    );
    assert.equal(value.status, 'REQUESTED');
    assert.equal(value.sourceMspId, MVA);
    const wrongSide = await refused(() => submit(w.mvbAdmin.cc('transfer'), 'ApproveTransferAsSource', [transferId]));
    assert.match(wrongSide, new RegExp(`DENIED: approving transfer ${transferId} as source needs an admin of ${MVA}`));
    const acts = (await activity(restricted)).items.map((a) => a.action);
    assert.deepEqual(acts.slice(-1), ['transfer-requested']);
  });
});
