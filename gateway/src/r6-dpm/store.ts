/**
 * Where the gateway keeps DPM material (<stateDir>/dpm): input envelopes waiting for their
 * provider, result envelopes waiting for their requester, and each provider's registered
 * encryption certificate. Envelopes are ciphertext to their recipient; files are mode 600.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../durable-file.js';

export type EnvelopeSlot = 'input' | 'result';

export interface ProviderKey {
  providerId: string;
  mspId: string;
  /** The worker's Fabric enrollment certificate (PEM): its key is the ECDH key inputs are encrypted to. */
  certificate: string;
  certSha256: string;
  registeredBy: { mspId: string; principal: string };
  registeredAt: string;
}

export interface Staged {
  /** Make the envelope available under its job (atomic rename). */
  commit(): Promise<void>;
  discard(): Promise<void>;
}

const hashOf = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

async function readOrUndefined(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export class DpmStore {
  constructor(readonly dir: string) {}

  /** The file of a job's envelope (named by the SHA-256 of the job id). */
  envelopeFile(jobId: string, slot: EnvelopeSlot): string {
    return join(this.dir, 'jobs', `${hashOf(jobId)}.${slot}.cbor`);
  }

  private providerFile(providerId: string): string {
    return join(this.dir, 'providers', `${hashOf(providerId)}.json`);
  }

  /** Write the envelope beside its final name; it becomes visible only on commit (after the ledger accepted it). */
  async stage(jobId: string, slot: EnvelopeSlot, bytes: Buffer): Promise<Staged> {
    const final = this.envelopeFile(jobId, slot);
    const tmp = `${final}.${randomBytes(6).toString('hex')}.staged`;
    await mkdir(join(this.dir, 'jobs'), { recursive: true, mode: 0o700 });
    await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
    return {
      commit: () => rename(tmp, final),
      discard: () => rm(tmp, { force: true }),
    };
  }

  envelope(jobId: string, slot: EnvelopeSlot): Promise<Buffer | undefined> {
    return readOrUndefined(this.envelopeFile(jobId, slot));
  }

  async providerKey(providerId: string): Promise<ProviderKey | undefined> {
    const b = await readOrUndefined(this.providerFile(providerId));
    if (!b) return undefined;
    const k = JSON.parse(b.toString('utf8')) as ProviderKey;
    return k.providerId === providerId ? k : undefined;
  }

  async saveProviderKey(k: ProviderKey): Promise<void> {
    await writeFileAtomic(this.providerFile(k.providerId), JSON.stringify(k));
  }
}
