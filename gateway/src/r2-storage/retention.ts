/**
 * Retention of stored objects (X7, thing policy `retentionDays`): a pass over the store's index
 * that asks the ledger to expire every object whose retention has passed — `data:ExpireData` as
 * the storage agent of the data's organisation (principal `storage-retention`, role
 * storage-agent) — and, once the ledger has recorded the deletion, erases the object and destroys
 * its data key, as a deletion does. The ledger decides: the chaincode checks the time against the
 * data's anchoring and the thing's current policy, so this pass (its clock, its guess from the
 * index's `storedAt`) only chooses which objects to ask about.
 */
import type { Caller } from '../auth/principal.js';
import { ApiError } from '../http/problem.js';
import { LedgerClient } from '../ledger/client.js';
import { alreadyDeleted, notDueYet } from '../ledger/data.js';
import type { Ledger } from '../ledger/ledger.js';
import { DEFAULT_RETENTION_DAYS, expiresAt } from '../retention.js';
import type { ObjectStore } from './store.js';

/** The identity the pass acts as, in the organisation holding the data. */
export const retentionAgent = (mspId: string): Caller => ({
  principal: 'storage-retention',
  mspId,
  role: 'storage-agent',
  issuer: 'gateway',
  amr: ['service'],
});

export interface RetentionReport {
  /** Stored objects looked at. */
  checked: number;
  /** Deleted on the ledger by this pass (or found deleted there), erased and their keys destroyed. */
  expired: string[];
  /** Not due yet, by the thing's policy (here or on the ledger). */
  notDue: number;
  failed: { dataId: string; reason: string }[];
}

const reasonOf = (e: unknown) => (e instanceof ApiError ? e.detail : String((e as Error)?.message ?? e));

export async function expireDue(
  store: ObjectStore,
  raw: Ledger | LedgerClient,
  o: { now: number; agent?: (mspId: string) => Caller },
): Promise<RetentionReport> {
  const ledger = LedgerClient.of(raw);
  const agent = o.agent ?? retentionAgent;
  const report: RetentionReport = { checked: 0, expired: [], notDue: 0, failed: [] };
  const days = new Map<string, number | Error>();
  for (const e of await store.entries()) {
    if (e.state !== 'STORED') continue;
    report.checked++;
    const caller = agent(e.ownerMspId);
    if (!days.has(e.thingId)) {
      try {
        const t = await ledger.things.get(caller, e.thingId);
        days.set(e.thingId, t.policy?.retentionDays ?? DEFAULT_RETENTION_DAYS);
      } catch (err) {
        days.set(e.thingId, new Error(`thing ${e.thingId}: ${reasonOf(err)}`));
      }
    }
    const d = days.get(e.thingId)!;
    if (d instanceof Error) {
      report.failed.push({ dataId: e.dataId, reason: d.message });
      continue;
    }
    if (expiresAt(Date.parse(e.storedAt), d) > o.now) {
      report.notDue++;
      continue;
    }
    try {
      const r = await ledger.data.expire(caller, e.dataId);
      await store.shred(e.dataId, { record: r.result, txId: r.txId });
      report.expired.push(e.dataId);
    } catch (err) {
      if (alreadyDeleted(err)) {
        await store.shred(e.dataId, { ledgerReason: err.reason });
        report.expired.push(e.dataId);
      } else if (notDueYet(err)) report.notDue++;
      else report.failed.push({ dataId: e.dataId, reason: reasonOf(err) });
    }
  }
  return report;
}

/** Runs `expireDue` every `everyMs` (the first a minute after start), one pass at a time; logs what it did. */
export function scheduleRetention(
  store: ObjectStore,
  ledger: Ledger | LedgerClient,
  o: { everyMs: number; now: () => number; log: (m: string) => void },
): { stop(): void } {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      const r = await expireDue(store, ledger, { now: o.now() });
      if (r.expired.length || r.failed.length)
        o.log(
          `storage: retention expired ${r.expired.length} of ${r.checked} stored objects (erased, keys destroyed; the ledger records each deletion)` +
            (r.failed.length
              ? `; ${r.failed.length} could not be expired: ${r.failed.map((f) => `${f.dataId}: ${f.reason}`).join('; ')}`
              : ''),
        );
    } catch (e) {
      o.log(`storage: retention pass failed, tried again in the next one: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void pass(), Math.min(60_000, o.everyMs)).unref();
  const every = setInterval(() => void pass(), o.everyMs).unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
