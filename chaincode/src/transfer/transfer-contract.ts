import { Info, Param, Returns, Transaction } from '../common/decorators';
import { decideWithGrants, loadAccessTarget } from '../access/access-target';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf } from '../auth/identity';
import { loadAvatar } from '../avatar/avatar-store';
import { LIMITS } from '../common/config';
import { requirePeersOf } from '../common/endorsement';
import { conflict, expired, invalid } from '../common/errors';
import { keys } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { getRecord, keyExists, mustGet, putRecord } from '../common/state';
import { certainlyPassed, expiredSafely, isoOf, MAX_SKEW_MS, txMillis } from '../common/time';
import { assertId, assertSha256, assertText, parseInput, utcIso } from '../common/validation';
import { inputs } from 'mvsec-protocol';
import { saveData } from '../data/data-store';
import { loadActivePlatform } from '../platform/platform-store';
import type { Federation } from '../platform/platform-types';
import { loadPlatform } from '../platform/platform-store';
import { loadThing } from '../thing/thing-store';
import { type Classification, classificationLevel } from '../thing/thing-types';
import { holderOf } from '../data/data-holder';
import { isTerminal, nextStatus, type TransferStep as Step } from './transfer-state-machine';
import { Transfer } from './transfer-types';

/**
 * Cross-metaverse transfers under double verification (X3, R3): both metaverse platforms approve
 * and the owner consents; the transfer key carries a key-level endorsement policy naming both
 * metaverse organisations, so no single operator can move a transfer forward on its own.
 */
