import { Info, Param, Returns, Transaction } from '../common/decorators';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf } from '../auth/identity';
import { loadAvatar, saveAvatar } from '../avatar/avatar-store';
import { conflict, invalid } from '../common/errors';
import { keys, KeyType } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { keyExists, mustGet, pageByPartialKey, putIndex, putRecord } from '../common/state';
import { isoOf, txMillis } from '../common/time';
import {
  assertBookmark,
  assertBool,
  assertEnum,
  assertId,
  assertIdList,
  assertOnlyFields,
  assertPageSize,
  assertText,
  parseObject,
} from '../common/validation';
import { loadThing, saveThing } from '../thing/thing-store';
import { Alert, ALERT_SEVERITIES, ALERT_SUBJECTS, AlertPage } from './alert-types';

/** Alerts raised by the monitor (M2); a critical alert may suspend a thing or an avatar. */
@Info({ title: 'AlertContract', description: 'Monitoring alerts and automatic suspension (M2, X6)' })
export class AlertContract extends LedgerContract {
  constructor() {
    super('alert');
  }

  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {alertId, severity: INFO|WARNING|CRITICAL, rule, subjectType: THING|AVATAR|TRANSFER|DATA|PLATFORM|JOB|PRINCIPAL, subjectId, description, evidence?: [txId], suspend?: boolean (CRITICAL on THING or AVATAR only)}',
  )
  @Returns('Alert')
  public async RaiseAlert(ctx: LedgerContext, input: string): Promise<Alert> {
    const caller = callerOf(ctx);
    enforce(authorize(caller, 'alert.raise'));
    const body = parseObject('input', input);
    assertOnlyFields('input', body, ['alertId', 'severity', 'rule', 'subjectType', 'subjectId', 'description', 'evidence', 'suspend']);
    const alertId = assertId('alertId', body.alertId);
    const severity = assertEnum('severity', body.severity, ALERT_SEVERITIES);
    const subjectType = assertEnum('subjectType', body.subjectType, ALERT_SUBJECTS);
    const subjectId = assertId('subjectId', body.subjectId);
    const suspend = assertBool('suspend', body.suspend, false);
    if (suspend && (severity !== 'CRITICAL' || (subjectType !== 'THING' && subjectType !== 'AVATAR'))) {
      throw invalid('only a CRITICAL alert on a THING or AVATAR may suspend its subject');
    }
    const key = keys.alert(ctx.stub, alertId);
    if (await keyExists(ctx, key)) throw conflict(`alert ${alertId} already exists`);
    const at = isoOf(txMillis(ctx));
    const alert: Alert = {
      docType: 'alert',
      alertId,
      severity,
      rule: assertId('rule', body.rule),
      subjectType,
      subjectId,
      description: assertText('description', body.description ?? ''),
      evidence: assertIdList('evidence', body.evidence),
      status: 'OPEN',
      suspended: false,
      raisedBy: actorOf(caller),
      raisedAt: at,
    };
    if (suspend) {
      alert.suspended = await this.suspendSubject(ctx, alert, at);
    }
    await putRecord(ctx, key, alert);
    await putIndex(ctx, keys.alertOpen(ctx.stub, alertId));
    await putIndex(ctx, keys.alertBySubject(ctx.stub, subjectType, subjectId, alertId));
    ctx.journal.record({
      subjectType: 'alert',
      subjectId: alertId,
      action: 'raised',
      details: { severity, rule: alert.rule, subjectType, subjectId, suspended: alert.suspended },
    });
    return alert;
  }

  @Transaction()
  @Param('input', 'string', 'JSON {resolution, resume?: boolean (resume the subject this alert suspended)}')
  @Returns('Alert')
  public async ResolveAlert(ctx: LedgerContext, alertId: string, input: string): Promise<Alert> {
    const caller = callerOf(ctx);
    enforce(authorize(caller, 'alert.resolve'));
    const body = parseObject('input', input);
    assertOnlyFields('input', body, ['resolution', 'resume']);
    const alert = await mustGet<Alert>(ctx, keys.alert(ctx.stub, assertId('alertId', alertId)), `alert ${alertId}`);
    if (alert.status !== 'OPEN') throw conflict(`alert ${alertId} is already ${alert.status}`);
    const resume = assertBool('resume', body.resume, false);
    if (resume && !alert.suspended) throw conflict(`alert ${alertId} did not suspend its subject`);
    const at = isoOf(txMillis(ctx));
    const resumed = resume ? await this.resumeSubject(ctx, alert, at) : false;
    const updated: Alert = {
      ...alert,
      status: 'RESOLVED',
      resolvedBy: actorOf(caller),
      resolvedAt: at,
      resolution: assertText('resolution', body.resolution ?? ''),
      resumed,
    };
    await putRecord(ctx, keys.alert(ctx.stub, alertId), updated);
    await ctx.stub.deleteState(keys.alertOpen(ctx.stub, alertId));
    ctx.journal.record({ subjectType: 'alert', subjectId: alertId, action: 'resolved', details: { resumed } });
    return updated;
  }

  @Transaction(false)
  @Returns('Alert')
  public async GetAlert(ctx: LedgerContext, alertId: string): Promise<Alert> {
    enforce(authorize(callerOf(ctx), 'alert.read'));
    return mustGet<Alert>(ctx, keys.alert(ctx.stub, assertId('alertId', alertId)), `alert ${alertId}`);
  }

  @Transaction(false)
  @Returns('AlertPage')
  public async ListOpenAlerts(ctx: LedgerContext, pageSize: string, bookmark: string): Promise<AlertPage> {
    enforce(authorize(callerOf(ctx), 'alert.read'));
    const page = await pageByPartialKey<unknown>(ctx, KeyType.alertOpen, [], assertPageSize(pageSize), assertBookmark(bookmark));
    return this.resolvePage(
      ctx,
      page.items.map((i) => ctx.stub.splitCompositeKey(i.key).attributes[0]),
      page.bookmark,
    );
  }

  @Transaction(false)
  @Returns('AlertPage')
  public async ListAlertsBySubject(
    ctx: LedgerContext,
    subjectType: string,
    subjectId: string,
    pageSize: string,
    bookmark: string,
  ): Promise<AlertPage> {
    enforce(authorize(callerOf(ctx), 'alert.read'));
    const type = assertEnum('subjectType', subjectType, ALERT_SUBJECTS);
    const page = await pageByPartialKey<unknown>(
      ctx,
      KeyType.alertBySubject,
      [type, assertId('subjectId', subjectId)],
      assertPageSize(pageSize),
      assertBookmark(bookmark),
    );
    return this.resolvePage(
      ctx,
      page.items.map((i) => ctx.stub.splitCompositeKey(i.key).attributes[2]),
      page.bookmark,
    );
  }

  private async resolvePage(ctx: LedgerContext, ids: string[], bookmark: string): Promise<AlertPage> {
    const items: Alert[] = [];
    for (const id of ids) items.push(await mustGet<Alert>(ctx, keys.alert(ctx.stub, id), `alert ${id}`));
    return { items, bookmark };
  }

  /** Suspend the alert's thing or avatar; false when it was not ACTIVE (nothing to suspend). */
  private async suspendSubject(ctx: LedgerContext, alert: Alert, at: string): Promise<boolean> {
    const reason = `alert ${alert.alertId}: ${alert.rule}`;
    if (alert.subjectType === 'THING') {
      const thing = await loadThing(ctx, alert.subjectId);
      if (thing.status !== 'ACTIVE') return false;
      await saveThing(ctx, { ...thing, status: 'SUSPENDED', statusReason: reason, suspendedByAlert: alert.alertId, updatedAt: at });
    } else {
      const avatar = await loadAvatar(ctx, alert.subjectId);
      if (avatar.status !== 'ACTIVE') return false;
      await saveAvatar(ctx, { ...avatar, status: 'SUSPENDED', statusReason: reason, suspendedByAlert: alert.alertId, updatedAt: at });
    }
    ctx.journal.record({
      subjectType: alert.subjectType.toLowerCase(),
      subjectId: alert.subjectId,
      action: 'suspended',
      details: { alertId: alert.alertId },
    });
    return true;
  }

  /** Resume only what this alert suspended and is still suspended by it. */
  private async resumeSubject(ctx: LedgerContext, alert: Alert, at: string): Promise<boolean> {
    if (alert.subjectType === 'THING') {
      const thing = await loadThing(ctx, alert.subjectId);
      if (thing.status !== 'SUSPENDED' || thing.suspendedByAlert !== alert.alertId) return false;
      await saveThing(ctx, { ...thing, status: 'ACTIVE', statusReason: undefined, suspendedByAlert: undefined, updatedAt: at });
    } else {
      const avatar = await loadAvatar(ctx, alert.subjectId);
      if (avatar.status !== 'SUSPENDED' || avatar.suspendedByAlert !== alert.alertId) return false;
      await saveAvatar(ctx, { ...avatar, status: 'ACTIVE', statusReason: undefined, suspendedByAlert: undefined, updatedAt: at });
    }
    ctx.journal.record({
      subjectType: alert.subjectType.toLowerCase(),
      subjectId: alert.subjectId,
      action: 'resumed',
      details: { alertId: alert.alertId },
    });
    return true;
  }
}
