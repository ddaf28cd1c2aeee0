/**
 * The reference DPM worker (R6, X4, F3; docs/dpm.md), its own process: `npm run dpm:worker`.
 *
 * It holds its own Fabric identity, enrolled at its organisation's CA (DPMProviderMSP) with the
 * attributes role=dpm and principal=<providerId>; that key is the ECDH key inputs are encrypted to,
 * and it never leaves this process (nor its MSP folder, mode 600). The worker signs in to the
 * gateway as the provider principal, registers its certificate with a proof of possession, then
 * polls for its jobs: fetch the envelope, check its SHA-256 against the ledger's, open it (the
 * requester's signature and certificate chain, then decrypt), check every input against the
 * ledger's fingerprints, accept, aggregate the motion readings, seal the result to the requester,
 * post it with the receipt (output fingerprint, inputs digest, start and end times).
 *
 * Environment:
 *   MVSEC_DPM_GATEWAY_URL     the gateway (default http://127.0.0.1:8080); HTTPS trust via NODE_EXTRA_CA_CERTS
 *   MVSEC_DPM_PROVIDER_ID     the provider platform id (= the principal of the account and of the certificate)
 *   MVSEC_DPM_TOKEN           a bearer token of the provider account (+ MVSEC_DPM_REFRESH_TOKEN to renew it), or
 *   MVSEC_DPM_USERNAME / MVSEC_DPM_PASSWORD  (+ MVSEC_DPM_TOTP_SECRET when the account has a second factor)
 *   MVSEC_DPM_MSP_DIR         the worker's Fabric identity: signcerts/*.pem and keystore/* (created on enrollment)
 *   MVSEC_DPM_ENROLL_ID / MVSEC_DPM_ENROLL_SECRET  enroll at the org's CA when MVSEC_DPM_MSP_DIR holds no identity
 *   MVSEC_DPM_MSP_ID          the provider organisation (default DPMProviderMSP)
 *   MVSEC_DPM_TRUSTED_CAS     MSPID=/path/ca.pem,… (default: the network's organisation CAs, MVSEC_DATA_DIR)
 *   MVSEC_DPM_POLL_MS         poll interval (default 2000)
 */
import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '../../../network/topology.js';
import { bin } from '../../../scripts/fabric/install.js';
import { orgCaCert } from '../../../scripts/network/ca.js';
import { run } from '../../../scripts/lib/proc.js';
import { totpCode } from '../auth/totp.js';
import { aggregate } from './aggregate.js';
import { certSha256, EnvelopeError, openEnvelope, sealEnvelope, sha256Hex, type TrustAnchors } from 'mvsec-protocol/dpm';
import { decodeInputPayload, encodeResultPayload, keyRegistrationMessage } from 'mvsec-protocol/dpm';
import { networkTrust, trustFromList } from './trust.js';

interface Job {
  jobId: string;
  providerId: string;
  providerMspId: string;
  requesterMspId: string;
  purpose: string;
  status: string;
  inputs: { dataId: string; sha256: string }[];
  inputsDigest: string;
  envelopeSha256: string;
}

export interface WorkerConfig {
  gatewayUrl: string;
  providerId: string;
  mspId: string;
  token?: string;
  refreshToken?: string;
  username?: string;
  password?: string;
  totpSecret?: string;
  mspDir: string;
  enrollId?: string;
  enrollSecret?: string;
  trust: TrustAnchors;
  pollMs: number;
}

const log = (msg: string) => console.error(`${new Date().toISOString()} dpm-worker: ${msg}`);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { detail?: string } | undefined,
    what: string,
  ) {
    super(`${what}: ${status} ${problem?.detail ?? ''}`.trim());
  }
}

