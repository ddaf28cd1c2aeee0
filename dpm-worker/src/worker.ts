/**
 * The reference DPM worker (R6, X4, F3; docs/dpm.md), the DPM provider's own process: `npm run dpm:worker`
 * (main.ts; configuration in config.ts, Fabric identity in identity.ts).
 *
 * It holds its own Fabric identity, whose key is the ECDH key inputs are encrypted to. It signs in
 * to the gateway as the provider principal (mvsec-client), registers its certificate with a proof
 * of possession, then polls for its jobs: fetch the envelope, check its SHA-256 against the
 * ledger's, open it (the requester's signature and certificate chain, then decrypt), check every
 * input against the ledger's fingerprints, accept, aggregate the motion readings, seal the result
 * to the requester, post it with the receipt (output fingerprint, inputs digest, start and end times).
 */
import { sign } from 'node:crypto';
import { Session } from 'mvsec-client';
import {
  certSha256,
  decodeInputPayload,
  EnvelopeError,
  encodeResultPayload,
  keyRegistrationMessage,
  openEnvelope,
  sealEnvelope,
  sha256Hex,
} from 'mvsec-protocol/dpm';
import { aggregate } from './aggregate.js';
import type { WorkerConfig } from './config.js';
import type { Identity } from './identity.js';

export type { WorkerConfig } from './config.js';

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

const log = (msg: string) => console.error(`${new Date().toISOString()} dpm-worker: ${msg}`);

export class DpmWorker {
  private readonly session: Session;
  private stopped = false;
  /** A whole pass over every job was made (later passes read the open ones only). */
  private polledAll = false;
  /** Jobs this process gave up on (failed on the ledger, or refused to fail): not retried. */
  private readonly done = new Set<string>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly c: WorkerConfig,
    private readonly me: Identity,
  ) {
    // On 401 the session renews the token: the refresh token (rotated), else the password (and TOTP).
    this.session = new Session(c.gatewayUrl, {
      ...(c.token ? { token: c.token } : {}),
      ...(c.refreshToken ? { refreshToken: c.refreshToken } : {}),
      ...(c.username && c.password
        ? { credentials: { username: c.username, password: c.password, ...(c.totpSecret ? { totpSecret: c.totpSecret } : {}) } }
        : {}),
      idempotent: true,
      log,
    });
  }

  /** A call as the provider (JSON, an Idempotency-Key on writes); a refusal throws its ApiProblem. */
  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.session.send<T>(method, path, body);
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
