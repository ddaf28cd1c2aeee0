import { Info, Param, Returns, Transaction } from '../common/decorators';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf } from '../auth/identity';
import { LIMITS } from '../common/config';
import { conflict, invalid } from '../common/errors';
import { guardKeys } from '../common/endorsement';
import { keys } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { keyExists } from '../common/state';
import { expiredSafely, isoOf, MAX_SKEW_MS, txMillis, txTime } from '../common/time';
import { assertEnum, assertId, assertText, parseInput, utcIso } from '../common/validation';
import { inputs } from 'mvsec-protocol';
import { decideWithGrants, loadAccessTarget, ownersOf } from './access-target';
import { grantsOf, loadGrant, MAX_GRANTS_PER_RESOURCE, saveGrant } from './grant-store';
import { ACCESS_ACTIONS, AccessDecision, ANY_PURPOSE, Grant, RESOURCE_TYPES, type ResourceType } from './grant-types';

/** Grants and the access decision every data movement asks for first (A1, X5). */
@Info({
  title: 'AccessContract',
  description: 'Grants (principal, MSP or role; read/write/share/process/delete; purpose; expiry) and CheckAccess (A1, A2, X5)',
})
export class AccessContract extends LedgerContract {
  constructor() {
    super('access');
  }

  @Transaction()
  @Param(
    'input',
    'string',
    "JSON {grantId, resourceType: THING|AVATAR|DATA, resourceId, grantee: {type: PRINCIPAL|MSP|ROLE, id, mspId? (required for PRINCIPAL)}, actions: [read|write|share|process|delete], purpose ('*' for any), validFrom? (ISO; default now), validUntil (ISO, ≤ 366 days ahead)}",
  )
  @Returns('Grant')
  public async CreateGrant(ctx: LedgerContext, input: string): Promise<Grant> {
    const caller = callerOf(ctx);
    const body = parseInput(inputs.CreateGrant, 'input', input);
    const { grantId, resourceType, resourceId, grantee, purpose } = body;
    const actions = [...new Set(body.actions)];
    const now = txMillis(ctx);
    const validFrom = body.validFrom === undefined ? isoOf(now) : utcIso(body.validFrom);
    const validUntil = utcIso(body.validUntil);
    if (Date.parse(validUntil) <= Math.max(now, Date.parse(validFrom)))
      throw invalid('validUntil must be after validFrom and after the transaction time');
    // Rule 2: a grant is refused from validUntil − skew; one that could never be used is refused now.
    if (expiredSafely(Date.parse(validUntil), Math.max(now, Date.parse(validFrom))))
      throw invalid(`validUntil must be more than ${MAX_SKEW_MS / 1000} s after validFrom and the transaction time (clock skew bound)`);
    if (Date.parse(validUntil) - now > LIMITS.grantLifetimeMs) throw invalid('validUntil is more than 366 days ahead');

    const target = await loadAccessTarget(ctx, resourceType, resourceId);
    enforce(authorize(caller, 'grant.manage', { target }));
    if (target.thing.status === 'REVOKED') throw conflict(`thing ${target.thing.thingId} is REVOKED`);
    if (await keyExists(ctx, keys.grant(ctx.stub, grantId))) throw conflict(`grant ${grantId} already exists`);
    if ((await grantsOf(ctx, resourceType, resourceId)).length >= MAX_GRANTS_PER_RESOURCE) {
      throw conflict(`${resourceType} ${resourceId} already has ${MAX_GRANTS_PER_RESOURCE} grants; revoke some first`);
    }
    const grant: Grant = {
      docType: 'grant',
      grantId,
      resourceType,
      resourceId,
      grantee,
      actions,
      purpose,
      validFrom,
      validUntil,
      status: 'ACTIVE',
      grantedBy: actorOf(caller),
      createdAt: isoOf(now),
      updatedAt: isoOf(now),
    };
    await saveGrant(ctx, grant);
    // Rule 9: a grant on a record belongs to that record's organisations, whose peers must endorse changes.
    await guardKeys(
      ctx,
      [keys.grant(ctx.stub, grantId), keys.grantByResource(ctx.stub, resourceType, resourceId, grantId)],
      ownersOf(target),
    );
    ctx.journal.record({
      subjectType: 'grant',
      subjectId: grantId,
      action: 'created',
      details: { resourceType, resourceId, grantee: { ...grantee }, actions, purpose, validUntil },
    });
    ctx.journal.record({ subjectType: resourceType.toLowerCase(), subjectId: resourceId, action: 'grant-created', details: { grantId } });
    return grant;
  }