/** The worker's Fabric identity: load it from the MSP folder, enrolling first when there is none. */
export async function loadIdentity(c: Pick<WorkerConfig, 'mspDir' | 'mspId' | 'enrollId' | 'enrollSecret'>) {
  const certDir = join(c.mspDir, 'signcerts');
  if (!existsSync(certDir) || readdirSync(certDir).length === 0) {
    if (!c.enrollId || !c.enrollSecret) throw new Error(`no identity in ${c.mspDir} and no MVSEC_DPM_ENROLL_ID / _SECRET to enroll one`);
    const org = loadTopology().orgs.find((o) => o.mspId === c.mspId);
    if (!org) throw new Error(`no organisation ${c.mspId} in the network topology`);
    mkdirSync(c.mspDir, { recursive: true, mode: 0o700 });
    const url = `https://${encodeURIComponent(c.enrollId)}:${encodeURIComponent(c.enrollSecret)}@${org.ca.host}:${org.ca.port}`;
    await run(
      bin('fabric-ca-client'),
      ['enroll', '-u', url, '-M', c.mspDir, '--caname', org.ca.name, '--tls.certfiles', orgCaCert(org.key), '--csr.cn', c.enrollId],
      { env: { FABRIC_CA_CLIENT_HOME: c.mspDir }, timeoutMs: 30_000 },
    );
    log(`enrolled ${c.enrollId} at ${org.ca.name}; key kept in ${join(c.mspDir, 'keystore')}`);
  }
  const [certFile] = readdirSync(certDir).filter((f) => f.endsWith('.pem'));
  const keyDir = join(c.mspDir, 'keystore');
  const [keyFile] = readdirSync(keyDir);
  if (!certFile || !keyFile) throw new Error(`${c.mspDir} needs signcerts/*.pem and keystore/<key>`);
  const certificate = readFileSync(join(certDir, certFile), 'utf8');
  const privateKey: KeyObject = createPrivateKey(readFileSync(join(keyDir, keyFile), 'utf8'));
  return { mspId: c.mspId, certificate, privateKey };
}

