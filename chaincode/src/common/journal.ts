import type { Context } from 'fabric-contract-api';
import { actorOf, callerOf } from '../auth/identity';
import type { ActivityRecord, ChangeEvent } from '../audit/activity-types';
import { EVENT_NAME } from './config';
import { keys } from './keys';
import { canonicalJson, toBytes } from './serialization';
import { txTime } from './time';

/** What a transaction function reports about one state change. */
export interface Change {
  subjectType: string;
  subjectId: string;
  action: string;
  details?: Record<string, unknown>;
}

/**
 * Collects every change a transaction makes and, once the function has returned, writes one
 * activity record per change (under the subject index and the time index) and emits exactly one
 * chaincode event listing them all. Fabric keeps only the last setEvent of a transaction, so
 * contracts never call setEvent themselves.
 */
export class TxJournal {
  private readonly changes: Change[] = [];
  private flushed = false;

  record(change: Change): void {
    if (this.flushed) throw new Error('journal already flushed for this transaction');
    this.changes.push(change);
  }

  get size(): number {
    return this.changes.length;
  }

  async flush(ctx: Context): Promise<void> {
    if (this.flushed) return;
    this.flushed = true;
    if (this.changes.length === 0) return;
    const time = txTime(ctx);
    const txId = ctx.stub.getTxID();
    const fn = ctx.stub.getFunctionAndParameters().fcn;
    const actor = actorOf(callerOf(ctx));
    const records: ActivityRecord[] = this.changes.map((change, seq) => ({
      docType: 'activity',
      txId,
      seq,
      time,
      fn,
      actor,
      subjectType: change.subjectType,
      subjectId: change.subjectId,
      action: change.action,
      details: canonicalJson(change.details ?? {}),
    }));
    for (const record of records) {
      const seq = String(record.seq).padStart(4, '0');
      const value = toBytes(record);
      await ctx.stub.putState(keys.activityBySubject(ctx.stub, record.subjectType, record.subjectId, time, txId, seq), value);
      await ctx.stub.putState(keys.activityByTime(ctx.stub, time, txId, seq), value);
    }
    const event: ChangeEvent = { txId, time, fn, actor, changes: records };
    ctx.stub.setEvent(EVENT_NAME, toBytes(event));
  }
}