@Info({
  title: 'TransferContract',
  description: 'Cross-metaverse transfer state machine with key-level endorsement of both metaverses (X3, R3, C2)',
})
export class TransferContract extends LedgerContract {
  constructor() {
    super('transfer');
  }

  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {transferId, kind: SHARE|MOVE|EXCHANGE, sourceAvatarId, targetMetaverseId, targetAvatarId?, dataId, dataSha256, items?: [id], purpose, expiresAt (ISO, ≤ 30 days ahead)}',
  )
  @Returns('Transfer')
  public async RequestTransfer(ctx: LedgerContext, input: string): Promise<Transfer> {
    const caller = callerOf(ctx);
    const body = parseInput(inputs.RequestTransfer, 'input', input);
    const { transferId, kind, sourceAvatarId, targetMetaverseId, targetAvatarId, dataId, dataSha256, purpose } = body;
    const items = body.items ?? [];
    const expiresAt = utcIso(body.expiresAt);
    const now = txMillis(ctx);
    if (Date.parse(expiresAt) <= now) throw invalid('expiresAt must be after the transaction time');
    if (expiredSafely(Date.parse(expiresAt), now))
      throw invalid(`expiresAt must be more than ${MAX_SKEW_MS / 1000} s after the transaction time (clock skew bound)`);
    if (Date.parse(expiresAt) - now > LIMITS.transferLifetimeMs) throw invalid('expiresAt is more than 30 days ahead');

    const key = keys.transfer(ctx.stub, transferId);
    if (await keyExists(ctx, key)) throw conflict(`transfer ${transferId} already exists`);
    const target = await loadAccessTarget(ctx, 'DATA', dataId);
    const data = target.data!;
    const source = await loadAvatar(ctx, sourceAvatarId);
    if (source.thingId !== data.thingId) throw conflict(`data ${dataId} is not data of avatar ${sourceAvatarId}'s thing`);
    if (data.sha256 !== dataSha256) throw conflict(`dataSha256 does not match the fingerprint anchored for ${dataId}`);
    if (source.metaverseId === targetMetaverseId) throw conflict('source and target metaverse are the same; use a migration (X2)');
    const sourceMetaverse = await loadActivePlatform(ctx, source.metaverseId, 'METAVERSE');
    const targetMetaverse = await loadActivePlatform(ctx, targetMetaverseId, 'METAVERSE');
    const targetAvatar = targetAvatarId ? await loadAvatar(ctx, targetAvatarId) : undefined;
    if (targetAvatar && (targetAvatar.metaverseId !== targetMetaverseId || targetAvatar.thingId !== source.thingId)) {
      throw conflict(`avatar ${targetAvatarId} is not an avatar of thing ${source.thingId} in ${targetMetaverseId}`);
    }
    // Trust rule 3: before any authorization, the target must be cleared for the data's classification.
    const needed = classificationLevel(data.classification as Classification);
    for (const [what, level] of [
      [`target metaverse ${targetMetaverse.platformId}`, targetMetaverse.capabilityLevel],
      ...(targetAvatar ? [[`target avatar ${targetAvatar.avatarId}`, targetAvatar.capabilityLevel] as const] : []),
    ] as const) {
      if (level < needed) {
        throw conflict(`${what} has capability level ${level}; data ${dataId} is ${data.classification} (needs ${needed})`);
      }
    }
    const federation = await getRecord<Federation>(ctx, keys.federation(ctx.stub, source.metaverseId, targetMetaverseId));
    enforce(
      await decideWithGrants(ctx, caller, 'transfer.request', {
        target: { ...target, avatar: source },
        source,
        holder: holderOf(data, target.avatar),
        federation,
        sourcePlatform: sourceMetaverse,
        metaverse: targetMetaverse,
        purpose,
        now,
      }),
    );

    const at = isoOf(now);
    const transfer: Transfer = {
      docType: 'transfer',
      transferId,
      kind,
      thingId: source.thingId,
      sourceAvatarId,
      sourceMetaverseId: sourceMetaverse.platformId,
      sourceMspId: sourceMetaverse.mspId,
      targetMetaverseId,
      targetMspId: targetMetaverse.mspId,
      targetAvatarId,
      dataId,
      dataSha256,
      items,
      purpose,
      owner: target.thing.owner,
      ownerMspId: target.thing.mspId,
      status: 'REQUESTED',
      expiresAt,
      endorsingMsps: [],
      requestedBy: actorOf(caller),
      steps: [{ status: 'REQUESTED', at, by: actorOf(caller), txId: ctx.stub.getTxID() }],
      createdAt: at,
      updatedAt: at,
    };
    transfer.endorsingMsps = await requirePeersOf(ctx, key, [sourceMetaverse.mspId, targetMetaverse.mspId]);
    await putRecord(ctx, key, transfer);
    ctx.journal.record({
      subjectType: 'transfer',
      subjectId: transferId,
      action: 'requested',
      details: { from: transfer.sourceMetaverseId, to: targetMetaverseId, dataId, kind },
    });
    ctx.journal.record({
      subjectType: 'data',
      subjectId: dataId,
      action: 'transfer-requested',
      details: { transferId, to: targetMetaverseId },
    });
    return transfer;
  }

  /** Source platform admin approves (needs SOURCE side; status REQUESTED). */
  @Transaction()
  @Returns('Transfer')
  public async ApproveTransferAsSource(ctx: LedgerContext, transferId: string): Promise<Transfer> {
    const transfer = await this.open(ctx, transferId);
    enforce(authorize(callerOf(ctx), 'transfer.approveSource', { transfer }));
    return this.advance(ctx, transfer, 'approveSource');
  }

  /** Target platform admin approves (status SOURCE_APPROVED). */
  @Transaction()
  @Returns('Transfer')
  public async ApproveTransferAsTarget(ctx: LedgerContext, transferId: string): Promise<Transfer> {
    const transfer = await this.open(ctx, transferId);
    enforce(authorize(callerOf(ctx), 'transfer.approveTarget', { transfer }));
    return this.advance(ctx, transfer, 'approveTarget');
  }

  /** The thing's owner consents (status TARGET_APPROVED). */
  @Transaction()
  @Returns('Transfer')
  public async ConsentTransfer(ctx: LedgerContext, transferId: string): Promise<Transfer> {
    const transfer = await this.open(ctx, transferId);
    enforce(authorize(callerOf(ctx), 'transfer.consent', { transfer }));
    return this.advance(ctx, transfer, 'consent');
  }

  /** Execute once, bound to the data's hash (status CONSENTED, not expired, thing active, inside the transmit window). */
  @Transaction()
  @Param('dataSha256', 'string', 'SHA-256 (hex) of the data being moved; must equal the fingerprint bound at request')
  @Returns('Transfer')
  public async ExecuteTransfer(ctx: LedgerContext, transferId: string, dataSha256: string): Promise<Transfer> {
    const hash = assertSha256('dataSha256', dataSha256);
    const transfer = await this.open(ctx, transferId);
    const thing = await loadThing(ctx, transfer.thingId);
    // Trust rule 4: every party the movement depends on is read again now.
    const avatars = [await loadAvatar(ctx, transfer.sourceAvatarId)];
    if (transfer.targetAvatarId) avatars.push(await loadAvatar(ctx, transfer.targetAvatarId));
    const platforms = [await loadPlatform(ctx, transfer.sourceMetaverseId), await loadPlatform(ctx, transfer.targetMetaverseId)];
    const federation =
      (await getRecord<Federation>(ctx, keys.federation(ctx.stub, transfer.sourceMetaverseId, transfer.targetMetaverseId))) ?? null;
    const parties = { thing, avatars, platforms, federation };
    enforce(authorize(callerOf(ctx), 'transfer.execute', { transfer, thing, parties, now: txMillis(ctx) }));
    const step = nextStatus(transfer.status, 'execute');
    if ('error' in step) throw conflict(`transfer ${transfer.transferId}: ${step.error}`);
    if (hash !== transfer.dataSha256) throw conflict(`dataSha256 does not match the fingerprint bound to transfer ${transfer.transferId}`);
    const target = await loadAccessTarget(ctx, 'DATA', transfer.dataId);
    const data = target.data!;
    if (data.stage === 'DELETED') throw conflict(`data ${data.dataId} was deleted`);
    if (data.sha256 !== hash) throw conflict(`data ${data.dataId}'s anchored fingerprint changed`);
    const updated = await this.advance(ctx, transfer, 'execute');
    const at = isoOf(txMillis(ctx));
    await saveData(ctx, {
      ...data,
      stage: 'SHARED',
      lifecycle: [
        ...data.lifecycle,
        { stage: 'SHARED', at, by: actorOf(callerOf(ctx)), note: `transfer ${transfer.transferId} to ${transfer.targetMetaverseId}` },
      ],
      updatedAt: at,
    });
    ctx.journal.record({
      subjectType: 'data',
      subjectId: data.dataId,
      action: 'shared',
      details: { transferId: transfer.transferId, to: transfer.targetMetaverseId },
    });
    return updated;
  }

  @Transaction()
  @Returns('Transfer')
  public async RejectTransfer(ctx: LedgerContext, transferId: string, reason: string): Promise<Transfer> {
    const transfer = await this.load(ctx, transferId);
    enforce(authorize(callerOf(ctx), 'transfer.reject', { transfer }));
    return this.advance(ctx, transfer, 'reject', assertText('reason', reason));
  }

  @Transaction()
  @Returns('Transfer')
  public async RevokeTransfer(ctx: LedgerContext, transferId: string, reason: string): Promise<Transfer> {
    const transfer = await this.load(ctx, transferId);
    enforce(authorize(callerOf(ctx), 'transfer.revoke', { transfer }));
    return this.advance(ctx, transfer, 'revoke', assertText('reason', reason));
  }

  /** Record that a transfer passed its expiry without being executed. */
  @Transaction()
  @Returns('Transfer')
  public async ExpireTransfer(ctx: LedgerContext, transferId: string): Promise<Transfer> {
    const transfer = await this.load(ctx, transferId);
    enforce(authorize(callerOf(ctx), 'transfer.expire', { transfer }));
    // Rule 2: only once expiry has passed for every clock within the skew bound (no forward-dated early expiry).
    if (!certainlyPassed(Date.parse(transfer.expiresAt), txMillis(ctx))) {
      const from = isoOf(Date.parse(transfer.expiresAt) + MAX_SKEW_MS);
      throw conflict(`transfer ${transferId} expires at ${transfer.expiresAt}, not yet: it can be marked expired from ${from}`);
    }
    return this.advance(ctx, transfer, 'expire', `expired at ${transfer.expiresAt}`);
  }

  @Transaction(false)
  @Returns('Transfer')
  public async GetTransfer(ctx: LedgerContext, transferId: string): Promise<Transfer> {
    const transfer = await this.load(ctx, transferId);
    enforce(authorize(callerOf(ctx), 'transfer.read', { transfer }));
    return transfer;
  }

  private async load(ctx: LedgerContext, transferId: string): Promise<Transfer> {
    return mustGet<Transfer>(ctx, keys.transfer(ctx.stub, assertId('transferId', transferId)), `transfer ${transferId}`);
  }

  /** A transfer that can still move forward: not past its expiry, on the safe side of the clock skew bound. */
  private async open(ctx: LedgerContext, transferId: string): Promise<Transfer> {
    const transfer = await this.load(ctx, transferId);
    // Rule 2: refused from expiresAt − skew, so a backdated proposal cannot step or execute it late.
    const until = Date.parse(transfer.expiresAt);
    if (!isTerminal(transfer.status) && expiredSafely(until, txMillis(ctx))) {
      throw expired(
        until <= txMillis(ctx)
          ? `transfer ${transferId} expired at ${transfer.expiresAt}`
          : `transfer ${transferId} expires at ${transfer.expiresAt}: no step from ${isoOf(until - MAX_SKEW_MS)} (clock skew bound ${MAX_SKEW_MS / 1000} s)`,
      );
    }
    return transfer;
  }

  private async advance(ctx: LedgerContext, transfer: Transfer, step: Step, reason?: string): Promise<Transfer> {
    const next = nextStatus(transfer.status, step);
    if ('error' in next) throw conflict(`transfer ${transfer.transferId}: ${next.error}`);
    const at = isoOf(txMillis(ctx));
    const by = actorOf(callerOf(ctx));
    const updated: Transfer = {
      ...transfer,
      status: next.to,
      steps: [...transfer.steps, { status: next.to, at, by, txId: ctx.stub.getTxID(), ...(reason ? { reason } : {}) }],
      updatedAt: at,
    };
    await putRecord(ctx, keys.transfer(ctx.stub, transfer.transferId), updated);
    ctx.journal.record({
      subjectType: 'transfer',
      subjectId: transfer.transferId,
      action: next.to.toLowerCase(),
      details: reason ? { reason } : {},
    });
    return updated;
  }
}