export class DpmWorker {
  private token: string | undefined;
  private refreshToken: string | undefined;
  private stopped = false;
  /** A whole pass over every job was made (later passes read the open ones only). */
  private polledAll = false;
  /** Jobs this process gave up on (failed on the ledger, or refused to fail): not retried. */
  private readonly done = new Set<string>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly c: WorkerConfig,
    private readonly me: { mspId: string; certificate: string; privateKey: KeyObject },
  ) {
    this.token = c.token;
    this.refreshToken = c.refreshToken;
  }

  /** Sign in (again): rotate the refresh token when there is one, else the password (and TOTP). */
  private async login(): Promise<void> {
    if (this.refreshToken) {
      try {
        const t = (await this.raw('POST', '/auth/refresh', { refreshToken: this.refreshToken }, false)) as {
          accessToken: string;
          refreshToken: string;
        };
        this.token = t.accessToken;
        this.refreshToken = t.refreshToken;
        return;
      } catch (e) {
        this.refreshToken = undefined;
        log(`token refresh refused: ${(e as Error).message}`);
      }
    }
    if (!this.c.username || !this.c.password)
      throw new Error('the token was refused and neither a refresh token nor MVSEC_DPM_USERNAME / _PASSWORD are usable');
    const totp = this.c.totpSecret ? await totpCode(this.c.totpSecret, Date.now()) : undefined;
    const r = await this.raw(
      'POST',
      '/auth/login',
      { username: this.c.username, password: this.c.password, ...(totp ? { totp } : {}) },
      false,
    );
    this.token = (r as { accessToken: string }).accessToken;
    this.refreshToken = (r as { refreshToken?: string }).refreshToken;
  }

  private async raw(method: string, path: string, body: unknown, auth = true): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth && this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') headers['idempotency-key'] = randomBytes(12).toString('hex');
    const r = await fetch(this.c.gatewayUrl + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!r.ok) throw new HttpError(r.status, parsed as { detail?: string }, `${method} ${path}`);
    return parsed;
  }

  /** A call as the provider; signs in again once when the token was refused. */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.token) await this.login();
    try {
      return (await this.raw(method, path, body)) as T;
    } catch (e) {
      if (e instanceof HttpError && e.status === 401 && (this.refreshToken || this.c.username)) {
        await this.login();
        return (await this.raw(method, path, body)) as T;
      }
      throw e;
    }
  }

  /** Register this process's certificate as the provider's encryption key, proving possession of its key. */
  async registerKey(): Promise<void> {
    const signedAt = new Date().toISOString();
    const msg = keyRegistrationMessage(this.c.providerId, certSha256(this.me.certificate), signedAt);
    await this.call('PUT', `/r6/providers/${encodeURIComponent(this.c.providerId)}/key`, {
      certificate: this.me.certificate,
      signedAt,
      signature: sign('sha256', msg, this.me.privateKey).toString('base64'),
    });
    log(`registered certificate ${certSha256(this.me.certificate).slice(0, 16)}… as provider ${this.c.providerId}'s encryption key`);
  }

  /**
   * One pass over the provider's open jobs (the ledger's open-jobs index); returns how many were
   * completed. The first pass reads every job instead: jobs submitted before the index existed are
   * only there.
   */
  async poll(): Promise<number> {
    let completed = 0;
    let bookmark = '';
    const open = this.polledAll ? '&open=true' : '';
    for (;;) {
      const q = `pageSize=100${open}${bookmark ? `&bookmark=${encodeURIComponent(bookmark)}` : ''}`;
      const page = await this.call<{ items: Job[]; bookmark: string }>(
        'GET',
        `/r6/providers/${encodeURIComponent(this.c.providerId)}/jobs?${q}`,
      );
      for (const job of page.items) {
        if (this.stopped) return completed;
        if ((job.status !== 'SUBMITTED' && job.status !== 'ACCEPTED') || this.done.has(job.jobId)) continue;
        if (await this.process(job)) completed++;
      }
      if (!page.bookmark || page.items.length === 0) {
        this.polledAll = true;
        return completed;
      }
      bookmark = page.bookmark;
    }
  }

  private async fail(job: Job, reason: string): Promise<void> {
    this.done.add(job.jobId);
    log(`job ${job.jobId} FAILED: ${reason}`);
    try {
      await this.call('POST', `/r6/jobs/${encodeURIComponent(job.jobId)}/fail`, { reason: reason.slice(0, 1000) });
    } catch (e) {
      log(`could not record the failure of job ${job.jobId}: ${(e as Error).message}`);
    }
  }

  /** Fetch, verify, decrypt, accept, compute, seal, post the result and the receipt. */
  async process(job: Job): Promise<boolean> {
    const id = encodeURIComponent(job.jobId);
    const got = await this.call<{ envelope: string; sha256: string }>('GET', `/r6/jobs/${id}/envelope`);
    const bytes = Buffer.from(got.envelope, 'base64');
    if (sha256Hex(bytes) !== job.envelopeSha256) {
      await this.fail(job, `the envelope hashes to ${sha256Hex(bytes)}, the ledger records ${job.envelopeSha256}`);
      return false;
    }
    let inputs;
    let requester;
    try {
      const opened = openEnvelope(bytes, this.me, {
        trust: this.c.trust,
        expect: { kind: 'input', jobId: job.jobId, providerId: job.providerId, purpose: job.purpose, senderMspId: job.requesterMspId },
      });
      requester = { mspId: opened.envelope.sender.mspId, certificate: opened.envelope.sender.cert };
      inputs = decodeInputPayload(opened.payload);
      const ledger = job.inputs.map((i) => `${i.dataId}=${i.sha256}`).join(',');
      const sent = inputs.map((i) => `${i.dataId}=${i.sha256}`).join(',');
      if (ledger !== sent) throw new EnvelopeError('MISMATCH', `the envelope's inputs (${sent}) are not the ledger's (${ledger})`);
    } catch (e) {
      if (e instanceof EnvelopeError) {
        await this.fail(job, `input envelope refused (${e.code}): ${e.message}`);
        return false;
      }
      throw e;
    }
    if (job.status === 'SUBMITTED') await this.call('POST', `/r6/jobs/${id}/accept`);
    const startedAt = new Date().toISOString();
    let output: Buffer;
    let summary: string;
    try {
      const result = aggregate(inputs);
      output = Buffer.from(JSON.stringify(result));
      summary = `motion-aggregate/v1: count, mean, min, max, RMS per axis (${Object.keys(result.axes).join(', ')}) over ${result.readings} readings of ${inputs.length} input(s)`;
    } catch (e) {
      await this.fail(job, `the computation failed: ${(e as Error).message}`);
      return false;
    } finally {
      for (const i of inputs) i.data.fill(0);
    }
    const endedAt = new Date().toISOString();
    const outputSha256 = sha256Hex(output);
    const envelope = sealEnvelope({
      kind: 'result',
      jobId: job.jobId,
      providerId: job.providerId,
      purpose: job.purpose,
      payload: encodeResultPayload('application/json', output),
      meta: { outputSha256, inputsDigest: job.inputsDigest, inputEnvelopeSha256: job.envelopeSha256, startedAt, endedAt },
      sender: this.me,
      recipient: requester,
    });
    await this.call('POST', `/r6/jobs/${id}/result`, {
      envelope: envelope.toString('base64'),
      receipt: { outputSha256, startedAt, endedAt, summary: summary.slice(0, 1024) },
    });
    this.done.add(job.jobId);
    log(`job ${job.jobId} COMPLETED: output ${outputSha256}, result envelope ${sha256Hex(envelope)}`);
    return true;
  }

  async runForever(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.poll();
      } catch (e) {
        log(`poll: ${(e as Error).message}`);
      }
      if (this.stopped) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, this.c.pollMs);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is required`);
    return v;
  };
  const providerId = need('MVSEC_DPM_PROVIDER_ID');
  if (!env.MVSEC_DPM_TOKEN && !(env.MVSEC_DPM_USERNAME && env.MVSEC_DPM_PASSWORD))
    throw new Error('set MVSEC_DPM_TOKEN or MVSEC_DPM_USERNAME and MVSEC_DPM_PASSWORD (the provider account at the gateway)');
  return {
    gatewayUrl: (env.MVSEC_DPM_GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    providerId,
    mspId: env.MVSEC_DPM_MSP_ID ?? 'DPMProviderMSP',
    token: env.MVSEC_DPM_TOKEN,
    refreshToken: env.MVSEC_DPM_REFRESH_TOKEN,
    username: env.MVSEC_DPM_USERNAME,
    password: env.MVSEC_DPM_PASSWORD,
    totpSecret: env.MVSEC_DPM_TOTP_SECRET,
    mspDir: need('MVSEC_DPM_MSP_DIR'),
    enrollId: env.MVSEC_DPM_ENROLL_ID,
    enrollSecret: env.MVSEC_DPM_ENROLL_SECRET,
    trust: env.MVSEC_DPM_TRUSTED_CAS ? trustFromList(env.MVSEC_DPM_TRUSTED_CAS) : networkTrust(loadTopology()),
    pollMs: Number(env.MVSEC_DPM_POLL_MS ?? 2000),
  };
}

async function main(): Promise<void> {
  const c = configFromEnv();
  const me = await loadIdentity(c);
  const worker = new DpmWorker(c, me);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => worker.stop());
  await worker.registerKey();
  log(`provider ${c.providerId} polling ${c.gatewayUrl} every ${c.pollMs} ms`);
  await worker.runForever();
  log('stopped');
}

if (process.argv[1] && /dpm[/\\]worker\.ts$/.test(process.argv[1])) {
  main().catch((e) => {
    log(`fatal: ${(e as Error).message}`);
    process.exit(1);
  });
}
