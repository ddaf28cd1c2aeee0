/**
 * The gateway's side of R6 (X4, F3): where envelopes are kept (<stateDir>/dpm), the callers' own
 * enrolled identities that sign what they send (a second IdentityService over the same sealed
 * files as the ledger's), jobs and their results, inputs read from the storage agent verified
 * against the ledger's fingerprints.
 */
import { join } from 'node:path';
import type { DpmJob, JobInput, Receipt } from 'mvsec-protocol';
import type { FabricNetwork } from '../config/schema.js';
import type { Caller } from '../auth/principal.js';
import { EnvelopeError, sha256Hex, type TrustAnchors } from 'mvsec-protocol/dpm';
import { ApiError } from '../http/problem.js';
import type { LedgerClient } from '../ledger/client.js';
import { FabricLedger } from '../ledger/fabric-ledger.js';
import { IdentityService } from '../ledger/identities.js';
import { IntegrityError } from '../r2-storage/format.js';
import { KeyError } from '../r2-storage/keyring.js';
import type { ObjectStore } from '../r2-storage/store.js';
import { ProviderTrust } from './provider-trust.js';
import { DpmStore } from './store.js';

export interface DpmRouteOptions {
  /** DPM material lives in <stateDir>/dpm (else <storageDir>/dpm; with neither the routes answer 503). */
  stateDir?: string;
  /** Unseals the callers' enrolled identities (the same sealed files the ledger's IdentityService keeps). */
  storageKey: Buffer;
  log: (msg: string) => void;
  /** The Fabric network of the gateway configuration; default: the FabricLedger's. */
  network?: FabricNetwork;
  /** CA certificates by MSP; default: the network's. */
  trust?: TrustAnchors;
  /** Largest total input of one job, in bytes (default 32 MiB). */
  maxInputBytes?: number;
  now?: () => number;
}

export const TAG = 'R6 external DPM';

export const envelopeProblem = (e: EnvelopeError, what: string) =>
  new ApiError(422, `${what}: ${e.message}`, 'envelope-refused', { members: { envelopeError: e.code } });

export class DpmService {
  readonly now: () => number;
  readonly log: (msg: string) => void;
  readonly providers: ProviderTrust;
  private readonly maxInputBytes: number;
  private readonly envelopes?: DpmStore;
  private identities?: IdentityService;

  constructor(
    readonly ledger: LedgerClient,
    private readonly storage: ObjectStore | undefined,
    private readonly o: DpmRouteOptions,
  ) {
    this.now = o.now ?? Date.now;
    this.log = o.log;
    this.maxInputBytes = o.maxInputBytes ?? 32 * 1024 * 1024;
    const raw = ledger.raw;
    this.providers = new ProviderTrust(
      { network: o.network ?? (raw instanceof FabricLedger ? raw.network : undefined), trust: o.trust },
      this.now,
    );
    // <stateDir>/dpm; a gateway without a state folder keeps it beside its object store (<storageDir>/dpm).
    const dpmDir = o.stateDir ? join(o.stateDir, 'dpm') : storage ? join(storage.dir, 'dpm') : undefined;
    this.envelopes = dpmDir ? new DpmStore(dpmDir) : undefined;
  }

  /** The envelope store (503 without a state folder or object store). */
  store(): DpmStore {
    if (!this.envelopes)
      throw new ApiError(503, 'DPM hand-off needs a gateway state folder (MVSEC_GATEWAY_STATE_DIR) or an object store', 'no-dpm-state');
    return this.envelopes;
  }

  /** The caller's own enrolled Fabric identity (its certificate and key sign the envelope it sends). */
  async identityOf(c: Caller) {
    const raw = this.ledger.raw;
    this.identities ??=
      raw instanceof FabricLedger ? raw.identities : new IdentityService(this.providers.net(), this.o.storageKey, this.o.stateDir);
    const id = await this.identities.identityOf(c);
    // envelopes need ECDH with the key itself; a key in a PKCS#11 token does not do that here (yet)
    if (!id.privateKey)
      throw new ApiError(
        501,
        `DPM envelopes are sealed and opened with the principal's own key; ${c.principal}@${c.mspId}'s key is in a PKCS#11 token, where this gateway does no ECDH yet`,
        'key-in-token',
      );
    return { ...id, privateKey: id.privateKey };
  }

  getJob(c: Caller, jobId: string): Promise<DpmJob> {
    return this.ledger.dpm.getJob(c, jobId);
  }

  /** A COMPLETED job (409 otherwise) and its result envelope held here (404 otherwise). */
  async completedResult(c: Caller, jobId: string): Promise<{ job: DpmJob & { receipt: Receipt }; bytes: Buffer }> {
    const job = await this.getJob(c, jobId);
    if (job.status !== 'COMPLETED' || !job.receipt)
      throw new ApiError(409, `job ${job.jobId} is ${job.status}; it has no result`, 'no-result');
    const bytes = await this.store().envelope(jobId, 'result');
    if (!bytes)
      throw new ApiError(404, `no result envelope for job ${job.jobId} is held by this gateway`, 'not-found', { code: 'NOT_FOUND' });
    return { job: job as DpmJob & { receipt: Receipt }, bytes };
  }

  /** Read every input from the storage agent, verified in full against the ledger's fingerprint. */
  async readInputs(inputs: JobInput[]): Promise<{ dataId: string; sha256: string; size: number; data: Buffer }[]> {
    const storage = this.storage;
    if (!storage) throw new ApiError(503, 'no off-chain store is configured on this gateway (MVSEC_GATEWAY_STORAGE_DIR)', 'no-storage');
    const out: { dataId: string; sha256: string; size: number; data: Buffer }[] = [];
    let total = 0;
    for (const input of inputs) {
      const e = await storage.entry(input.dataId);
      if (!e)
        throw new ApiError(
          409,
          `input ${input.dataId} is not held by this gateway's storage agent (R2); nothing was sent`,
          'input-not-here',
        );
      if (e.state === 'DELETED') throw new ApiError(410, `input ${input.dataId} is deleted`, 'deleted');
      total += e.size;
      if (total > this.maxInputBytes) throw new ApiError(413, `the job's inputs exceed ${this.maxInputBytes} bytes`);
      let reader;
      try {
        reader = await storage.openVerified(e, { sha256: input.sha256, size: e.size });
        const chunks: Buffer[] = [];
        for await (const c of reader.stream()) chunks.push(c as Buffer);
        const data = Buffer.concat(chunks);
        if (sha256Hex(data) !== input.sha256) throw new IntegrityError(`input ${input.dataId} does not hash to the ledger's fingerprint`);
        out.push({ dataId: input.dataId, sha256: input.sha256, size: data.length, data });
      } catch (err) {
        if (err instanceof IntegrityError || err instanceof KeyError) {
          this.log(`dpm: INTEGRITY input ${input.dataId} refused: ${err.message}`);
          throw new ApiError(
            502,
            `input ${input.dataId} failed verification against the ledger's fingerprint; nothing was sent`,
            'integrity-error',
            {
              code: 'INTEGRITY',
            },
          );
        }
        throw err;
      } finally {
        await reader?.close();
      }
    }
    return out;
  }
}
