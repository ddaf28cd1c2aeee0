import { Info, Param, Returns, Transaction } from '../common/decorators';
import { decideWithGrants, loadAccessTarget } from '../access/access-target';
import { loadGrant } from '../access/grant-store';
import type { Grantee } from '../access/grant-types';
import type { AccessTarget } from '../auth/access-rule';
import { authorize } from '../auth/authorize';
import { type Decision, enforce } from '../auth/decision';
import { actorOf, type Caller, callerOf } from '../auth/identity';
import { inactiveParty } from '../auth/liveness';
import { holderOf } from '../data/data-holder';
import type { Platform } from '../platform/platform-types';
import { LIMITS } from '../common/config';
import { conflict, denied, invalid } from '../common/errors';
import { guardKeys } from '../common/endorsement';
import { keys, KeyType } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { keyExists, mustGet, pageByPartialKey, putIndex, putRecord } from '../common/state';
import { isoOf, txMillis } from '../common/time';
import {
  assertBookmark,
  assertId,
  assertIdList,
  assertOnlyFields,
  assertPageSize,
  assertSha256,
  assertText,
  assertTimestamp,
  optionalId,
  parseObject,
} from '../common/validation';
import { canonicalJson, sha256Hex } from 'mvsec-protocol';
import { loadActivePlatform, loadPlatform } from '../platform/platform-store';
import { assertBoundProvider } from '../platform/provider-identity';
import { callerOfActor, granteeOf } from './dpm-policy';
import { DpmJob, DpmJobPage, JobInput, type JobStatus } from './dpm-types';

/** Digest binding a job's inputs: SHA-256 of the inputs' fingerprints joined by ',' in input order. */
export function inputsDigestOf(inputs: JobInput[]): string {
  return sha256Hex(inputs.map((i) => i.sha256).join(','));
}

/**
 * External data processing and management (R6, X4, F3): jobs accepted only where every input's
 * policy allows the provider and the purpose; only the provider's own identity accepts, records
 * the receipt, or fails the job.
 */
