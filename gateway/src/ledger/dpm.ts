/** R6 external DPM jobs (dpm contract). */
import type { DpmJob, DpmJobPage } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

/** What SubmitJob takes: the job, its inputs' data ids and the SHA-256 of the sealed input envelope. */
export interface SubmitJobInput {
  jobId: string;
  metaverseId: string;
  providerId: string;
  purpose: string;
  inputs: string[];
  envelopeSha256: string;
}

/** What RecordReceipt takes: what the provider signed (the ledger adds who recorded it and when). */
export interface ReceiptInput {
  outputSha256: string;
  startedAt: string;
  endedAt: string;
  summary: string;
  inputsDigest: string;
  outputLocation?: string;
}

export class DpmLedger {
  constructor(private readonly tx: Transactions) {}

  getJob(caller: Caller, jobId: string): Promise<DpmJob> {
    return this.tx.evaluate(caller, 'dpm:GetJob', [jobId]);
  }
  /** SubmitJob simulated as the caller (evaluated on a peer, never ordered): the ledger's decision and the job it would record. */
  planJob(caller: Caller, input: SubmitJobInput): Promise<DpmJob> {
    return this.tx.evaluate(caller, 'dpm:SubmitJob', [json(input)]);
  }
  submitJob(caller: Caller, input: SubmitJobInput, o?: SubmitOptions): Promise<Committed<DpmJob>> {
    return this.tx.submit(caller, 'dpm:SubmitJob', [json(input)], o);
  }
  acceptJob(caller: Caller, jobId: string, o?: SubmitOptions): Promise<Committed<DpmJob>> {
    return this.tx.submit(caller, 'dpm:AcceptJob', [jobId], o);
  }
  failJob(caller: Caller, jobId: string, reason: string, o?: SubmitOptions): Promise<Committed<DpmJob>> {
    return this.tx.submit(caller, 'dpm:FailJob', [jobId, reason], o);
  }
  /**
   * Only the job's provider identity (the contract's rule dpm.provider), asked by simulating
   * FailJob as the caller — evaluated, never ordered, so nothing changes; refuses otherwise.
   */
  async probeProvider(caller: Caller, jobId: string): Promise<void> {
    await this.tx.evaluate(caller, 'dpm:FailJob', [jobId, 'authorization probe (evaluated only, never submitted)']);
  }
  recordReceipt(caller: Caller, jobId: string, receipt: ReceiptInput, o?: SubmitOptions): Promise<Committed<DpmJob>> {
    return this.tx.submit(caller, 'dpm:RecordReceipt', [jobId, json(receipt)], o);
  }
  jobsOfProvider(caller: Caller, providerId: string, pageSize: string, bookmark: string): Promise<DpmJobPage> {
    return this.tx.evaluate(caller, 'dpm:ListJobsByProvider', [providerId, pageSize, bookmark]);
  }
  openJobsOfProvider(caller: Caller, providerId: string, pageSize: string, bookmark: string): Promise<DpmJobPage> {
    return this.tx.evaluate(caller, 'dpm:ListOpenJobsByProvider', [providerId, pageSize, bookmark]);
  }
}
