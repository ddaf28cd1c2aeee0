import type { Grantee } from './access';
import type { Actor } from './actor';

export const JOB_STATUSES = ['SUBMITTED', 'ACCEPTED', 'COMPLETED', 'FAILED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** An input of a job, bound to its fingerprint at submission. */
export interface JobInput {
  dataId: string;
  sha256: string;
}

/** What the DPM provider signed: output fingerprint, times, what was done (F3, X4). */
export interface Receipt {
  outputSha256: string;
  inputsDigest: string;
  startedAt: string;
  endedAt: string;
  summary: string;
  outputLocation?: string;
  recordedBy: Actor;
  recordedAt: string;
}

/** A processing job sent by a metaverse to an external DPM provider (R6, X4). */
export interface DpmJob {
  docType: 'job';
  jobId: string;
  metaverseId: string;
  requesterMspId: string;
  providerId: string;
  providerMspId: string;
  inputs: JobInput[];
  inputsDigest: string;
  envelopeSha256: string;
  purpose: string;
  status: JobStatus;
  statusReason?: string;
  receipt?: Receipt;
  submittedBy: Actor;
  /**
   * Who may read the job and its receipt besides the provider, auditors and monitors: the grantee
   * of each input's process right (the submitter itself where it controls the thing). A reader must
   * match every entry. Absent on jobs submitted before this field existed: then the submitter only.
   */
  outputReaders?: Grantee[];
  createdAt: string;
  updatedAt: string;
}

export interface DpmJobPage {
  items: DpmJob[];
  bookmark: string;
}
