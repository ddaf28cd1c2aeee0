/** Reports derived from the activity log: every activity of a subject, movements of a thing's data, record timelines. */
import type { ActivityRecord, HistoryEntry } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import type { AuditLedger } from '../ledger/audit.js';
import { SCAN_PAGE } from './paging.js';
import { SCAN_LIMIT, type Movement, type TimelineEntry } from './schemas.js';

/** Every activity record of one subject (up to SCAN_LIMIT), oldest first. */
export async function allActivity(audit: AuditLedger, caller: Caller, subjectType: string, subjectId: string) {
  const items: ActivityRecord[] = [];
  let bookmark = '';
  for (;;) {
    const page = await audit.bySubject(caller, subjectType, subjectId, String(SCAN_PAGE), bookmark);
    const list = Array.isArray(page?.items) ? page.items : [];
    items.push(...list);
    if (items.length >= SCAN_LIMIT) return { items: items.slice(0, SCAN_LIMIT), truncated: true };
    if (list.length < SCAN_PAGE || !page.bookmark) return { items, truncated: false };
    bookmark = page.bookmark;
  }
}

const details = (r: { details: string }): Record<string, unknown> => {
  try {
    const d = JSON.parse(r.details) as unknown;
    return d && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The movement an activity record describes, if it is one: data leaving for a metaverse or DPM, access given, avatars mapped. */
export function movementOf(r: ActivityRecord): Movement | undefined {
  const d = details(r);
  const base = { time: r.time, txId: r.txId, fn: r.fn, actor: r.actor, details: r.details };
  const onData = r.subjectType === 'data';
  const dataId = onData ? r.subjectId : '';
  if (onData || r.subjectType === 'thing') {
    if (r.action === 'grant-created' || r.action === 'grant-revoked')
      return { ...base, kind: r.action === 'grant-created' ? 'access-granted' : 'access-revoked', dataId, to: '', ref: str(d.grantId) };
  }
  if (r.subjectType === 'thing') {
    if (r.action === 'avatar-mapped') return { ...base, kind: 'avatar-mapped', dataId, to: str(d.metaverseId), ref: str(d.avatarId) };
    if (r.action === 'avatar-unmapped') return { ...base, kind: 'avatar-unmapped', dataId, to: '', ref: str(d.avatarId) };
    return undefined;
  }
  if (!onData) return undefined;
  switch (r.action) {
    case 'transfer-requested':
      return { ...base, kind: 'transfer-requested', dataId, to: str(d.to), ref: str(d.transferId) };
    case 'shared':
      return d.transferId
        ? { ...base, kind: 'transfer-executed', dataId, to: str(d.to), ref: str(d.transferId) }
        : { ...base, kind: 'shared', dataId, to: str(d.purpose), ref: '' };
    case 'sent-to-dpm':
      return { ...base, kind: 'sent-to-dpm', dataId, to: str(d.providerId), ref: str(d.jobId) };
    default:
      if (r.action.startsWith('migration-')) return { ...base, kind: 'migration', dataId, to: '', ref: str(d.migrationId) };
      return undefined;
  }
}

/** Versions and activity records of one record, merged in time order (versions first within a transaction). */
export function timelineOf(history: HistoryEntry[], activity: ActivityRecord[]): TimelineEntry[] {
  const versions: TimelineEntry[] = history.map((h) => {
    let status = '';
    try {
      status = str((JSON.parse(h.value) as { status?: unknown }).status);
    } catch {
      /* not JSON */
    }
    return {
      time: h.time,
      txId: h.txId,
      entry: 'version',
      action: h.isDelete ? 'deleted' : 'written',
      status,
      fn: '',
      details: '',
      value: h.value,
    };
  });
  const acts: TimelineEntry[] = activity.map((a) => ({
    time: a.time,
    txId: a.txId,
    entry: 'activity',
    action: a.action,
    status: '',
    fn: a.fn,
    actor: a.actor,
    details: a.details,
    value: '',
  }));
  const rank = (e: TimelineEntry) => (e.entry === 'version' ? 0 : 1);
  return [...versions, ...acts].sort(
    (a, b) => Date.parse(a.time) - Date.parse(b.time) || a.txId.localeCompare(b.txId) || rank(a) - rank(b),
  );
}