  @Transaction()
  @Returns('Grant')
  public async RevokeGrant(ctx: LedgerContext, grantId: string, reason: string): Promise<Grant> {
    const caller = callerOf(ctx);
    const grant = await loadGrant(ctx, assertId('grantId', grantId));
    const target = await loadAccessTarget(ctx, grant.resourceType, grant.resourceId);
    enforce(authorize(caller, 'grant.manage', { target, grant }));
    if (grant.status !== 'ACTIVE') throw conflict(`grant ${grantId} is already ${grant.status}`);
    const updated: Grant = {
      ...grant,
      status: 'REVOKED',
      revokedBy: actorOf(caller),
      statusReason: assertText('reason', reason),
      updatedAt: txTime(ctx),
    };
    await saveGrant(ctx, updated);
    ctx.journal.record({ subjectType: 'grant', subjectId: grantId, action: 'revoked', details: { reason: updated.statusReason } });
    ctx.journal.record({
      subjectType: grant.resourceType.toLowerCase(),
      subjectId: grant.resourceId,
      action: 'grant-revoked',
      details: { grantId },
    });
    return updated;
  }

  @Transaction(false)
  @Returns('Grant')
  public async GetGrant(ctx: LedgerContext, grantId: string): Promise<Grant> {
    const grant = await loadGrant(ctx, assertId('grantId', grantId));
    const target = await loadAccessTarget(ctx, grant.resourceType, grant.resourceId);
    enforce(authorize(callerOf(ctx), 'grant.read', { grant, target }));
    return grant;
  }

  /** Grants on one resource (not those inherited from its thing); for its controllers and auditors. */
  @Transaction(false)
  @Returns('Grant[]')
  public async ListGrants(ctx: LedgerContext, resourceType: string, resourceId: string): Promise<Grant[]> {
    const caller = callerOf(ctx);
    const type = assertEnum('resourceType', resourceType, RESOURCE_TYPES) as ResourceType;
    const target = await loadAccessTarget(ctx, type, assertId('resourceId', resourceId));
    enforce(authorize(caller, 'grant.list', { target }));
    return grantsOf(ctx, type, resourceId);
  }

  /**
   * Evaluate-only: may the caller perform `action` on the resource for `purpose` now? The same
   * rule guards every write function that reads, writes, shares, processes or deletes data.
   */
  @Transaction(false)
  @Param('action', 'string', 'read | write | share | process | delete')
  @Param('purpose', 'string', "purpose of use, or '*'")
  @Returns('AccessDecision')
  public async CheckAccess(
    ctx: LedgerContext,
    resourceType: string,
    resourceId: string,
    action: string,
    purpose: string,
  ): Promise<AccessDecision> {
    const caller = callerOf(ctx);
    const type = assertEnum('resourceType', resourceType, RESOURCE_TYPES) as ResourceType;
    const accessAction = assertEnum('action', action, ACCESS_ACTIONS);
    const why = purpose === ANY_PURPOSE ? ANY_PURPOSE : assertId('purpose', purpose);
    const target = await loadAccessTarget(ctx, type, assertId('resourceId', resourceId));
    const decision = await decideWithGrants(ctx, caller, 'resource.access', { target, accessAction, purpose: why, now: txMillis(ctx) });
    return { allowed: decision.allowed, reason: decision.reason, ...(decision.grantId ? { grantId: decision.grantId } : {}) };
  }
}
