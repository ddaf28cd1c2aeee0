/**
 * The demos' R6 part: an independent DPM provider registers its platform, gets its worker a Fabric
 * identity at the DPM organisation's CA, and runs the reference worker (dpm-worker/, mvsec-dpm-worker)
 * as its own process, holding its own key; metaverses submit jobs, the worker processes them, and
 * the receipt on the ledger binds input and output fingerprints.
 *
 * Registering the worker's CA identity uses the DPM organisation's registrar, so the demos run on
 * the machine that runs the network (as `npm start` sets it up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTopology } from '../network/topology.js';
import { register } from '../scripts/network/ca.js';
import { DPM, expect, registerPlatform, StepFailed, until, type Actor, type Cast, type Narrator } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface JobOutcome {
  jobId: string;
  requester: string;
  status: string;
  outputSha256: string;
}

interface Provider {
  providerId: string;
  account: Actor;
  stop(): Promise<void>;
}

/** Register the provider's platform and account; with `worker`, start its worker process and wait for its key. */
async function provider(cast: Cast, say: Narrator, operator: Actor, providerId: string, worker: boolean): Promise<Provider> {
  await registerPlatform(say, operator, { platformId: providerId, type: 'DPM', name: providerId, capabilityLevel: 3 });
  const account = await cast.actor(DPM, 'dpm', `DPM provider ${providerId}`, providerId);
  await cast.bindProvider(account);
  say.step(
    'R6',
    operator,
    `binds ${providerId}'s signing identity on the ledger: only that key may accept jobs and record receipts (trust rule 8)`,
  );
  if (!worker) return { providerId, account, stop: async () => {} };

  const org = loadTopology().orgs.find((o) => o.mspId === DPM)!;
  const name = `worker-${providerId}`.slice(0, 64);
  const secret = await register(org, { name, type: 'client', attrs: { role: 'dpm', principal: providerId } });
  const home = mkdtempSync(join(tmpdir(), 'mvsec-demo-worker-'));
  let log = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join('dpm-worker', 'src', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      MVSEC_DPM_GATEWAY_URL: cast.url,
      MVSEC_DPM_PROVIDER_ID: providerId,
      MVSEC_DPM_TOKEN: account.token,
      MVSEC_DPM_MSP_DIR: join(home, 'msp'),
      MVSEC_DPM_ENROLL_ID: name,
      MVSEC_DPM_ENROLL_SECRET: secret,
      MVSEC_DPM_POLL_MS: '500',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(home, { recursive: true, force: true });
  };
  const key = await until(
    () => account.call('GET', `/r6/providers/${providerId}/key`),
    (k) => k.status === 200 || child.exitCode !== null,
    60_000,
  );
  if (key.status !== 200) {
    await stop();
    throw new StepFailed(`the worker of ${providerId} did not register its key:\n${log}`);
  }
  say.note(
    `worker of ${providerId} runs as its own process (pid ${child.pid}) with its own Fabric identity; its certificate is registered`,
  );
  return { providerId, account, stop };
}

