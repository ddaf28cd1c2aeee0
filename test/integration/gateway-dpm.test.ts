/**
 * R6 external DPM on the real network (X4, F3, C1–C3, U1): a metaverse operator submits a job over
 * the gateway; the ledger decides first; the inputs leave only as an envelope encrypted to the
 * provider worker's own Fabric certificate key; the worker — a separate process holding that key —
 * decrypts, aggregates the watch's motion readings, seals the result back to the requester and
 * records the receipt, which binds input and output fingerprints on the ledger.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { aggregate } from '../../dpm-worker/src/aggregate.js';
import { certSha256, EnvelopeError, openEnvelope, sealEnvelope } from 'mvsec-protocol/dpm';
import { decodeInputPayload, encodeResultPayload, keyRegistrationMessage } from 'mvsec-protocol/dpm';
import { networkTrust } from '../../gateway/src/r6-dpm/trust.js';
import { caEnroller } from '../../gateway/src/ledger/identities.js';
import { register } from '../../scripts/network/ca.js';
import { startLiveGateway, type Client, type LiveGateway, type Res } from './gateway-support.js';
import { gatewayNetwork, gatewayOrg, org } from './support/network.js';
import { retireMetaverses } from './support/domain.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';
const DPM = 'DPMProviderMSP';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Ask again until `done` (bounded): the worker is polling, other orgs' peers commit a little later. */
async function eventually<T>(fn: () => Promise<T>, done: (v: T) => boolean, tries = 240): Promise<T> {
  let v = await fn();
  for (let i = 0; i < tries && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 500));
    v = await fn();
  }
  return v;
}

