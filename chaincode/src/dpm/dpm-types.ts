import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
import { Grantee } from '../access/grant-types';
export { JOB_STATUSES, type JobStatus } from 'mvsec-protocol';
import { type JobStatus } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** An input of a job, bound to its fingerprint at submission. */
@DataType()
export class JobInput implements P.JobInput {
  @Property('dataId', 'string') public dataId!: string;
  @Property('sha256', 'string') public sha256!: string;
}

/** What the DPM provider signed: output fingerprint, times, what was done (F3, X4). */
@DataType()
export class Receipt implements P.Receipt {
  @Property('outputSha256', 'string') public outputSha256!: string;
  @Property('inputsDigest', 'string') public inputsDigest!: string;
  @Property('startedAt', 'string') public startedAt!: string;
  @Property('endedAt', 'string') public endedAt!: string;
  @Property('summary', 'string') public summary!: string;
  @Property('outputLocation', 'string') public outputLocation?: string;
  @Property('recordedBy', 'Actor') public recordedBy!: Actor;
  @Property('recordedAt', 'string') public recordedAt!: string;
}

/** A processing job sent by a metaverse to an external DPM provider (R6, X4). */
@DataType()
export class DpmJob implements P.DpmJob {
  @Property('docType', 'string') public docType!: 'job';
  @Property('jobId', 'string') public jobId!: string;
  @Property('metaverseId', 'string') public metaverseId!: string;
  @Property('requesterMspId', 'string') public requesterMspId!: string;
  @Property('providerId', 'string') public providerId!: string;
  @Property('providerMspId', 'string') public providerMspId!: string;
  @Property('inputs', 'JobInput[]') public inputs!: JobInput[];
  @Property('inputsDigest', 'string') public inputsDigest!: string;
  @Property('envelopeSha256', 'string') public envelopeSha256!: string;
  @Property('purpose', 'string') public purpose!: string;
  @Property('status', 'string') public status!: JobStatus;
  @Property('statusReason', 'string') public statusReason?: string;
  @Property('receipt', 'Receipt') public receipt?: Receipt;
  @Property('submittedBy', 'Actor') public submittedBy!: Actor;
  @Property('outputReaders', 'Grantee[]') public outputReaders?: Grantee[];
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}

@DataType()
export class DpmJobPage implements P.DpmJobPage {
  @Property('items', 'DpmJob[]') public items!: DpmJob[];
  @Property('bookmark', 'string') public bookmark!: string;
}