@Info({ title: 'DpmContract', description: 'DPM jobs, provider acceptance and signed receipts (R6, X4, F3)' })
export class DpmContract extends LedgerContract {
  constructor() {
    super('dpm');
  }

  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {jobId, metaverseId (requesting metaverse of the caller MSP), providerId (DPM platform), inputs: [dataId], purpose, envelopeSha256 (hash of the encrypted, encapsulated input package)}',
  )
  @Returns('DpmJob')
  public async SubmitJob(ctx: LedgerContext, input: string): Promise<DpmJob> {
    const caller = callerOf(ctx);
    const body = parseObject('input', input);
    assertOnlyFields('input', body, ['jobId', 'metaverseId', 'providerId', 'inputs', 'purpose', 'envelopeSha256']);
    const jobId = assertId('jobId', body.jobId);
    const inputIds = assertIdList('inputs', body.inputs, LIMITS.jobInputs);
    if (inputIds.length === 0) throw invalid('inputs must name at least one dataId');
    const purpose = assertId('purpose', body.purpose);
    const envelopeSha256 = assertSha256('envelopeSha256', body.envelopeSha256);
    const metaverse = await loadActivePlatform(ctx, assertId('metaverseId', body.metaverseId), 'METAVERSE');
    const provider = await loadActivePlatform(ctx, assertId('providerId', body.providerId), 'DPM');
    const key = keys.job(ctx.stub, jobId);
    if (await keyExists(ctx, key)) throw conflict(`job ${jobId} already exists`);
    const targets = await loadInputs(ctx, inputIds);
    const inputs = targets.map((t) => ({ data: t.data!, thing: t.thing }));
    enforce(authorize(caller, 'dpm.submit', { metaverse, provider, purpose, inputs }));
    // Trust rule 5: a right to have each input processed; the grantees of those rights are who reads the output.
    const readers = new Map<string, Grantee>();
    const grantIds: string[] = [];
    for (const decision of await processRights(ctx, caller, targets, metaverse, purpose)) {
      const grantee = decision.grantId ? { ...(await loadGrant(ctx, decision.grantId)).grantee } : granteeOf(caller);
      readers.set(canonicalJson(grantee), grantee);
      if (decision.grantId && !grantIds.includes(decision.grantId)) grantIds.push(decision.grantId);
    }
    const jobInputs: JobInput[] = inputs.map(({ data }) => ({ dataId: data.dataId, sha256: data.sha256 }));
    const at = isoOf(txMillis(ctx));
    const job: DpmJob = {
      docType: 'job',
      jobId,
      metaverseId: metaverse.platformId,
      requesterMspId: metaverse.mspId,
      providerId: provider.platformId,
      providerMspId: provider.mspId,
      inputs: jobInputs,
      inputsDigest: inputsDigestOf(jobInputs),
      envelopeSha256,
      purpose,
      status: 'SUBMITTED',
      submittedBy: actorOf(caller),
      outputReaders: [...readers.values()],
      createdAt: at,
      updatedAt: at,
    };
    await putRecord(ctx, key, job);
    await putIndex(ctx, keys.jobByProvider(ctx.stub, provider.platformId, jobId));
    await putIndex(ctx, keys.jobOpenByProvider(ctx.stub, provider.platformId, jobId));
    // Rule 9: the job belongs to the submitting metaverse and the provider (which runs no peer, so is left out).
    await guardKeys(ctx, [key, keys.jobOpenByProvider(ctx.stub, provider.platformId, jobId)], [metaverse.mspId, provider.mspId]);
    ctx.journal.record({
      subjectType: 'job',
      subjectId: jobId,
      action: 'submitted',
      details: { providerId: provider.platformId, purpose, inputs: inputIds, grantIds },
    });
    for (const dataId of inputIds)
      ctx.journal.record({
        subjectType: 'data',
        subjectId: dataId,
        action: 'sent-to-dpm',
        details: { jobId, providerId: provider.platformId },
      });
    return job;
  }

  @Transaction()
  @Returns('DpmJob')
  public async AcceptJob(ctx: LedgerContext, jobId: string): Promise<DpmJob> {
    const job = await this.forProvider(ctx, jobId, ['SUBMITTED']);
    await this.recheck(ctx, job);
    return this.save(ctx, { ...job, status: 'ACCEPTED' }, 'accepted', {});
  }

  @Transaction()
  @Param(
    'receipt',
    'string',
    "JSON {outputSha256, startedAt (ISO), endedAt (ISO), summary (what was done), outputLocation?, inputsDigest? (must equal the job's)}",
  )
  @Returns('DpmJob')
  public async RecordReceipt(ctx: LedgerContext, jobId: string, receipt: string): Promise<DpmJob> {
    const job = await this.forProvider(ctx, jobId, ['ACCEPTED']);
    const body = parseObject('receipt', receipt);
    assertOnlyFields('receipt', body, ['outputSha256', 'startedAt', 'endedAt', 'summary', 'outputLocation', 'inputsDigest']);
    const startedAt = assertTimestamp('startedAt', body.startedAt);
    const endedAt = assertTimestamp('endedAt', body.endedAt);
    const now = txMillis(ctx);
    if (startedAt > endedAt) throw invalid('startedAt is after endedAt');
    if (Date.parse(endedAt) > now) throw invalid('endedAt is after the transaction time');
    if (Date.parse(startedAt) < Date.parse(job.createdAt)) throw invalid('startedAt is before the job was submitted');
    if (body.inputsDigest !== undefined && assertSha256('inputsDigest', body.inputsDigest) !== job.inputsDigest) {
      throw conflict('inputsDigest does not match the inputs the job was submitted with');
    }
    const updated: DpmJob = {
      ...job,
      status: 'COMPLETED',
      receipt: {
        outputSha256: assertSha256('outputSha256', body.outputSha256),
        inputsDigest: job.inputsDigest,
        startedAt,
        endedAt,
        summary: assertText('summary', body.summary, 1024),
        outputLocation: optionalId('outputLocation', body.outputLocation),
        recordedBy: actorOf(callerOf(ctx)),
        recordedAt: isoOf(now),
      },
    };
    return this.save(ctx, updated, 'completed', { outputSha256: updated.receipt!.outputSha256, startedAt, endedAt });
  }

  @Transaction()
  @Returns('DpmJob')
  public async FailJob(ctx: LedgerContext, jobId: string, reason: string): Promise<DpmJob> {
    const job = await this.forProvider(ctx, jobId, ['SUBMITTED', 'ACCEPTED']);
    return this.save(ctx, { ...job, status: 'FAILED', statusReason: assertText('reason', reason) }, 'failed', { reason });
  }

  @Transaction(false)
  @Returns('DpmJob')
  public async GetJob(ctx: LedgerContext, jobId: string): Promise<DpmJob> {
    const job = await mustGet<DpmJob>(ctx, keys.job(ctx.stub, assertId('jobId', jobId)), `job ${jobId}`);
    enforce(authorize(callerOf(ctx), 'dpm.read', { job }));
    return job;
  }

  /** Jobs addressed to a provider, paged (evaluate-only): for the provider's MSP, auditors and monitors. */
  @Transaction(false)
  @Returns('DpmJobPage')
  public async ListJobsByProvider(ctx: LedgerContext, providerId: string, pageSize: string, bookmark: string): Promise<DpmJobPage> {
    return this.page(ctx, KeyType.jobByProvider, providerId, pageSize, bookmark);
  }

  /**
   * The provider's open jobs (SUBMITTED or ACCEPTED), paged (evaluate-only), same readers: a worker's
   * poll reads only what is left to do, however long the provider's history. (Jobs submitted before
   * this index existed are in ListJobsByProvider only.)
   */
  @Transaction(false)
  @Returns('DpmJobPage')
  public async ListOpenJobsByProvider(ctx: LedgerContext, providerId: string, pageSize: string, bookmark: string): Promise<DpmJobPage> {
    return this.page(ctx, KeyType.jobOpenByProvider, providerId, pageSize, bookmark);
  }

  private async page(ctx: LedgerContext, index: string, providerId: string, pageSize: string, bookmark: string): Promise<DpmJobPage> {
    const caller = callerOf(ctx);
    const provider = await loadPlatform(ctx, assertId('providerId', providerId));
    enforce(authorize(caller, 'dpm.list', { provider }));
    const page = await pageByPartialKey<unknown>(ctx, index, [providerId], assertPageSize(pageSize), assertBookmark(bookmark));
    const items: DpmJob[] = [];
    for (const { key } of page.items) {
      items.push(await mustGet<DpmJob>(ctx, keys.job(ctx.stub, ctx.stub.splitCompositeKey(key).attributes[1]), 'job'));
    }
    return { items, bookmark: page.bookmark };
  }

  /**
   * Trust rule 4 at acceptance (processing starts): the submitter's right to have every input
   * processed still holds, the inputs' things and avatars and both platforms are ACTIVE; else DENIED.
   */
  private async recheck(ctx: LedgerContext, job: DpmJob): Promise<void> {
    // Trust rule 1: the submitter's role as the role issuers recognise it now.
    const submitter = callerOfActor(job.submittedBy, ctx.roleIssuers);
    const metaverse = await loadPlatform(ctx, job.metaverseId);
    const provider = await loadPlatform(ctx, job.providerId);
    const targets = await loadInputs(
      ctx,
      job.inputs.map((i) => i.dataId),
    );
    const refuse = (reason: string) => denied(`job ${job.jobId} cannot start now: ${reason}`);
    for (const t of targets) {
      const inactive = inactiveParty({ thing: t.thing, avatars: t.avatar ? [t.avatar] : [], platforms: [metaverse, provider] });
      if (inactive) throw refuse(inactive.reason);
    }
    const inputs = targets.map((t) => ({ data: t.data!, thing: t.thing }));
    const submit = authorize(submitter, 'dpm.submit', { metaverse, provider, purpose: job.purpose, inputs });
    if (!submit.allowed) throw refuse(submit.reason);
    await processRights(ctx, submitter, targets, metaverse, job.purpose, refuse);
  }

  private async forProvider(ctx: LedgerContext, jobId: string, from: JobStatus[]): Promise<DpmJob> {
    const job = await mustGet<DpmJob>(ctx, keys.job(ctx.stub, assertId('jobId', jobId)), `job ${jobId}`);
    const caller = callerOf(ctx);
    enforce(authorize(caller, 'dpm.provider', { job }));
    // Rule 8: the provider's principal attribute is not enough; its certificate key must be the bound one.
    await assertBoundProvider(ctx, caller, job.providerId);
    if (!from.includes(job.status)) throw conflict(`job ${jobId} is ${job.status}; expected ${from.join(' or ')}`);
    return job;
  }

  private async save(ctx: LedgerContext, job: DpmJob, action: string, details: Record<string, unknown>): Promise<DpmJob> {
    const updated = { ...job, updatedAt: isoOf(txMillis(ctx)) };
    await putRecord(ctx, keys.job(ctx.stub, job.jobId), updated);
    if (job.status === 'COMPLETED' || job.status === 'FAILED')
      await ctx.stub.deleteState(keys.jobOpenByProvider(ctx.stub, job.providerId, job.jobId));
    ctx.journal.record({ subjectType: 'job', subjectId: job.jobId, action, details });
    return updated;
  }
}

/** The access targets (data, its avatar, its thing) of a job's inputs, in input order. */
async function loadInputs(ctx: LedgerContext, dataIds: string[]): Promise<AccessTarget[]> {
  const out: AccessTarget[] = [];
  for (const dataId of dataIds) out.push(await loadAccessTarget(ctx, 'DATA', dataId));
  return out;
}

/** The allowed process right of `caller` for each input; the first refusal is thrown (DENIED, or as `refuse` words it). */
async function processRights(
  ctx: LedgerContext,
  caller: Caller,
  targets: AccessTarget[],
  metaverse: Platform,
  purpose: string,
  refuse: (reason: string) => Error = denied,
): Promise<Decision[]> {
  const now = txMillis(ctx);
  const out: Decision[] = [];
  for (const target of targets) {
    const holder = holderOf(target.data!, target.avatar);
    const decision = await decideWithGrants(ctx, caller, 'dpm.process', { target, holder, metaverse, purpose, now });
    if (!decision.allowed) throw refuse(decision.reason);
    out.push(decision);
  }
  return out;
}
