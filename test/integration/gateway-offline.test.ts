/**
 * Offline signing by an autonomous thing (A1, R1) against the real network: the thing's owner
 * obtains a CA registration for it, the thing enrols at its org's Fabric CA itself with
 * fabric-ca-client (its key never reaches the gateway), and anchors its own data by signing the
 * proposal, transaction and commit-status digests the gateway prepares. The chaincode lets an
 * autonomous thing write its own data (F4) and records it as the actor; wrong keys, foreign certificates and garbage bytes get clear 4xx answers.
 */
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signers } from '@hyperledger/fabric-gateway';
import { bin } from '../../scripts/fabric/install.js';
import { run } from '../../scripts/lib/proc.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';

const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Device {
  mspId: string;
  certificate: string;
  key: KeyObject;
}

/** What the thing runs on its own hardware: enrol at the CA with the one-time registration. */
async function enrolDevice(reg: Record<string, string>): Promise<Device> {
  const home = mkdtempSync(join(tmpdir(), 'mvsec-device-'));
  try {
    const tlsCa = join(home, 'ca-tls.pem');
    writeFileSync(tlsCa, reg.caTlsCertificate);
    const url = reg.caUrl.replace(
      'https://',
      `https://${encodeURIComponent(reg.enrollmentId)}:${encodeURIComponent(reg.enrollmentSecret)}@`,
    );
    await run(
      bin('fabric-ca-client'),
      ['enroll', '-u', url, '--caname', reg.caName, '--tls.certfiles', tlsCa, '-M', join(home, 'msp'), '--csr.cn', reg.enrollmentId],
      { env: { FABRIC_CA_CLIENT_HOME: home }, timeoutMs: 30_000 },
    );
    const certificate = readFileSync(join(home, 'msp', 'signcerts', 'cert.pem'), 'utf8');
    const [keyFile] = readdirSync(join(home, 'msp', 'keystore'));
    return { mspId: reg.mspId, certificate, key: createPrivateKey(readFileSync(join(home, 'msp', 'keystore', keyFile))) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const sign = async (key: KeyObject, digestB64: string) =>
  Buffer.from(await signers.newPrivateKeySigner(key)(Buffer.from(digestB64, 'base64'))).toString('base64');

describe('offline signing by an autonomous thing (A1, R1)', () => {
  let gw: LiveGateway;
  let iotAdmin: Client, owner: Client, stranger: Client;
  let thingId: string, constrainedId: string, platformId: string, hub: string;
  let device: Device;

  /** The thing's side of one transaction: four round trips, its key signing every digest. */
  const transact = async (d: Device, fn: string, args: string[]) => {
    const id = { mspId: d.mspId, certificate: d.certificate };
    const p = await owner.call('POST', '/r1/offline/proposals', { ...id, fn, args });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    const e = await owner.call('POST', '/r1/offline/endorsements', {
      ...id,
      proposal: p.body.bytes,
      signature: await sign(d.key, p.body.digest),
    });
    if (e.status !== 200) return { endorsement: e };
    const t = await owner.call('POST', '/r1/offline/transactions', {
      ...id,
      transaction: e.body.bytes,
      signature: await sign(d.key, e.body.digest),
    });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const c = await owner.call('POST', '/r1/offline/commit-status', {
      ...id,
      commit: t.body.bytes,
      signature: await sign(d.key, t.body.digest),
    });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    return { endorsement: e, commit: c };
  };
  const anchorArgs = (dataId: string) => [
    JSON.stringify({
      dataId,
      thingId,
      sha256: sha256(dataId),
      size: dataId.length,
      category: 'motion',
      classification: 'CONFIDENTIAL',
      storage: { placement: 'ON_PLATFORM', storeId: 'local', uri: `local://${dataId}` },
      keyId: 'k1',
      encrypted: true,
    }),
  ];

  before(async () => {
    gw = await startLiveGateway();
    thingId = `off-watch-${gw.run}`;
    constrainedId = `off-hr-${gw.run}`;
    platformId = `off-iot-${gw.run}`;
    [iotAdmin, owner, stranger] = await Promise.all([gw.as(IOT, 'admin'), gw.as(IOT, 'creator'), gw.as(MVA, 'creator')]);
    const p = await iotAdmin.call('POST', '/r5/platforms', { platformId, type: 'IOT', name: 'IoT', capabilityLevel: 3 });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    hub = `off-hub-${gw.run}`;
    for (const [id, kind, accessMode] of [
      [thingId, 'SENSOR', 'AUTONOMOUS'],
      [hub, 'GATEWAY', 'AUTONOMOUS'],
      [constrainedId, 'SENSOR', 'GATEWAY'],
    ] as const) {
      const t = await owner.call('POST', '/r1/things', {
        thingId: id,
        platformId,
        kind,
        accessMode,
        ...(accessMode === 'GATEWAY' ? { gatewayId: hub } : {}),
        publicKey: `pk-${id}`,
        classification: 'CONFIDENTIAL',
        policy: { storage: 'ANY', purposes: ['health'], retentionDays: 30, encryptionRequired: true },
      });
      assert.equal(t.status, 201, JSON.stringify(t.body));
    }
  });
  after(() => gw?.close());

  it('A1: only the controller of an autonomous thing obtains its CA registration', async () => {
    const foreign = await stranger.call('POST', `/r1/things/${thingId}/fabric-identity`);
    assert.equal(foreign.status, 403, JSON.stringify(foreign.body));
    assert.match(foreign.body.detail, /^DENIED: /);
    const constrained = await owner.call('POST', `/r1/things/${constrainedId}/fabric-identity`);
    assert.equal(constrained.status, 409);
    assert.match(constrained.body.detail, /GATEWAY/);

    const reg = await owner.call('POST', `/r1/things/${thingId}/fabric-identity`, undefined, { cbor: true });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.equal(reg.body.principal, thingId);
    assert.equal(reg.body.role, 'thing-agent');
    device = await enrolDevice(reg.body);
    assert.match(device.certificate, /BEGIN CERTIFICATE/);
  });

  it("F4/A1: the chaincode refuses another thing's own identity writing for this thing", async () => {
    const reg = await owner.call('POST', `/r1/things/${hub}/fabric-identity`);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const hubDevice = await enrolDevice(reg.body);
    const { endorsement } = await transact(hubDevice, 'data:AnchorData', anchorArgs(`off-d0-${gw.run}`));
    assert.equal(endorsement.status, 403, JSON.stringify(endorsement.body));
    assert.match(endorsement.body.detail, /^DENIED: /);
  });

  it('R1/F4/A1: the thing anchors its own data with its own key; the ledger names the thing as the actor', async () => {
    const dataId = `off-d1-${gw.run}`;
    const { endorsement, commit } = await transact(device, 'data:AnchorData', anchorArgs(dataId));
    assert.equal(endorsement.status, 200, JSON.stringify(endorsement.body));
    assert.equal(commit!.body.successful, true, JSON.stringify(commit!.body));
    assert.equal(commit!.body.code, 'VALID');
    assert.equal(commit!.body.txId, endorsement.body.txId);
    const anchored = await owner.call('GET', `/r2/data/${dataId}/anchor`);
    assert.equal(anchored.status, 200, JSON.stringify(anchored.body));
    const actor = JSON.stringify(anchored.body);
    assert.ok(actor.includes(`"principal":"${thingId}"`), actor);
    assert.ok(actor.includes('"role":"thing-agent"'), actor);
  });

  it('A1: a signature by another key, a certificate claimed for another org and garbage bytes are refused (4xx)', async () => {
    const id = { mspId: device.mspId, certificate: device.certificate };
    const p = await owner.call('POST', '/r1/offline/proposals', { ...id, fn: 'data:AnchorData', args: anchorArgs(`off-d2-${gw.run}`) });
    assert.equal(p.status, 200);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = await owner.call('POST', '/r1/offline/endorsements', {
      ...id,
      proposal: p.body.bytes,
      signature: await sign(other, p.body.digest),
    });
    assert.equal(forged.status, 403);
    assert.match(forged.body.detail, /does not verify/);

    const claimed = await owner.call('POST', '/r1/offline/proposals', { ...id, mspId: MVA, fn: 'data:GetData', args: ['x'] });
    assert.equal(claimed.status, 403);
    assert.match(claimed.body.detail, /not issued by the MetaverseAMSP CA/);

    const garbage = Buffer.from('not a fabric proposal').toString('base64');
    const digest = createHash('sha256').update(Buffer.from(garbage, 'base64')).digest('base64');
    const g = await owner.call('POST', '/r1/offline/endorsements', { ...id, proposal: garbage, signature: await sign(device.key, digest) });
    assert.ok(g.status >= 400 && g.status < 500, `${g.status} ${JSON.stringify(g.body)}`);

    const notB64 = await owner.call('POST', '/r1/offline/endorsements', { ...id, proposal: 'no*base64', signature: 'x' });
    assert.equal(notB64.status, 400);
  });
});