describe('R6 external DPM on the real network (X4, F3, C1, C2, C3, U1)', () => {
  let gw: LiveGateway;
  let iotAdmin: Client, alice: Client, mvAdmin: Client, dpmAdmin: Client, provider1: Client, provider2: Client;
  let ids: { iot: string; mv: string; dpm1: string; dpm2: string; thing: string; thing2: string; d1: string; d2: string; d3: string };
  let worker: ChildProcess | undefined;
  let workerLog = '';
  let workerHome: string;
  const bodies = new Map<string, Buffer>();
  const completedJob: { jobId?: string } = {};

  const d1 = Buffer.from(
    JSON.stringify({
      readings: [
        { t: 1, wrist: { x: 0.5, y: -1, z: 9.8 }, head: { x: 0.1 } },
        { t: 2, wrist: { x: 1.5, y: 1, z: 9.6 }, head: { x: -0.3 } },
        { t: 3, wrist: { x: -2, y: 0, z: 9.9 }, head: { x: 0.2 } },
      ],
    }),
  );
  const d2 = Buffer.from('t,ankle.x,ankle.y\n1,0.25,-0.5\n2,0.75,0.5\n3,-1.25,1.5\n4,2,0\n');

  const jobPath = (jobId: string) => `/r6/jobs/${encodeURIComponent(jobId)}`;
  const waitCompleted = (c: Client, jobId: string) =>
    eventually(
      () => c.call('GET', jobPath(jobId)),
      (r: Res) => r.status === 200 && (r.body.status === 'COMPLETED' || r.body.status === 'FAILED'),
    );
  const envelopeFiles = (jobId: string) => {
    const dir = join(gw.stateDir, 'dpm', 'jobs');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(sha(jobId))) : [];
  };

  before(async () => {
    await retireMetaverses('MetaverseAMSP', 'MetaverseBMSP'); // an MSP runs one ACTIVE metaverse platform (chaincode rule 6)
    gw = await startLiveGateway();
    const r = gw.run;
    ids = {
      iot: `dp-iot-${r}`,
      mv: `dp-mv-${r}`,
      dpm1: `dp-dpm1-${r}`,
      dpm2: `dp-dpm2-${r}`,
      thing: `dp-watch-${r}`,
      d1: `dp-d1-${r}`,
      d2: `dp-d2-${r}`,
      thing2: `dp-watch2-${r}`,
      d3: `dp-d3-${r}`,
    };
    [iotAdmin, alice, mvAdmin, dpmAdmin] = await Promise.all([
      gw.as(IOT, 'admin'),
      gw.as(IOT, 'creator'),
      gw.as(MVA, 'admin'),
      gw.as(DPM, 'admin'),
    ]);
    [provider1, provider2] = await Promise.all([gw.as(DPM, 'dpm', ids.dpm1), gw.as(DPM, 'dpm', ids.dpm2)]);
    const platforms: [Client, string, string][] = [
      [iotAdmin, ids.iot, 'IOT'],
      [mvAdmin, ids.mv, 'METAVERSE'],
      [dpmAdmin, ids.dpm1, 'DPM'],
      [dpmAdmin, ids.dpm2, 'DPM'],
    ];
    for (const [c, platformId, type] of platforms) {
      const p = await c.call('POST', '/r5/platforms', { platformId, type, name: platformId, capabilityLevel: 3 });
      assert.equal(p.status, 201, JSON.stringify(p.body));
    }
    // trust rule 8: the DPM organisation's admin binds each provider account's Fabric identity on the ledger
    for (const p of [provider1, provider2]) await gw.bindProvider(p);
    // watch 1 may go to provider 1 only; watch 2 to provider 2 only (served by a hand-driven "worker" in the last test)
    for (const [thingId, provider] of [
      [ids.thing, ids.dpm1],
      [ids.thing2, ids.dpm2],
    ]) {
      const t = await alice.call('POST', '/r1/things', {
        thingId,
        platformId: ids.iot,
        kind: 'DEVICE',
        accessMode: 'AUTONOMOUS',
        publicKey: `pk-${thingId}`,
        classification: 'CONFIDENTIAL',
        policy: {
          storage: 'ON_PLATFORM',
          allowedMetaverses: [ids.mv],
          allowedDpmProviders: [provider],
          purposes: ['analytics'],
          encryptionRequired: true,
        },
      });
      assert.equal(t.status, 201, JSON.stringify(t.body));
    }
    for (const [dataId, body, thingId] of [
      [ids.d1, d1, ids.thing],
      [ids.d2, d2, ids.thing],
      [ids.d3, d2, ids.thing2],
    ] as const) {
      bodies.set(dataId, body);
      const s = await fetch(
        `${gw.url}/r2/data/${dataId}?thingId=${thingId}&category=motion&classification=CONFIDENTIAL&sha256=${sha(body)}`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/octet-stream', accept: 'application/json' },
          body: new Uint8Array(body),
        },
      );
      assert.equal(s.status, 201, await s.text());
    }
    // the owner gives MetaverseA the right to have each watch's data processed (trust rule 5)
    for (const thingId of [ids.thing, ids.thing2]) {
      const g = await alice.call('POST', '/r4/grants', {
        grantId: `dp-gp-${thingId}`,
        resourceType: 'THING',
        resourceId: thingId,
        grantee: { type: 'MSP', id: MVA },
        actions: ['process'],
        purpose: 'analytics',
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      });
      assert.equal(g.status, 201, JSON.stringify(g.body));
    }

    // The worker's own Fabric identity: registered at the DPM organisation's CA; the worker enrolls it itself.
    const workerName = `dpm-worker-${r}`;
    const secret = await register(org(DPM), { name: workerName, type: 'client', attrs: { role: 'dpm', principal: ids.dpm1 } });
    workerHome = mkdtempSync(join(tmpdir(), 'mvsec-dpm-worker-'));
    worker = spawn(process.execPath, ['--import', 'tsx', 'dpm-worker/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        MVSEC_DPM_GATEWAY_URL: gw.url,
        MVSEC_DPM_PROVIDER_ID: ids.dpm1,
        MVSEC_DPM_TOKEN: provider1.token,
        MVSEC_DPM_MSP_DIR: join(workerHome, 'msp'),
        MVSEC_DPM_ENROLL_ID: workerName,
        MVSEC_DPM_ENROLL_SECRET: secret,
        MVSEC_DPM_POLL_MS: '500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (b: Buffer) => (workerLog += b.toString()));
    worker.stderr!.on('data', (b: Buffer) => (workerLog += b.toString()));
    const key = await eventually(
      () => provider1.call('GET', `/r6/providers/${ids.dpm1}/key`),
      (k) => k.status === 200 || worker!.exitCode !== null,
      120,
    );
    assert.equal(key.status, 200, `the worker did not register its key:\n${workerLog}`);
    assert.equal(key.body.mspId, DPM);
  });

  after(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    if (workerHome) rmSync(workerHome, { recursive: true, force: true });
    await gw?.close();
  });

  it('R6/X4/F3/C2: job → encrypted envelope → worker process → result and receipt; the ledger binds input and output fingerprints (JSON)', async () => {
    const jobId = `dp-job1-${gw.run}`;
    const s = await mvAdmin.call(
      'POST',
      '/r6/jobs',
      { jobId, metaverseId: ids.mv, providerId: ids.dpm1, purpose: 'analytics', inputs: [ids.d1, ids.d2] },
      { headers: { 'idempotency-key': `submit-${jobId}` } },
    );
    assert.equal(s.status, 201, JSON.stringify(s.body));
    assert.equal(s.type, 'application/json; charset=utf-8');
    assert.deepEqual(s.body.job.inputs, [
      { dataId: ids.d1, sha256: sha(d1) },
      { dataId: ids.d2, sha256: sha(d2) },
    ]);
    assert.equal(s.body.job.envelopeSha256, s.body.envelope.sha256);
    // the envelope at rest is ciphertext: no reading is in it
    const stored = readFileSync(join(gw.stateDir, 'dpm', 'jobs', `${sha(jobId)}.input.cbor`));
    assert.equal(sha(stored), s.body.envelope.sha256);
    assert.equal(stored.includes(Buffer.from('wrist')), false);
    assert.equal(stored.includes(Buffer.from('ankle.x')), false);

    const done = await waitCompleted(mvAdmin, jobId);
    assert.equal(done.body.status, 'COMPLETED', `${JSON.stringify(done.body)}\n${workerLog}`);
    // the worker found it in the ledger's open-jobs index; done, it has left it
    const open = await provider1.call('GET', `/r6/providers/${ids.dpm1}/jobs?open=true&pageSize=200`);
    assert.equal(open.status, 200, JSON.stringify(open.body));
    assert.ok(!open.body.items.some((j: { jobId: string }) => j.jobId === jobId), 'a completed job is not open');
    const job = done.body;
    const receipt = job.receipt;
    // the receipt binds the inputs (digest of their ledger fingerprints), the output fingerprint and the times
    assert.equal(receipt.inputsDigest, sha(`${sha(d1)},${sha(d2)}`));
    assert.equal(receipt.inputsDigest, job.inputsDigest);
    assert.match(receipt.outputSha256, /^[0-9a-f]{64}$/);
    assert.ok(Date.parse(receipt.startedAt) <= Date.parse(receipt.endedAt));
    assert.ok(Date.parse(receipt.startedAt) >= Date.parse(job.createdAt));
    assert.equal(receipt.recordedBy.principal, ids.dpm1);
    assert.equal(receipt.recordedBy.mspId, DPM);
    assert.match(receipt.summary, /motion-aggregate\/v1/);

    // the delivered output hashes to the ledger's fingerprint, and is the real aggregate
    const out = await mvAdmin.call('GET', `${jobPath(jobId)}/output`);
    assert.equal(out.status, 200, JSON.stringify(out.body));
    const output = Buffer.from(out.body.data, 'base64');
    assert.equal(sha(output), receipt.outputSha256);
    assert.equal(out.body.contentType, 'application/json');
    assert.equal(out.body.signedBy.mspId, DPM);
    assert.equal(out.body.signedBy.principal, ids.dpm1);
    const result = JSON.parse(output.toString('utf8'));
    assert.equal(result.readings, 7);
    assert.deepEqual(result.axes['wrist.x'], {
      count: 3,
      mean: 0,
      min: -2,
      max: 1.5,
      rms: Number(Math.sqrt((0.25 + 2.25 + 4) / 3).toPrecision(12)),
    });
    assert.deepEqual(result.axes['ankle.y'], {
      count: 4,
      mean: 0.375,
      min: -0.5,
      max: 1.5,
      rms: Number(Math.sqrt((0.25 + 0.25 + 2.25) / 4).toPrecision(12)),
    });
    assert.deepEqual(
      result,
      aggregate([
        { dataId: ids.d1, sha256: sha(d1), data: d1 },
        { dataId: ids.d2, sha256: sha(d2), data: d2 },
      ]),
    );
    // the result envelope is what the receipt's outputLocation names
    const res = await mvAdmin.call('GET', `${jobPath(jobId)}/result`);
    assert.equal(res.status, 200);
    assert.equal(sha(Buffer.from(res.body.resultEnvelope.envelope, 'base64')), res.body.resultEnvelope.sha256);
    assert.equal(receipt.outputLocation, `dpm-result:${res.body.resultEnvelope.sha256}`);
    // a replayed submit answers the same, without a second job or envelope
    const again = await mvAdmin.call(
      'POST',
      '/r6/jobs',
      { jobId, metaverseId: ids.mv, providerId: ids.dpm1, purpose: 'analytics', inputs: [ids.d1, ids.d2] },
      { headers: { 'idempotency-key': `submit-${jobId}` } },
    );
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    completedJob.jobId = jobId;
  });

  it('R6/F3/P1: the same hand-off over CBOR; the output hashes to the receipt on the ledger', async () => {
    const jobId = `dp-job2-${gw.run}`;
    const s = await mvAdmin.call(
      'POST',
      '/r6/jobs',
      { jobId, metaverseId: ids.mv, providerId: ids.dpm1, purpose: 'analytics', inputs: [ids.d2] },
      { cbor: true },
    );
    assert.equal(s.status, 201, JSON.stringify(s.body));
    assert.equal(s.type, 'application/cbor');
    const done = await waitCompleted(mvAdmin, jobId);
    assert.equal(done.body.status, 'COMPLETED', workerLog);
    const got = await mvAdmin.call('GET', `${jobPath(jobId)}/output`, undefined, { cbor: true });
    assert.equal(got.status, 200);
    assert.equal(got.type, 'application/cbor');
    const job = await mvAdmin.call('GET', jobPath(jobId), undefined, { cbor: true });
    assert.equal(sha(Buffer.from(got.body.data, 'base64')), job.body.receipt.outputSha256);
    assert.equal(job.body.receipt.inputsDigest, sha(sha(d2)));
    // refusals are problems in CBOR too
    const no = await provider2.call('GET', `${jobPath(jobId)}/envelope`, undefined, { cbor: true });
    assert.equal(no.status, 403);
    assert.equal(no.type, 'application/problem+cbor');
    assert.match(no.body.detail, /^DENIED: /);
  });

  it("R6/X4/C2: an input the provider is not authorised for is refused with 403 and the contract's reason; no envelope is produced and the worker cannot obtain one", async () => {
    const jobId = `dp-job3-${gw.run}`;
    const s = await mvAdmin.call('POST', '/r6/jobs', {
      jobId,
      metaverseId: ids.mv,
      providerId: ids.dpm2,
      purpose: 'analytics',
      inputs: [ids.d1],
    });
    assert.equal(s.status, 403, JSON.stringify(s.body));
    assert.equal(s.type, 'application/problem+json; charset=utf-8');
    assert.equal(s.body.code, 'DENIED');
    assert.equal(s.body.detail, `DENIED: input ${ids.d1}: thing ${ids.thing}'s policy does not allow DPM provider ${ids.dpm2}`);
    // a purpose the policy does not name is refused the same way
    const p = await mvAdmin.call('POST', '/r6/jobs', {
      jobId,
      metaverseId: ids.mv,
      providerId: ids.dpm1,
      purpose: 'advertising',
      inputs: [ids.d1],
    });
    assert.equal(p.status, 403);
    assert.equal(p.body.detail, `DENIED: input ${ids.d1}: thing ${ids.thing}'s policy does not allow purpose 'advertising'`);
    // nothing on the ledger, nothing stored, nothing to fetch — for either provider
    assert.equal((await mvAdmin.call('GET', jobPath(jobId))).status, 404);
    assert.deepEqual(envelopeFiles(jobId), []);
    for (const c of [provider1, provider2]) {
      const e = await c.call('GET', `${jobPath(jobId)}/envelope`);
      assert.equal(e.status, 404, JSON.stringify(e.body));
    }
    const listed = await provider1.call('GET', `/r6/providers/${ids.dpm1}/jobs?pageSize=200`);
    assert.equal(listed.status, 200);
    assert.equal(
      listed.body.items.some((j: { jobId: string }) => j.jobId === jobId),
      false,
    );
    assert.doesNotMatch(workerLog, new RegExp(jobId));
  });

  it("R6/C1/C2: a second provider can neither fetch nor decrypt the first provider's envelope", async () => {
    const jobId = completedJob.jobId;
    assert.ok(jobId, 'the end-to-end job ran');
    const job = (await mvAdmin.call('GET', jobPath(jobId))).body;
    // fetch: the contract's provider rule, with its reason
    const no = await provider2.call('GET', `${jobPath(jobId)}/envelope`);
    assert.equal(no.status, 403, JSON.stringify(no.body));
    assert.equal(no.body.detail, `DENIED: caller principal ${ids.dpm2} is not provider ${ids.dpm1}`);
    // nor may it act for the job, nor may the requester pick the envelope up
    assert.equal((await provider2.call('POST', `${jobPath(jobId)}/fail`, { reason: 'not mine' })).status, 403);
    const requester = await mvAdmin.call('GET', `${jobPath(jobId)}/envelope`);
    assert.equal(requester.status, 403);
    assert.match(requester.body.detail, new RegExp(`^DENIED: job ${jobId} is for provider ${ids.dpm1} of ${DPM}`));
    // decrypt: with its own Fabric identity (same organisation, same CA) the envelope does not open
    const bytes = readFileSync(join(gw.stateDir, 'dpm', 'jobs', `${sha(jobId)}.input.cbor`));
    assert.equal(sha(bytes), job.envelopeSha256);
    const other = await caEnroller(gatewayOrg(DPM), `dpm-other-${gw.run}`, { role: 'dpm', principal: ids.dpm2 });
    const otherKey = { certificate: other.certificate, privateKey: createPrivateKey(other.keyPem) };
    const trust = networkTrust(gatewayNetwork());
    assert.throws(
      () => openEnvelope(bytes, otherKey, { trust }),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'WRONG_RECIPIENT',
    );
    // even claiming the first provider's certificate, its key derives the wrong key
    const firstCert = (await provider1.call('GET', `/r6/providers/${ids.dpm1}/key`)).body.certificate as string;
    assert.throws(
      () => openEnvelope(bytes, { certificate: firstCert, privateKey: otherKey.privateKey }, { trust }),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'DECRYPT',
    );
    // and the second provider cannot take over the first one's key registration
    const takeover = await provider2.call('PUT', `/r6/providers/${ids.dpm1}/key`, {
      certificate: other.certificate,
      signedAt: new Date().toISOString(),
      signature: Buffer.alloc(70).toString('base64'),
    });
    assert.equal(takeover.status, 403);
  });

  it("R6/C3/X4: a result must be the provider's — key registration needs proof of possession; forged, garbage or mismatched results are refused (4xx), the genuine one is recorded", async () => {
    const jobId = `dp-job4-${gw.run}`;
    // provider 2 runs its own "worker" here: its own identity at the DPM CA
    const own = await caEnroller(gatewayOrg(DPM), `dpm-hand-${gw.run}`, { role: 'dpm', principal: ids.dpm2 });
    const me = { mspId: DPM, certificate: own.certificate, privateKey: createPrivateKey(own.keyPem) };
    const rogue = await caEnroller(gatewayOrg(DPM), `dpm-rogue-${gw.run}`, { role: 'dpm', principal: ids.dpm2 });
    const rogueKey = { mspId: DPM, certificate: rogue.certificate, privateKey: createPrivateKey(rogue.keyPem) };
    const signedAt = new Date().toISOString();
    const proof = (key: typeof me) =>
      sign('sha256', keyRegistrationMessage(ids.dpm2, certSha256(me.certificate), signedAt), key.privateKey).toString('base64');
    // a proof made with another key, and a certificate that is not one, are refused
    const wrongProof = await provider2.call('PUT', `/r6/providers/${ids.dpm2}/key`, {
      certificate: me.certificate,
      signedAt,
      signature: proof(rogueKey),
    });
    assert.equal(wrongProof.status, 422, JSON.stringify(wrongProof.body));
    assert.match(wrongProof.body.detail, /proof of possession does not verify/);
    const junk = await provider2.call('PUT', `/r6/providers/${ids.dpm2}/key`, {
      certificate: '-----BEGIN CERTIFICATE-----\n' + 'A'.repeat(120) + '\n-----END CERTIFICATE-----\n',
      signedAt,
      signature: proof(me),
    });
    assert.equal(junk.status, 422, JSON.stringify(junk.body));
    const reg = await provider2.call(
      'PUT',
      `/r6/providers/${ids.dpm2}/key`,
      { certificate: me.certificate, signedAt, signature: proof(me) },
      { cbor: true },
    );
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal(reg.body.certSha256, certSha256(me.certificate));

    const s = await mvAdmin.call('POST', '/r6/jobs', {
      jobId,
      metaverseId: ids.mv,
      providerId: ids.dpm2,
      purpose: 'analytics',
      inputs: [ids.d3],
    });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    const got = await eventually(
      () => provider2.call('GET', `${jobPath(jobId)}/envelope`),
      (r) => r.status !== 404,
    );
    assert.equal(got.status, 200, JSON.stringify(got.body));
    // positive control for the decryption refusal above: the registered key opens it, the inputs are the ledger's
    const opened = openEnvelope(Buffer.from(got.body.envelope, 'base64'), me, {
      trust: networkTrust(gatewayNetwork()),
      expect: { jobId, providerId: ids.dpm2 },
    });
    assert.deepEqual(
      decodeInputPayload(opened.payload).map((i) => [i.dataId, i.sha256]),
      [[ids.d3, sha(d2)]],
    );
    assert.equal((await provider2.call('POST', `${jobPath(jobId)}/accept`)).status, 200);

    const job = (await provider2.call('GET', jobPath(jobId))).body;
    const output = Buffer.from('{"axes":{}}');
    const startedAt = new Date(Date.parse(job.createdAt) + 1).toISOString();
    const endedAt = new Date().toISOString();
    const meta = { outputSha256: sha(output), inputsDigest: job.inputsDigest, inputEnvelopeSha256: job.envelopeSha256, startedAt, endedAt };
    const seal = (sender: typeof me, m = meta) =>
      sealEnvelope({
        kind: 'result',
        jobId,
        providerId: ids.dpm2,
        purpose: 'analytics',
        payload: encodeResultPayload('application/json', output),
        meta: m,
        sender,
        recipient: { mspId: opened.envelope.sender.mspId, certificate: opened.envelope.sender.cert },
      }).toString('base64');
    const receipt = { outputSha256: sha(output), startedAt, endedAt, summary: 'hand-made aggregate' };
    const post = (c: Client, envelope: string, r = receipt) => c.call('POST', `${jobPath(jobId)}/result`, { envelope, receipt: r });
    const refused: [Client, string, typeof receipt, number, RegExp][] = [
      [provider2, Buffer.from('not an envelope').toString('base64'), receipt, 422, /^result envelope refused: /],
      [provider2, seal(rogueKey), receipt, 422, /not signed by provider .*'s registered certificate/],
      [
        provider2,
        seal(me),
        { ...receipt, outputSha256: sha('something else') },
        422,
        /outputSha256 is [0-9a-f]{64}, the receipt\/job says/,
      ],
      [provider2, seal(me, { ...meta, inputsDigest: sha('other inputs') }), receipt, 422, /inputsDigest/],
      [mvAdmin, seal(me), receipt, 403, /^DENIED: job .* is for provider/],
      [provider1, seal(me), receipt, 403, new RegExp(`^DENIED: caller principal ${ids.dpm1} is not provider ${ids.dpm2}`)],
    ];
    for (const [c, envelope, r, status, detail] of refused) {
      const no = await post(c, envelope, r);
      assert.equal(no.status, status, JSON.stringify(no.body));
      assert.match(no.body.detail, detail);
    }
    assert.equal((await provider2.call('GET', jobPath(jobId))).body.status, 'ACCEPTED');
    assert.deepEqual(envelopeFiles(jobId), [`${sha(jobId)}.input.cbor`]);
    // the genuine result is recorded; the requester's output hashes to the receipt
    const ok = await post(provider2, seal(me));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.job.status, 'COMPLETED');
    assert.equal(ok.body.job.receipt.outputSha256, sha(output));
    const out = await eventually(
      () => mvAdmin.call('GET', `${jobPath(jobId)}/output`),
      (r) => r.status === 200,
    );
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.ok(Buffer.from(out.body.data, 'base64').equals(output));
    // only the identity that submitted the job gets the output opened
    const otherMv = await gw.as(MVA, 'creator');
    const notMine = await otherMv.call('GET', `${jobPath(jobId)}/output`);
    assert.equal(notMine.status, 403);
  });
});
