import { Info, Param, Returns, Transaction } from '../common/decorators';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf } from '../auth/identity';
import { conflict } from '../common/errors';
import { guardKeys } from '../common/endorsement';
import { keys, KeyType } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { keyExists, listByPartialKey, mustGet, putIndex, putRecord } from '../common/state';
import { txTime } from '../common/time';
import { assertId, assertOnlyFields, assertSha256, assertText, parseInput, parseObject } from '../common/validation';
import { inputs } from 'mvsec-protocol';
import { loadData } from '../data/data-store';
import { loadActivePlatform } from '../platform/platform-store';
import { loadThing } from '../thing/thing-store';
import { loadAvatar, saveAvatar } from './avatar-store';
import { Avatar, type AvatarStatus, Migration } from './avatar-types';

/** Avatars: thing→metaverse mappings (X1) and migration between avatars of one metaverse (X2). */
@Info({ title: 'AvatarContract', description: 'Thing-to-metaverse mappings and in-metaverse migration (X1, X2, R1)' })
export class AvatarContract extends LedgerContract {
  constructor() {
    super('avatar');
  }

  /**
   * The metaverse side proposes mapping a thing whose policy allows that metaverse. The avatar is
   * PENDING — usable for nothing — until the thing's side agrees with ApproveMapping (both sides
   * authenticate, X1; trust rule 8).
   */
  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {avatarId, thingId, metaverseId, mode: ACTIVE|PASSIVE, capabilityLevel: 0..3 (≤ metaverse level), agents?: [principal] (admin or creator only)}',
  )
  @Returns('Avatar')
  public async MapAvatar(ctx: LedgerContext, input: string): Promise<Avatar> {
    const caller = callerOf(ctx);
    const body = parseInput(inputs.MapAvatar, 'input', input);
    const { avatarId, thingId, metaverseId, mode, capabilityLevel } = body;
    const agents = [...(body.agents ?? [])];
    const metaverse = await loadActivePlatform(ctx, metaverseId, 'METAVERSE');
    const thing = await loadThing(ctx, thingId);
    enforce(authorize(caller, 'avatar.map', { metaverse, thing, agents }));
    if (capabilityLevel > metaverse.capabilityLevel)
      throw conflict(`capabilityLevel ${capabilityLevel} exceeds metaverse ${metaverseId}'s level ${metaverse.capabilityLevel}`);
    if (await keyExists(ctx, keys.avatar(ctx.stub, avatarId))) throw conflict(`avatar ${avatarId} already exists`);
    const now = txTime(ctx);
    const avatar: Avatar = {
      docType: 'avatar',
      avatarId,
      thingId,
      metaverseId,
      mspId: metaverse.mspId,
      mode,
      capabilityLevel,
      agents,
      status: 'PENDING',
      mappedBy: actorOf(caller),
      createdAt: now,
      updatedAt: now,
    };
    await saveAvatar(ctx, avatar);
    await putIndex(ctx, keys.avatarByThing(ctx.stub, thingId, metaverseId, avatarId));
    // Rule 9: the avatar belongs to its metaverse's organisation, whose peer must endorse changes.
    await guardKeys(ctx, [keys.avatar(ctx.stub, avatarId), keys.avatarByThing(ctx.stub, thingId, metaverseId, avatarId)], [avatar.mspId]);
    ctx.journal.record({ subjectType: 'avatar', subjectId: avatarId, action: 'mapped', details: { thingId, metaverseId, mode } });
    ctx.journal.record({ subjectType: 'thing', subjectId: thingId, action: 'avatar-mapped', details: { avatarId, metaverseId } });
    return avatar;
  }

  /**
   * The thing's side agrees to a PENDING mapping as proposed (mode, capability level, agents): its
   * owner or one of its listed thing agents (trust rule 8), while the thing, the metaverse and the
   * thing's policy still allow it. The avatar becomes ACTIVE.
   */
  @Transaction()
  @Returns('Avatar')
  public async ApproveMapping(ctx: LedgerContext, avatarId: string): Promise<Avatar> {
    const caller = callerOf(ctx);
    const avatar = await loadAvatar(ctx, assertId('avatarId', avatarId));
    const thing = await loadThing(ctx, avatar.thingId);
    const metaverse = await loadActivePlatform(ctx, avatar.metaverseId, 'METAVERSE');
    enforce(authorize(caller, 'avatar.approve', { avatar, thing, metaverse }));
    if (avatar.status !== 'PENDING') throw conflict(`avatar ${avatarId} is ${avatar.status}, not awaiting approval`);
    const now = txTime(ctx);
    const updated: Avatar = { ...avatar, status: 'ACTIVE', approvedBy: actorOf(caller), approvedAt: now, updatedAt: now };
    await saveAvatar(ctx, updated);
    ctx.journal.record({ subjectType: 'avatar', subjectId: avatarId, action: 'mapping-approved', details: { thingId: avatar.thingId } });
    ctx.journal.record({
      subjectType: 'thing',
      subjectId: avatar.thingId,
      action: 'avatar-approved',
      details: { avatarId, metaverseId: avatar.metaverseId },
    });
    return updated;
  }

  /** The thing's side refuses a PENDING mapping: the avatar becomes UNMAPPED with the reason. */
  @Transaction()
  @Returns('Avatar')
  public async RejectMapping(ctx: LedgerContext, avatarId: string, reason: string): Promise<Avatar> {
    const caller = callerOf(ctx);
    const avatar = await loadAvatar(ctx, assertId('avatarId', avatarId));
    const thing = await loadThing(ctx, avatar.thingId);
    enforce(authorize(caller, 'avatar.reject', { avatar, thing }));
    if (avatar.status !== 'PENDING') throw conflict(`avatar ${avatarId} is ${avatar.status}, not awaiting approval`);
    return this.unmap(ctx, avatar, assertText('reason', reason), 'mapping-rejected');
  }

  @Transaction()
  @Returns('Avatar')
  public async UnmapAvatar(ctx: LedgerContext, avatarId: string, reason: string): Promise<Avatar> {
    const caller = callerOf(ctx);
    const avatar = await loadAvatar(ctx, assertId('avatarId', avatarId));
    const thing = await loadThing(ctx, avatar.thingId);
    enforce(authorize(caller, 'avatar.manage', { avatar, thing }));
    if (avatar.status === 'UNMAPPED') throw conflict(`avatar ${avatarId} is already UNMAPPED`);
    return this.unmap(ctx, avatar, assertText('reason', reason), 'unmapped');
  }

  @Transaction()
  @Param('agents', 'string', 'JSON array of principal ids of the avatar agents (in the metaverse MSP)')
  @Returns('Avatar')
  public async SetAvatarAgents(ctx: LedgerContext, avatarId: string, agents: string): Promise<Avatar> {
    const caller = callerOf(ctx);
    const avatar = await loadAvatar(ctx, assertId('avatarId', avatarId));
    const thing = await loadThing(ctx, avatar.thingId);
    enforce(authorize(caller, 'avatar.manage', { avatar, thing }));
    if (avatar.status === 'UNMAPPED') throw conflict(`avatar ${avatarId} is UNMAPPED`);
    if (avatar.status === 'PENDING') throw conflict(`avatar ${avatarId} awaits its owner's approval of the agents it was proposed with`);
    const updated: Avatar = { ...avatar, agents: parseInput(inputs.Agents.shape.agents, 'agents', agents), updatedAt: txTime(ctx) };
    await saveAvatar(ctx, updated);
    ctx.journal.record({ subjectType: 'avatar', subjectId: avatarId, action: 'agents-set', details: { agents: updated.agents } });
    return updated;
  }

  @Transaction()
  @Returns('Avatar')
  public async SuspendAvatar(ctx: LedgerContext, avatarId: string, reason: string): Promise<Avatar> {
    const caller = callerOf(ctx);
    const avatar = await loadAvatar(ctx, assertId('avatarId', avatarId));
    const thing = await loadThing(ctx, avatar.thingId);
    enforce(authorize(caller, 'avatar.manage', { avatar, thing }));
    return this.setStatus(ctx, avatar, 'SUSPENDED', assertText('reason', reason));
  }

  @Transaction()
  @Returns('Avatar')
  public async ResumeAvatar(ctx: LedgerContext, avatarId: string): Promise<Avatar> {
    const caller = callerOf(ctx);
    const avatar = await loadAvatar(ctx, assertId('avatarId', avatarId));
    enforce(authorize(caller, 'avatar.resume', { avatar }));
    return this.setStatus(ctx, avatar, 'ACTIVE', undefined);
  }

  @Transaction(false)
  @Returns('Avatar')
  public async GetAvatar(ctx: LedgerContext, avatarId: string): Promise<Avatar> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    return loadAvatar(ctx, assertId('avatarId', avatarId));
  }

  /** Mapped avatars of a thing, optionally in one metaverse (metaverseId '' for all). */
  @Transaction(false)
  @Returns('Avatar[]')
  public async ListAvatarsOfThing(ctx: LedgerContext, thingId: string, metaverseId: string): Promise<Avatar[]> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    const attrs = [assertId('thingId', thingId)];
    if (metaverseId) attrs.push(assertId('metaverseId', metaverseId));
    const index = await listByPartialKey<unknown>(ctx, KeyType.avatarByThing, attrs, 256);
    const avatars: Avatar[] = [];
    for (const { key } of index) {
      const { attributes } = ctx.stub.splitCompositeKey(key);
      avatars.push(await loadAvatar(ctx, attributes[2]));
    }
    return avatars;
  }

  /**
   * Start migrating a data object between two avatars of the same thing in one metaverse (X2):
   * both avatars active, the target's capability level covers the data's classification, and a
   * backup reference is recorded for recovery.
   */
  @Transaction()
  @Param('input', 'string', 'JSON {migrationId, sourceAvatarId, targetAvatarId, dataId, backupRef}')
  @Returns('Migration')
  public async StartMigration(ctx: LedgerContext, input: string): Promise<Migration> {
    const caller = callerOf(ctx);
    const body = parseObject('input', input);
    assertOnlyFields('input', body, ['migrationId', 'sourceAvatarId', 'targetAvatarId', 'dataId', 'backupRef']);
    const migrationId = assertId('migrationId', body.migrationId);
    const source = await loadAvatar(ctx, assertId('sourceAvatarId', body.sourceAvatarId));
    const target = await loadAvatar(ctx, assertId('targetAvatarId', body.targetAvatarId));
    const thing = await loadThing(ctx, source.thingId);
    if (source.avatarId === target.avatarId) throw conflict('source and target avatar are the same');
    if (target.thingId !== source.thingId) throw conflict(`avatars ${source.avatarId} and ${target.avatarId} belong to different things`);
    if (target.metaverseId !== source.metaverseId)
      throw conflict('migration stays within one metaverse; use a transfer across metaverses (X3)');
    const data = await loadData(ctx, assertId('dataId', body.dataId));
    if (data.thingId !== source.thingId) throw conflict(`data ${data.dataId} is not data of thing ${source.thingId}`);
    if (data.stage === 'DELETED') throw conflict(`data ${data.dataId} is deleted`);
    enforce(authorize(caller, 'migration.start', { avatar: source, targetAvatar: target, thing, data }));
    const key = keys.migration(ctx.stub, migrationId);
    if (await keyExists(ctx, key)) throw conflict(`migration ${migrationId} already exists`);
    const now = txTime(ctx);
    const migration: Migration = {
      docType: 'migration',
      migrationId,
      thingId: source.thingId,
      metaverseId: source.metaverseId,
      sourceAvatarId: source.avatarId,
      targetAvatarId: target.avatarId,
      dataId: data.dataId,
      dataSha256: data.sha256,
      classification: data.classification,
      targetCapabilityLevel: target.capabilityLevel,
      backupRef: assertText('backupRef', body.backupRef, 512),
      status: 'IN_PROGRESS',
      startedBy: actorOf(caller),
      createdAt: now,
      updatedAt: now,
    };
    if (!migration.backupRef) throw conflict('backupRef is required: a migration needs a backup to recover from');
    await putRecord(ctx, key, migration);
    await guardKeys(ctx, [key], [source.mspId]);
    ctx.journal.record({
      subjectType: 'migration',
      subjectId: migrationId,
      action: 'started',
      details: { source: source.avatarId, target: target.avatarId, dataId: data.dataId },
    });
    ctx.journal.record({ subjectType: 'data', subjectId: data.dataId, action: 'migration-started', details: { migrationId } });
    return migration;
  }

  @Transaction()
  @Param('resultSha256', 'string', 'SHA-256 (hex) of the data as received by the target avatar; must equal the source fingerprint')
  @Returns('Migration')
  public async CompleteMigration(ctx: LedgerContext, migrationId: string, resultSha256: string): Promise<Migration> {
    const migration = await this.loadOpenMigration(ctx, migrationId);
    const hash = assertSha256('resultSha256', resultSha256);
    if (hash !== migration.dataSha256)
      throw conflict(`resultSha256 does not match the migrated data's fingerprint; roll back from ${migration.backupRef}`);
    return this.finish(ctx, migration, { status: 'COMPLETED', resultSha256: hash });
  }

  @Transaction()
  @Returns('Migration')
  public async RollbackMigration(ctx: LedgerContext, migrationId: string, reason: string): Promise<Migration> {
    const migration = await this.loadOpenMigration(ctx, migrationId);
    return this.finish(ctx, migration, { status: 'ROLLED_BACK', statusReason: assertText('reason', reason) });
  }

  @Transaction(false)
  @Returns('Migration')
  public async GetMigration(ctx: LedgerContext, migrationId: string): Promise<Migration> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    return mustGet<Migration>(ctx, keys.migration(ctx.stub, assertId('migrationId', migrationId)), `migration ${migrationId}`);
  }

  private async loadOpenMigration(ctx: LedgerContext, migrationId: string): Promise<Migration> {
    const migration = await mustGet<Migration>(
      ctx,
      keys.migration(ctx.stub, assertId('migrationId', migrationId)),
      `migration ${migrationId}`,
    );
    const source = await loadAvatar(ctx, migration.sourceAvatarId);
    const thing = await loadThing(ctx, migration.thingId);
    // A suspended thing may still roll back, so only identity is checked here.
    enforce(authorize(callerOf(ctx), 'avatar.manage', { avatar: source, thing }));
    if (migration.status !== 'IN_PROGRESS') throw conflict(`migration ${migrationId} is already ${migration.status}`);
    return migration;
  }

  private async finish(ctx: LedgerContext, migration: Migration, change: Partial<Migration>): Promise<Migration> {
    const updated: Migration = { ...migration, ...change, updatedAt: txTime(ctx) };
    await putRecord(ctx, keys.migration(ctx.stub, migration.migrationId), updated);
    ctx.journal.record({
      subjectType: 'migration',
      subjectId: migration.migrationId,
      action: updated.status.toLowerCase(),
      details: { backupRef: migration.backupRef },
    });
    ctx.journal.record({
      subjectType: 'data',
      subjectId: migration.dataId,
      action: `migration-${updated.status.toLowerCase()}`,
      details: { migrationId: migration.migrationId },
    });
    return updated;
  }

  private async unmap(ctx: LedgerContext, avatar: Avatar, reason: string, action: string): Promise<Avatar> {
    const updated: Avatar = { ...avatar, status: 'UNMAPPED', statusReason: reason, updatedAt: txTime(ctx) };
    await saveAvatar(ctx, updated);
    await ctx.stub.deleteState(keys.avatarByThing(ctx.stub, avatar.thingId, avatar.metaverseId, avatar.avatarId));
    ctx.journal.record({ subjectType: 'avatar', subjectId: avatar.avatarId, action, details: { reason } });
    ctx.journal.record({
      subjectType: 'thing',
      subjectId: avatar.thingId,
      action: 'avatar-unmapped',
      details: { avatarId: avatar.avatarId },
    });
    return updated;
  }

  private async setStatus(ctx: LedgerContext, avatar: Avatar, status: AvatarStatus, reason: string | undefined): Promise<Avatar> {
    if (avatar.status === 'UNMAPPED') throw conflict(`avatar ${avatar.avatarId} is UNMAPPED`);
    if (avatar.status === 'PENDING') throw conflict(`avatar ${avatar.avatarId} awaits its owner's approval`);
    if (avatar.status === status) throw conflict(`avatar ${avatar.avatarId} is already ${status}`);
    const updated: Avatar = { ...avatar, status, statusReason: reason, suspendedByAlert: undefined, updatedAt: txTime(ctx) };
    await saveAvatar(ctx, updated);
    ctx.journal.record({
      subjectType: 'avatar',
      subjectId: avatar.avatarId,
      action: status === 'ACTIVE' ? 'resumed' : 'suspended',
      details: reason ? { reason } : {},
    });
    return updated;
  }
}
