/**
 * A1/A2 on the real network: a client that bypasses the gateway application and calls the
 * chaincode directly through a peer (plain @hyperledger/fabric-gateway, CA-issued certificate)
 * is refused by the chaincode itself, with the contract's reason, whatever peer endorses it; and
 * the refused call leaves the ledger as it was. Each refusal is paired with the allowed call
 * that differs only in the identity, so the refusal is about who calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  DPM,
  evaluate,
  IOT,
  isoIn,
  MVA,
  MVB,
  ok,
  processGrantInput,
  refused,
  sha256,
  submit,
  type Actor,
  type World,
} from './support/domain.js';

interface Job {
  jobId: string;
  status: string;
  receipt?: { outputSha256: string };
  createdAt: string;
}

describe('chaincode authorization on the real network (A1, A2: direct calls with the wrong identity are refused)', () => {
  let w: World;
  const extra: Actor[] = [];
  let jobId: string;

  before(async () => {
    w = await buildWorld('a1');
    const dataId = `d-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, dataId))]);
    jobId = `job-${w.run}`;
    // the owner gives MetaverseA the right to have the data processed (trust rule 5)
    await ok(w.alice.cc('access'), 'CreateGrant', [JSON.stringify(processGrantInput(w, `gp-${w.run}`))]);
    await ok(w.mvaAdmin.cc('dpm'), 'SubmitJob', [
      JSON.stringify({
        jobId,
        metaverseId: w.mvaId,
        providerId: w.dpmId,
        inputs: [dataId],
        purpose: 'analytics',
        envelopeSha256: sha256(`envelope ${jobId}`),
      }),
    ]);
  });
  after(() => {
    w?.close();
    for (const a of extra) a.conn.close();
  });
  const extraActor = async (mspId: string, role: string, principal?: string) => {
    const a = await actor(mspId, role, principal);
    extra.push(a);
    return a;
  };

  it('A1/A2: a `user` registering a platform is refused with the reason; an admin of the same org may', async () => {
    const user = await extraActor(MVA, 'user');
    const platformId = `mv-user-${w.run}`;
    // (a STORAGE platform: MetaverseAMSP already runs the world's metaverse, and runs one — rule 6)
    const input = JSON.stringify({ platformId, type: 'STORAGE', name: 'by a user', capabilityLevel: 1 });
    for (const endorsingOrganizations of [undefined, [MVA, MVB], [IOT, MVB]]) {
      const reason = await refused(() =>
        submit(user.cc('platform'), 'RegisterPlatform', [input], endorsingOrganizations ? { endorsingOrganizations } : {}),
      );
      assert.match(
        reason,
        new RegExp(`DENIED: registering a platform needs role admin; caller is ${user.principal}@${MVA} \\(role user\\)`),
      );
    }
    const missing = await refused(() => evaluate(w.mvbAdmin.cc('platform'), 'GetPlatform', [platformId]));
    assert.match(missing, /NOT_FOUND: /, 'the refused call wrote nothing');

    const { value } = await ok<{ platformId: string; mspId: string }>(w.mvaAdmin.cc('platform'), 'RegisterPlatform', [input]);
    assert.equal(value.mspId, MVA);
  });

  it('A1: a certificate without a known role is refused everything, even reads', async () => {
    const nobody = await extraActor(IOT, 'superuser');
    const reason = await refused(() => evaluate(nobody.cc('thing'), 'GetThing', [w.thingId]));
    assert.match(reason, new RegExp(`DENIED: the certificate of ${IOT} caller has no known 'role' attribute`));
    const write = await refused(() => submit(nobody.cc('thing'), 'SuspendThing', [w.thingId, 'takeover']));
    assert.match(write, /DENIED: /);
    assert.equal((await evaluate<{ status: string }>(w.alice.cc('thing'), 'GetThing', [w.thingId])).status, 'ACTIVE');
  });

  it("A1/X4: a DPM receipt is refused to a dpm identity with another principal, to the DPM org's admin and to another org; only the provider records it", async () => {
    await ok(w.provider.cc('dpm'), 'AcceptJob', [jobId]);
    const submitted = await evaluate<Job>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    const receipt = JSON.stringify({
      outputSha256: sha256(`output ${jobId}`),
      startedAt: submitted.createdAt,
      endedAt: isoIn(-1),
      summary: 'gait analysis',
    });

    const impostor = await extraActor(DPM, 'dpm', `dpm-other-${w.run}`);
    const wrongPrincipal = await refused(() => submit(impostor.cc('dpm'), 'RecordReceipt', [jobId, receipt]));
    assert.match(wrongPrincipal, new RegExp(`DENIED: caller principal dpm-other-${w.run} is not provider ${w.dpmId}`));

    const wrongRole = await refused(() => submit(w.dpmAdmin.cc('dpm'), 'RecordReceipt', [jobId, receipt]));
    assert.match(wrongRole, new RegExp(`DENIED: acting for DPM provider ${w.dpmId} needs role dpm`));

    const otherOrg = await extraActor(MVA, 'dpm', w.dpmId);
    const wrongMsp = await refused(() => submit(otherOrg.cc('dpm'), 'RecordReceipt', [jobId, receipt]));
    // Trust rule 1: MetaverseAMSP's CA may not issue role dpm at all (only organisations running a DPM platform).
    assert.match(wrongMsp, new RegExp(`DENIED: role dpm from ${MVA} is not recognised: only ${DPM} may issue dpm`));

    const before = await evaluate<Job>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    assert.equal(before.status, 'ACCEPTED');
    assert.equal(before.receipt, undefined, 'no refused call recorded a receipt');

    await ok(w.provider.cc('dpm'), 'RecordReceipt', [jobId, receipt]);
    const done = await evaluate<Job>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    assert.equal(done.receipt?.outputSha256, sha256(`output ${jobId}`));
    assert.notEqual(done.status, 'ACCEPTED');
  });
});