/** Submit, wait for the worker, fetch the output and check it against the receipt on the ledger. */
async function job(
  say: Narrator,
  requester: Actor,
  o: { jobId: string; metaverseId: string; providerId: string; purpose: string; inputs: string[] },
) {
  say.step('R6', requester, `sends job ${o.jobId} (${o.inputs.join(', ')}) to ${o.providerId} for '${o.purpose}'`);
  const s = expect(await requester.call('POST', '/r6/jobs', o), 201, `submitting ${o.jobId}`);
  say.ledger(
    `job ${o.jobId} SUBMITTED; inputs bound to their fingerprints; envelope sha256 ${String(s.body.job.envelopeSha256).slice(0, 16)}…`,
  );
  const done = await until(
    () => requester.call('GET', `/r6/jobs/${o.jobId}`),
    (r) => r.status === 200 && (r.body.status === 'COMPLETED' || r.body.status === 'FAILED'),
    120_000,
  );
  if (done.body.status !== 'COMPLETED') throw new StepFailed(`job ${o.jobId} ended ${done.body.status}: ${done.body.statusReason ?? ''}`);
  const out = expect(await requester.call('GET', `/r6/jobs/${o.jobId}/output`), 200, `output of ${o.jobId}`);
  const output = Buffer.from(out.body.data, 'base64');
  if (sha256(output) !== done.body.receipt.outputSha256)
    throw new StepFailed(`output of ${o.jobId} does not hash to the receipt's fingerprint ${done.body.receipt.outputSha256}`);
  const result = JSON.parse(output.toString('utf8')) as { readings: number; axes: Record<string, unknown> };
  say.ledger(
    `receipt by ${done.body.receipt.recordedBy.principal}: inputs ${String(done.body.receipt.inputsDigest).slice(0, 12)}… → output ${String(done.body.receipt.outputSha256).slice(0, 12)}… (${done.body.receipt.startedAt} – ${done.body.receipt.endedAt})`,
  );
  say.note(
    `decrypted result: ${result.readings} readings aggregated over ${Object.keys(result.axes).length} axes; its SHA-256 matches the receipt`,
  );
  return {
    jobId: o.jobId,
    requester: requester.label,
    status: done.body.status as string,
    outputSha256: done.body.receipt.outputSha256 as string,
  };
}

/** U1: two independent providers exist; the policy allows one; the requester's job runs there only. */
export async function runJobs(
  cast: Cast,
  say: Narrator,
  o: { providers: string[]; allowed: string; requester: Actor; metaverseId: string; dataIds: string[]; purpose: string },
): Promise<{ refused: string; jobs: JobOutcome[] }> {
  const operator = await cast.actor(DPM, 'admin', 'DPM providers operator');
  say.step('R5', operator, `two independent DPM providers register: ${o.providers.join(', ')}`);
  const started: Provider[] = [];
  try {
    for (const id of o.providers) started.push(await provider(cast, say, operator, id, id === o.allowed));
    const other = o.providers.find((p) => p !== o.allowed)!;
    say.step('R6', o.requester, `tries to send the data to ${other}, which the thing's policy does not allow`);
    const no = expect(
      await o.requester.call('POST', '/r6/jobs', {
        jobId: `refused-${cast.run}`,
        metaverseId: o.metaverseId,
        providerId: other,
        purpose: o.purpose,
        inputs: o.dataIds,
      }),
      403,
      `job to ${other}`,
    );
    say.note(`refused before any byte left: ${no.body.detail}`);
    const j = await job(say, o.requester, {
      jobId: `job-${cast.run}`,
      metaverseId: o.metaverseId,
      providerId: o.allowed,
      purpose: o.purpose,
      inputs: o.dataIds,
    });
    return { refused: no.body.detail as string, jobs: [j] };
  } finally {
    for (const p of started) await p.stop();
  }
}

/** U2: one shared provider serves several metaverses. */
export async function runShared(
  cast: Cast,
  say: Narrator,
  o: { providerId: string; dataIds: string[]; purpose: string; requesters: { actor: Actor; metaverseId: string }[] },
): Promise<JobOutcome[]> {
  const operator = await cast.actor(DPM, 'admin', 'DPM provider operator');
  say.step('R5', operator, `the shared DPM provider ${o.providerId} registers and starts its worker`);
  const p = await provider(cast, say, operator, o.providerId, true);
  try {
    const out: JobOutcome[] = [];
    for (const [i, r] of o.requesters.entries())
      out.push(
        await job(say, r.actor, {
          jobId: `shared-job${i + 1}-${cast.run}`,
          metaverseId: r.metaverseId,
          providerId: o.providerId,
          purpose: o.purpose,
          inputs: o.dataIds,
        }),
      );
    return out;
  } finally {
    await p.stop();
  }
}
