/** M1, S1 the activity log and key history (audit contract). */
import type { ActivityPage, HistoryEntry } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import type { Transactions } from './transactions.js';

export class AuditLedger {
  constructor(private readonly tx: Transactions) {}

  /** Every committed version of one record, newest first. */
  history(caller: Caller, recordType: string, id: string): Promise<HistoryEntry[]> {
    return this.tx.evaluate(caller, 'audit:GetHistory', [recordType, id]);
  }
  bySubject(caller: Caller, subjectType: string, subjectId: string, pageSize: string, bookmark: string): Promise<ActivityPage> {
    return this.tx.evaluate(caller, 'audit:QueryActivityBySubject', [subjectType, subjectId, pageSize, bookmark]);
  }
  /** A subject's activity from `from` to `to` (inclusive, ISO 8601; '' for open ends). */
  bySubjectBetween(
    caller: Caller,
    subjectType: string,
    subjectId: string,
    from: string,
    to: string,
    pageSize: string,
    bookmark: string,
  ): Promise<ActivityPage> {
    return this.tx.evaluate(caller, 'audit:QueryActivityBySubjectBetween', [subjectType, subjectId, from, to, pageSize, bookmark]);
  }
  /** One UTC day (YYYY-MM-DD) or hour (YYYY-MM-DDTHH). */
  byTime(caller: Caller, period: string, pageSize: string, bookmark: string): Promise<ActivityPage> {
    return this.tx.evaluate(caller, 'audit:QueryActivityByTime', [period, pageSize, bookmark]);
  }
}
