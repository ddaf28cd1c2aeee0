import { Info, Param, Returns, Transaction } from '../common/decorators';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { callerOf } from '../auth/identity';
import { LIMITS } from '../common/config';
import { invalid } from '../common/errors';
import { HISTORY_KEYS, KeyType } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { pageByPartialKey } from '../common/state';
import { assertBookmark, assertEnum, assertId, assertPageSize, assertTimestamp } from '../common/validation';
import { ActivityPage, ActivityRecord, HistoryEntry } from './activity-types';

const PERIOD = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}))?$/;

/**
 * The activity log (M1, S1): records written by every state change (see common/journal.ts),
 * read here page by page by subject or by period, plus each record's key history. All
 * functions are evaluate-only (paged queries are read-only in Fabric).
 */
@Info({ title: 'AuditContract', description: 'Activity log by subject and by time, key history (M1, S1)' })
export class AuditContract extends LedgerContract {
  constructor() {
    super('audit');
  }

  @Transaction(false)
  @Param('subjectType', 'string', 'platform | federation | thing | avatar | migration | grant | transfer | data | batch | job | alert')
  @Param('pageSize', 'string', '1..200')
  @Param('bookmark', 'string', "'' for the first page, then the bookmark of the previous page")
  @Returns('ActivityPage')
  public async QueryActivityBySubject(
    ctx: LedgerContext,
    subjectType: string,
    subjectId: string,
    pageSize: string,
    bookmark: string,
  ): Promise<ActivityPage> {
    return this.activity(ctx, subjectType, subjectId, '', '', pageSize, bookmark);
  }

  /**
   * A subject's activity from `from` to `to` (inclusive; ISO 8601, either may be ''), in time order:
   * the first page starts at `from` in the subject's time-ordered index and a page ends at the
   * first record after `to` (bookmark ''), so a window of a long history costs the window, not the
   * history before it.
   */
  @Transaction(false)
  @Param('subjectType', 'string', 'as QueryActivityBySubject')
  @Param('from', 'string', "ISO 8601, inclusive, or '' (from the first record)")
  @Param('to', 'string', "ISO 8601, inclusive, or '' (to the last record)")
  @Returns('ActivityPage')
  public async QueryActivityBySubjectBetween(
    ctx: LedgerContext,
    subjectType: string,
    subjectId: string,
    from: string,
    to: string,
    pageSize: string,
    bookmark: string,
  ): Promise<ActivityPage> {
    return this.activity(ctx, subjectType, subjectId, from, to, pageSize, bookmark);
  }

  private async activity(
    ctx: LedgerContext,
    subjectType: string,
    subjectId: string,
    from: string,
    to: string,
    pageSize: string,
    bookmark: string,
  ): Promise<ActivityPage> {
    enforce(authorize(callerOf(ctx), 'audit.query'));
    const attrs = [assertId('subjectType', subjectType), assertId('subjectId', subjectId)];
    const start = from ? assertTimestamp('from', from) : '';
    const end = to ? assertTimestamp('to', to) : '';
    if (start && end && start > end) throw invalid('from is after to');
    const page = await pageByPartialKey<ActivityRecord>(
      ctx,
      KeyType.activityBySubject,
      attrs,
      assertPageSize(pageSize),
      assertBookmark(bookmark),
      start ? [start] : [],
    );
    const items = page.items.map((i) => i.value);
    // Record times are written as toISOString(): they compare as strings.
    const past = end ? items.findIndex((r) => r.time > end) : -1;
    return past >= 0 ? { items: items.slice(0, past), bookmark: '' } : { items, bookmark: page.bookmark };
  }

  /** Activity of one UTC day ("2025-03-01") or one hour ("2025-03-01T10"), in time order. */
  @Transaction(false)
  @Param('period', 'string', 'YYYY-MM-DD or YYYY-MM-DDTHH (UTC)')
  @Returns('ActivityPage')
  public async QueryActivityByTime(ctx: LedgerContext, period: string, pageSize: string, bookmark: string): Promise<ActivityPage> {
    enforce(authorize(callerOf(ctx), 'audit.query'));
    const match = PERIOD.exec(period ?? '');
    if (!match) throw invalid('period must be YYYY-MM-DD or YYYY-MM-DDTHH');
    const attrs = match[2] ? [match[1], match[2]] : [match[1]];
    const page = await pageByPartialKey<ActivityRecord>(
      ctx,
      KeyType.activityByTime,
      attrs,
      assertPageSize(pageSize),
      assertBookmark(bookmark),
    );
    return { items: page.items.map((i) => i.value), bookmark: page.bookmark };
  }

  /** Every committed version of one record, newest first (needs the peer's history database). */
  @Transaction(false)
  @Param('recordType', 'string', 'platform | thing | avatar | migration | grant | transfer | data | batch | job | alert')
  @Returns('HistoryEntry[]')
  public async GetHistory(ctx: LedgerContext, recordType: string, id: string): Promise<HistoryEntry[]> {
    enforce(authorize(callerOf(ctx), 'audit.query'));
    const type = assertEnum('recordType', recordType, Object.keys(HISTORY_KEYS));
    const key = HISTORY_KEYS[type](ctx.stub, assertId('id', id));
    const iterator = await ctx.stub.getHistoryForKey(key);
    const out: HistoryEntry[] = [];
    try {
      for (let r = await iterator.next(); !r.done && out.length < LIMITS.historyEntries; r = await iterator.next()) {
        const m = r.value;
        const seconds = typeof m.timestamp.seconds === 'number' ? m.timestamp.seconds : Number(m.timestamp.seconds.toString());
        out.push({
          txId: m.txId,
          time: new Date(seconds * 1000 + Math.floor(m.timestamp.nanos / 1e6)).toISOString(),
          isDelete: m.isDelete,
          value: m.isDelete ? '' : Buffer.from(m.value).toString('utf8'),
        });
      }
    } finally {
      await iterator.close();
    }
    return out;
  }
}
