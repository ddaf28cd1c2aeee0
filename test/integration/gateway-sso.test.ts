/**
 * P3 single sign-on across organisations, with a real OpenID provider running as its own process
 * (scripts/oidc/idp.ts): a person signs in once and acts at two organisations' gateways — the IoT
 * platform's and MetaverseA's. Each gateway trusts the provider for its own organisation only and
 * maps the subject to its own principal; a token for one gateway is refused by the other, and
 * what the person may do at one organisation gives no right at the other (the chaincode decides).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IOT, MVA, retireMetaverses } from './support/domain.js';
import { startIdp, signIn, type Idp, type Session } from './support/sso.js';
import { startLiveGateway, type LiveGateway } from './gateway-support.js';

const IOT_GW = 'https://gateway.iot.mvsec.test/';
const MVA_GW = 'https://gateway.metaverse-a.mvsec.test/';
const PASSWORD = 'a long sign-in passphrase';

describe('P3: one sign-in, two organisations’ gateways, each its own principal (real OpenID provider)', () => {
  let idp: Idp;
  let iot: LiveGateway;
  let mva: LiveGateway;
  let session: Session;
  let sub: string;

  before(async () => {
    await retireMetaverses(MVA); // an MSP runs one ACTIVE metaverse platform (chaincode rule 6)
    sub = `dana-${Date.now().toString(36)}`;
    idp = await startIdp(
      [{ username: sub, password: PASSWORD, sub, roles: { [IOT_GW]: 'creator', [MVA_GW]: 'creator' } }],
      [IOT_GW, MVA_GW],
    );
    const trust = (audience: string, mspId: string) => [
      { issuer: idp.issuer, audience, mspId, allowedRoles: ['user' as const, 'creator' as const] },
    ];
    [iot, mva] = await Promise.all([
      startLiveGateway({ oidcIssuers: trust(IOT_GW, IOT) }),
      startLiveGateway({ oidcIssuers: trust(MVA_GW, MVA) }),
    ]);
    session = await signIn(idp, sub, PASSWORD, [IOT_GW, MVA_GW]);
  });

  after(async () => {
    await Promise.all([iot?.close(), mva?.close()]);
    await idp?.stop();
  });

  it('P3: one sign-in gives a token per gateway; each gateway maps the subject to its own organisation’s principal', async () => {
    const atIot = await iot.withToken(await session.tokenFor(IOT_GW)).call('GET', '/auth/me');
    const atMva = await mva.withToken(await session.tokenFor(MVA_GW)).call('GET', '/auth/me');
    assert.equal(session.signIns, 1);
    assert.equal(atIot.status, 200, JSON.stringify(atIot.body));
    assert.equal(atMva.status, 200, JSON.stringify(atMva.body));
    assert.deepEqual([atIot.body.principal, atIot.body.mspId, atIot.body.role, atIot.body.issuer], [sub, IOT, 'creator', idp.issuer]);
    assert.deepEqual([atMva.body.principal, atMva.body.mspId, atMva.body.role, atMva.body.issuer], [sub, MVA, 'creator', idp.issuer]);
  });

  it('P3: a token for one organisation’s gateway is refused by the other', async () => {
    const wrongAudience = await mva.withToken(await session.tokenFor(IOT_GW)).call('GET', '/auth/me');
    assert.equal(wrongAudience.status, 401);
    assert.match(wrongAudience.body.detail, /aud/);
    const back = await iot.withToken(await session.tokenFor(MVA_GW)).call('GET', '/auth/me');
    assert.equal(back.status, 401);
  });

  it('A2/X1: the same person at MetaverseA cannot act for herself at the IoT platform — the ledger tells the principals apart', async () => {
    const run = iot.run;
    const [iotAdmin, mvaAdmin] = await Promise.all([iot.as(IOT, 'admin'), mva.as(MVA, 'admin')]);
    const iotId = `sso-iot-${run}`;
    const mvaId = `sso-mva-${run}`;
    assert.equal(
      (await iotAdmin.call('POST', '/r5/platforms', { platformId: iotId, type: 'IOT', name: 'IoT', capabilityLevel: 3 })).status,
      201,
    );
    const mv = await mvaAdmin.call('POST', '/r5/platforms', { platformId: mvaId, type: 'METAVERSE', name: 'A', capabilityLevel: 3 });
    assert.equal(mv.status, 201, JSON.stringify(mv.body));
    const atIot = iot.withToken(await session.tokenFor(IOT_GW));
    const atMva = mva.withToken(await session.tokenFor(MVA_GW));
    const thingId = `sso-watch-${run}`;
    const thing = {
      thingId,
      platformId: iotId,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-${run}`,
      classification: 'INTERNAL',
      policy: { storage: 'ANY', allowedMetaverses: [mvaId], purposes: ['gameplay'], encryptionRequired: true },
    };
    // as MetaverseA's principal she cannot register a thing on the IoT platform
    const foreign = await atMva.call('POST', '/r1/things', thing);
    assert.equal(foreign.status, 403, JSON.stringify(foreign.body));
    assert.match(foreign.body.detail, /^DENIED: IoT platform .* belongs to IoTPlatformMSP, caller is of MetaverseAMSP/);
    const registered = await atIot.call('POST', '/r1/things', thing);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.result.owner, sub);
    // as MetaverseA's principal she proposes the avatar, and cannot approve it as the owner
    const avatarId = `sso-av-${run}`;
    const mapped = await atMva.call('POST', '/r1/avatars', { avatarId, thingId, metaverseId: mvaId, mode: 'ACTIVE', capabilityLevel: 1 });
    assert.equal(mapped.status, 201, JSON.stringify(mapped.body));
    const selfApproval = await atMva.call('POST', `/r1/avatars/${avatarId}/approve`);
    assert.equal(selfApproval.status, 403, JSON.stringify(selfApproval.body));
    assert.match(selfApproval.body.detail, new RegExp(`only the owner of thing ${thingId} \\(${sub}@IoTPlatformMSP\\)`));
    const approved = await atIot.call('POST', `/r1/avatars/${avatarId}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.deepEqual([approved.body.result.approvedBy.principal, approved.body.result.approvedBy.mspId], [sub, IOT]);
  });
});
