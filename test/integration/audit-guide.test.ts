/**
 * docs/auditor.md §0 as a new auditor follows it, on the real network (M1, S1, A1): the guide's
 * walkthrough block is read from the guide and run in bash as written — the operator of a
 * designated organisation registers the auditor, the auditor enrols with a key made on their own
 * side, exports a thing's bundle and a DPM receipt bundle, and verifies both against CA
 * certificates they hold. Around it: the ticket enrols once, an organisation the ledger does not
 * designate cannot register auditors, a DPM bundle without the DPM provider's CA fails as the
 * guide warns, and a gateway auditor account exports through the gateway (a `user` account cannot).
 */
import './support/network.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { paths } from '../../scripts/lib/paths.js';
import { anchorInput, buildWorld, DPM, evaluate, IOT, isoIn, ok, processGrantInput, sha256, type World } from './support/domain.js';
import { topology } from './support/network.js';
import { startLiveGateway, type LiveGateway } from './gateway-support.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MVSEC = join(ROOT, 'audit', 'bin', 'mvsec.js');

/** Run `script` in bash from the repository root, `mvsec` being the audit CLI; never rejects. */
function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const prelude = `set -euo pipefail\nmvsec() { node ${JSON.stringify(MVSEC)} "$@"; }\n`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', prelude + script], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The guide's walkthrough: the sh block between its <!-- walkthrough --> markers. */
function walkthrough(): string {
  const guide = readFileSync(join(ROOT, 'docs', 'auditor.md'), 'utf8');
  const m = /<!-- walkthrough -->\s*```sh\n([\s\S]*?)```\s*<!-- \/walkthrough -->/.exec(guide);
  assert.ok(m, 'docs/auditor.md has a walkthrough block');
  return m[1];
}

describe('docs/auditor.md §0 followed step by step on the real network (M1, S1, A1)', () => {
  let w: World;
  let dir: string;
  let cas: string;
  let jobId: string;
  let gw: LiveGateway;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mvsec-auditor-'));
    cas = join(dir, 'cas');
    mkdirSync(cas);
    // the auditor's own copies of the CA certificates (here from the network's MSP folders, guide §1)
    for (const o of topology.orgs) copyFileSync(join(paths.orgMsp(o.key), 'cacerts', 'ca.pem'), join(cas, `${o.key}.pem`));
    w = await buildWorld('guide');
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, `d-guide-${w.run}`))]);
    const processed = `d-dpm-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, processed))]);
    await ok(w.alice.cc('access'), 'CreateGrant', [JSON.stringify(processGrantInput(w, `gp-${w.run}`))]);
    jobId = `job-guide-${w.run}`;
    await ok(w.mvaAdmin.cc('dpm'), 'SubmitJob', [
      JSON.stringify({
        jobId,
        metaverseId: w.mvaId,
        providerId: w.dpmId,
        inputs: [processed],
        purpose: 'analytics',
        envelopeSha256: sha256(`envelope ${jobId}`),
      }),
    ]);
    await ok(w.provider.cc('dpm'), 'AcceptJob', [jobId]);
    const job = await evaluate<{ createdAt: string }>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    await ok(w.provider.cc('dpm'), 'RecordReceipt', [
      jobId,
      JSON.stringify({ outputSha256: sha256(`output ${jobId}`), startedAt: job.createdAt, endedAt: isoIn(-1), summary: 'gait analysis' }),
    ]);
    env = { DIR: dir, CAS: cas, AUDITOR: `auditor-${w.run}`, THING: w.thingId, JOB: jobId };
  });

  after(async () => {
    await gw?.close();
    w?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('M1/S1: the walkthrough runs as written: register, enrol with an own key, export a thing and a DPM job, both VERIFIED', async () => {
    const r = await bash(walkthrough(), env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /enrolled O=IoTPlatformMSP, OU=client, CN=auditor-/);
    assert.match(r.stdout, new RegExp(`attributes: principal=auditor-${w.run}, role=auditor`));
    assert.match(r.stdout, /thing\.json: VERIFIED/);
    assert.match(r.stdout, /job\.json: VERIFIED/);
    const job = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { transactions: { activity?: { fn: string }[] }[] };
    assert.ok(
      job.transactions.some((t) => t.activity?.some((a) => a.fn === 'dpm:RecordReceipt')),
      'the receipt is in the job bundle',
    );
    assert.equal(statSync(join(dir, 'me', 'key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'ticket.json')).mode & 0o777, 0o600);
  });

  it('A1: the ticket enrols once: a second enrolment with it is refused with the reason', async () => {
    const again = await bash(`mvsec enroll --ticket "$DIR/ticket.json" --out "$DIR/second"`, env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /enrols once and may be used already: ask IoTPlatformMSP's operator for a new ticket/);
  });

  it('A1: an organisation the ledger does not designate for auditing cannot register an auditor', async () => {
    const r = await bash(`npm run -s auditor:register -- --org dpm --name "rogue-$AUDITOR" --ticket "$DIR/rogue.json"`, env);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stdout + r.stderr,
      new RegExp(`${DPM} may not issue auditors: the ledger's role issuers \\(version \\d+\\) name .*${IOT}`),
    );
  });

  it('S1: as the guide warns, the DPM receipt bundle without the DPM provider’s CA fails on the receipt’s creator', async () => {
    const r = await bash(
      'mvsec verify "$DIR/job.json" --ca OrdererMSP=$CAS/orderer.pem --ca IoTPlatformMSP=$CAS/iot.pem --ca MetaverseAMSP=$CAS/mva.pem --ca MetaverseBMSP=$CAS/mvb.pem',
      env,
    );
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /job\.json: FAILED/);
    assert.match(r.stdout, /DPMProviderMSP/);
  });

  it('M1: a gateway auditor account exports through the gateway as its own identity; the bundle verifies; a user account is refused', async () => {
    gw = await startLiveGateway();
    const auditor = await gw.as(IOT, 'auditor');
    const anchors = `--ca OrdererMSP=$CAS/orderer.pem --ca IoTPlatformMSP=$CAS/iot.pem --ca MetaverseAMSP=$CAS/mva.pem --ca MetaverseBMSP=$CAS/mvb.pem`;
    const r = await bash(
      `mvsec export --gateway "$GW" --token "$TOKEN" --subject-type thing --subject-id "$THING" --out "$DIR/gw.json"\nmvsec verify "$DIR/gw.json" ${anchors}`,
      { ...env, GW: gw.url, TOKEN: auditor.token },
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /exported by the gateway/);
    assert.match(r.stdout, /gw\.json: VERIFIED/);
    const user = await gw.as(IOT, 'user');
    const refused = await bash(
      `mvsec export --gateway "$GW" --token "$TOKEN" --subject-type thing --subject-id "$THING" --out "$DIR/u.json"`,
      {
        ...env,
        GW: gw.url,
        TOKEN: user.token,
      },
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /the gateway answered 403: DENIED: reading the audit trail needs role auditor/);
    const none = await auditor.call('GET', `/audit/bundles/thing/no-such-thing-${w.run}`);
    assert.equal(none.status, 404, JSON.stringify(none.body));
  });
});
