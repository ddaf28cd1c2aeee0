/**
 * /audit — the auditor's reads of the activity log and the key history (M1, S1, X6), as JSON,
 * CBOR or CSV reports:
 *
 *   GET /audit/history/:recordType/:id                  every version of one record (audit:GetHistory)
 *   GET /audit/activity/:subjectType/:subjectId         a subject's activity, optionally from/to, paged
 *   GET /audit/periods/:period/activity                 one UTC day or hour of activity, paged
 *   GET /audit/things/:thingId/movements                every movement of a thing's data across
 *                                                       metaverses and to DPM, derived from the log
 *   GET /audit/transfers/:transferId/trail              a transfer, its versions and its activity
 *   GET /audit/jobs/:jobId/trail                        a DPM job, its versions, activity and receipt
 *
 * Every call is made as the caller's own Fabric identity and the chaincode decides who may read
 * (audit.query: roles auditor, monitor, admin; transfer/job/thing reads by their own rules); the
 * gateway adds no access rule of its own. Bookmarks are opaque to the client: they carry the
 * chaincode's bookmark and the query they belong to, so a bookmark of another query is a 400.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Caller } from '../auth/principal.js';
import type { Ledger } from '../ledger/ledger.js';
import { ApiError } from '../http/problem.js';
import { route, type AnyRoute } from '../http/routes.js';
import { Id, Iso, Text } from '../http/schemas.js';

const TAG = 'Audit (M1, S1)';
const STATUSES = [400, 403, 404];
/** Chaincode page size when scanning (LIMITS.pageSize of the chaincode). */
const SCAN_PAGE = 200;
/** At most this many records of one subject are scanned for a derived report (movements, trails). */
export const SCAN_LIMIT = 20_000;

export interface ActivityRecord {
  docType: 'activity';
  txId: string;
  seq: number;
  time: string;
  fn: string;
  actor: { mspId: string; principal: string; role: string };
  subjectType: string;
  subjectId: string;
  action: string;
  details: string;
}
interface Page<T> {
  items: T[];
  bookmark: string;
}
interface HistoryEntry {
  txId: string;
  time: string;
  isDelete: boolean;
  value: string;
}

export const ACTIVITY_COLUMNS = [
  'time',
  'txId',
  'seq',
  'fn',
  'actor.mspId',
  'actor.principal',
  'actor.role',
  'subjectType',
  'subjectId',
  'action',
  'details',
];
export const HISTORY_COLUMNS = ['time', 'txId', 'isDelete', 'value'];
export const MOVEMENT_COLUMNS = [
  'time',
  'txId',
  'kind',
  'dataId',
  'to',
  'ref',
  'fn',
  'actor.mspId',
  'actor.principal',
  'actor.role',
  'details',
];
export const TIMELINE_COLUMNS = ['time', 'txId', 'entry', 'action', 'status', 'fn', 'actor.mspId', 'actor.principal', 'details', 'value'];

// ---------------------------------------------------------------- schemas

const PageSize = z
  .string()
  .regex(/^(?:[1-9]\d?|1\d\d|200)$/, 'must be 1–200')
  .optional();
const Bookmark = Text(2048).optional();
const Period = z.string().regex(/^\d{4}-\d{2}-\d{2}(?:T\d{2})?$/, 'must be YYYY-MM-DD or YYYY-MM-DDTHH (UTC)');

/** The record types audit:GetHistory knows (chaincode HISTORY_KEYS); anything else is refused here, not by the ledger. */
export const RecordType = z.enum(['platform', 'thing', 'avatar', 'migration', 'grant', 'transfer', 'data', 'batch', 'job', 'alert']);
export const HistoryParams = z.strictObject({ recordType: RecordType, id: Id });
export const SubjectParams = z.strictObject({ subjectType: Id, subjectId: Id });
export const ActivityQuery = z
  .strictObject({ from: Iso.optional(), to: Iso.optional(), pageSize: PageSize, bookmark: Bookmark })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from is after to', path: ['from'] });
export const PeriodParams = z.strictObject({ period: Period });
export const PageQuery = z.strictObject({ pageSize: PageSize, bookmark: Bookmark });
export const ThingParams = z.strictObject({ thingId: Id });
export const TransferParams = z.strictObject({ transferId: Id });
export const JobParams = z.strictObject({ jobId: Id });

const Actor = z.object({ mspId: z.string(), principal: z.string(), role: z.string() });
const Activity = z.object({
  docType: z.literal('activity'),
  txId: z.string(),
  seq: z.number(),
  time: z.string(),
  fn: z.string(),
  actor: Actor,
  subjectType: z.string(),
  subjectId: z.string(),
  action: z.string(),
  details: z.string().describe('canonical JSON of what changed'),
});
const ActivityPageOut = z.object({ items: z.array(Activity), bookmark: z.string().describe("'' on the last page") });
const HistoryOut = z.object({
  recordType: z.string(),
  id: z.string(),
  items: z.array(
    z.object({ txId: z.string(), time: z.string(), isDelete: z.boolean(), value: z.string().describe('the record as committed (JSON)') }),
  ),
});
const Movement = z.object({
  time: z.string(),
  txId: z.string(),
  kind: z.enum([
    'avatar-mapped',
    'avatar-unmapped',
    'transfer-requested',
    'transfer-executed',
    'shared',
    'sent-to-dpm',
    'access-granted',
    'access-revoked',
    'migration',
  ]),
  dataId: z.string().describe("'' for movements of the thing itself (avatars, grants on the thing)"),
  to: z.string().describe('target metaverse, DPM provider or purpose'),
  ref: z.string().describe('transfer, job, grant, avatar or migration id'),
  fn: z.string(),
  actor: Actor,
  details: z.string(),
});
const MovementsOut = z.object({
  thingId: z.string(),
  items: z.array(Movement),
  dataIds: z.array(z.string()).describe("the thing's data objects covered by this page"),
  truncated: z.boolean().describe(`a subject had more than ${SCAN_LIMIT} records; only the first were scanned`),
  bookmark: z.string(),
});
const TimelineEntry = z.object({
  time: z.string(),
  txId: z.string(),
  entry: z.enum(['version', 'activity']),
  action: z.string(),
  status: z.string(),
  fn: z.string(),
  actor: Actor.optional(),
  details: z.string(),
  value: z.string(),
});
const TrailOut = z.object({
  current: z.unknown(),
  history: HistoryOut.shape.items,
  activity: z.array(Activity),
  timeline: z.array(TimelineEntry),
  truncated: z.boolean(),
});

// ---------------------------------------------------------------- bookmarks

interface Cursor {
  /** the query this bookmark belongs to */
  q: string;
  /** the chaincode's bookmark of the page to read next */
  b: string;
  /** records of that page already returned */
  s: number;
}

const queryTag = (parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 16);

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export function decodeCursor(bookmark: string | undefined, q: string): Cursor {
  if (!bookmark) return { q, b: '', s: 0 };
  let c: Partial<Cursor>;
  try {
    c = JSON.parse(Buffer.from(bookmark, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    throw new ApiError(400, 'invalid query: bookmark is not one returned by a previous page', 'validation');
  }
  if (!c || typeof c.b !== 'string' || typeof c.s !== 'number' || !Number.isInteger(c.s) || c.s < 0 || c.s > SCAN_PAGE)
    throw new ApiError(400, 'invalid query: bookmark is not one returned by a previous page', 'validation');
  if (c.q !== q) throw new ApiError(400, 'invalid query: bookmark belongs to another query', 'validation');
  return { q, b: c.b, s: c.s };
}

// ---------------------------------------------------------------- reads

type Read = (caller: Caller, fn: string, args: string[]) => Promise<unknown>;

/**
 * One page of `pageSize` records of a paged chaincode query, keeping those `keep` accepts and
 * stopping at the first that `stop` marks as past the end. Reads `chunk` records per call; a
 * partly consumed chaincode page is resumed by skipping what was already returned.
 */
async function collectPage<T>(
  fetch: (size: number, bookmark: string) => Promise<Page<T>>,
  cursor: Cursor,
  pageSize: number,
  chunk: number,
  keep: (r: T) => boolean = () => true,
  stop: (r: T) => boolean = () => false,
): Promise<Page<T>> {
  const items: T[] = [];
  let { b, s } = cursor;
  for (;;) {
    const page = await fetch(chunk, b);
    const list = Array.isArray(page?.items) ? page.items : [];
    for (let i = s; i < list.length; i++) {
      const r = list[i];
      if (stop(r)) return { items, bookmark: '' };
      if (!keep(r)) continue;
      items.push(r);
      if (items.length === pageSize) {
        const more =
          i + 1 < list.length ? { b, s: i + 1 } : list.length === chunk && page.bookmark ? { b: page.bookmark, s: 0 } : undefined;
        return { items, bookmark: more ? encodeCursor({ q: cursor.q, ...more }) : '' };
      }
    }
    if (list.length < chunk || !page.bookmark) return { items, bookmark: '' };
    b = page.bookmark;
    s = 0;
  }
}

/** Every activity record of one subject (up to SCAN_LIMIT), oldest first. */
export async function allActivity(read: Read, caller: Caller, subjectType: string, subjectId: string) {
  const items: ActivityRecord[] = [];
  let bookmark = '';
  for (;;) {
    const page = (await read(caller, 'audit:QueryActivityBySubject', [
      subjectType,
      subjectId,
      String(SCAN_PAGE),
      bookmark,
    ])) as Page<ActivityRecord>;
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

export type Movement = z.infer<typeof Movement>;

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

type TimelineEntry = z.infer<typeof TimelineEntry>;

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

export function auditRoutes(ledger: Ledger): AnyRoute[] {
  const read: Read = (caller, fn, args) => ledger.evaluate(caller, fn, args);
  const history = async (caller: Caller, type: string, id: string) => {
    const h = await read(caller, 'audit:GetHistory', [type, id]);
    return Array.isArray(h) ? (h as HistoryEntry[]) : [];
  };

  const trail = async (caller: Caller, type: 'transfer' | 'job', id: string, current: unknown) => {
    const [h, a] = await Promise.all([history(caller, type, id), allActivity(read, caller, type, id)]);
    return { current, history: h, activity: a.items, timeline: timelineOf(h, a.items), truncated: a.truncated };
  };

  return [
    route({
      method: 'get',
      path: '/audit/history/:recordType/:id',
      tag: TAG,
      summary:
        'Every committed version of one record, newest first (audit:GetHistory; recordType platform | thing | avatar | migration | grant | transfer | data | batch | job | alert)',
      access: 'authenticated',
      params: HistoryParams,
      response: HistoryOut,
      statuses: STATUSES,
      csv: { columns: HISTORY_COLUMNS },
      handler: async ({ caller, params }) => ({
        body: { recordType: params.recordType, id: params.id, items: await history(caller, params.recordType, params.id) },
      }),
    }),
    route({
      method: 'get',
      path: '/audit/activity/:subjectType/:subjectId',
      tag: TAG,
      summary:
        "A subject's activity records in time order (audit:QueryActivityBySubject), optionally only those from/to (inclusive, ISO 8601: audit:QueryActivityBySubjectBetween); pageSize 1–200 (default 50), bookmark from the previous page",
      access: 'authenticated',
      params: SubjectParams,
      query: ActivityQuery,
      response: ActivityPageOut,
      statuses: STATUSES,
      csv: { columns: ACTIVITY_COLUMNS, paged: true },
      handler: async ({ caller, params, query }) => {
        const from = query.from ? Date.parse(query.from) : -Infinity;
        const to = query.to ? Date.parse(query.to) : Infinity;
        const ranged = query.from !== undefined || query.to !== undefined;
        const q = queryTag(['subject', params.subjectType, params.subjectId, query.from ?? '', query.to ?? '']);
        const pageSize = Number(query.pageSize ?? 50);
        const page = await collectPage<ActivityRecord>(
          // A window starts at `from` in the ledger's index and ends after `to` there: not a scan of the history before it.
          async (size, b) =>
            (await read(
              caller,
              ranged ? 'audit:QueryActivityBySubjectBetween' : 'audit:QueryActivityBySubject',
              ranged
                ? [params.subjectType, params.subjectId, query.from ?? '', query.to ?? '', String(size), b]
                : [params.subjectType, params.subjectId, String(size), b],
            )) as Page<ActivityRecord>,
          decodeCursor(query.bookmark, q),
          pageSize,
          ranged ? SCAN_PAGE : pageSize,
          (r) => Date.parse(r.time) >= from,
          (r) => Date.parse(r.time) > to,
        );
        return { body: page };
      },
    }),
    route({
      method: 'get',
      path: '/audit/periods/:period/activity',
      tag: TAG,
      summary: 'Activity of one UTC day (YYYY-MM-DD) or hour (YYYY-MM-DDTHH) in time order (audit:QueryActivityByTime), paged',
      access: 'authenticated',
      params: PeriodParams,
      query: PageQuery,
      response: ActivityPageOut,
      statuses: STATUSES,
      csv: { columns: ACTIVITY_COLUMNS, paged: true },
      handler: async ({ caller, params, query }) => {
        const pageSize = Number(query.pageSize ?? 50);
        const page = await collectPage<ActivityRecord>(
          async (size, b) => (await read(caller, 'audit:QueryActivityByTime', [params.period, String(size), b])) as Page<ActivityRecord>,
          decodeCursor(query.bookmark, queryTag(['period', params.period])),
          pageSize,
          pageSize,
        );
        return { body: page };
      },
    }),
    route({
      method: 'get',
      path: '/audit/things/:thingId/movements',
      tag: TAG,
      summary:
        "Every movement of a thing's data across metaverses and to DPM, derived from the activity log: avatars mapped, transfers requested and executed, shares, access granted/revoked, DPM jobs, migrations. Paged by the thing's data objects (pageSize objects per page, default 20); the first page also holds the thing's own movements",
      access: 'authenticated',
      params: ThingParams,
      query: PageQuery,
      response: MovementsOut,
      statuses: STATUSES,
      csv: { columns: MOVEMENT_COLUMNS, paged: true },
      handler: async ({ caller, params, query }) => {
        const cursor = decodeCursor(query.bookmark, queryTag(['movements', params.thingId]));
        const pageSize = Number(query.pageSize ?? 20);
        // The thing's data objects (ListDataOfThing: the chaincode decides who may list them).
        const data = (await read(caller, 'data:ListDataOfThing', [params.thingId, String(pageSize), cursor.b])) as Page<{
          dataId: string;
        }>;
        const dataIds = (Array.isArray(data?.items) ? data.items : []).map((d) => d.dataId);
        const scans = await Promise.all([
          ...(cursor.b === '' ? [allActivity(read, caller, 'thing', params.thingId)] : []),
          ...dataIds.map((id) => allActivity(read, caller, 'data', id)),
        ]);
        const items = scans
          .flatMap((s) => s.items.map(movementOf))
          .filter((m): m is Movement => m !== undefined)
          .sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || a.txId.localeCompare(b.txId));
        const more = dataIds.length === pageSize && data.bookmark;
        return {
          body: {
            thingId: params.thingId,
            items,
            dataIds,
            truncated: scans.some((s) => s.truncated),
            bookmark: more ? encodeCursor({ q: cursor.q, b: data.bookmark, s: 0 }) : '',
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/audit/transfers/:transferId/trail',
      tag: TAG,
      summary: "A transfer's trail: the record now (transfer:GetTransfer), every committed version and its activity, merged in a timeline",
      access: 'authenticated',
      params: TransferParams,
      response: TrailOut,
      statuses: STATUSES,
      csv: { columns: TIMELINE_COLUMNS, rows: (b: { timeline: unknown[] }) => b.timeline },
      handler: async ({ caller, params }) => {
        const current = await read(caller, 'transfer:GetTransfer', [params.transferId]);
        return { body: { transferId: params.transferId, ...(await trail(caller, 'transfer', params.transferId, current)) } };
      },
    }),
    route({
      method: 'get',
      path: '/audit/jobs/:jobId/trail',
      tag: TAG,
      summary:
        "A DPM job's receipt trail: the job now (dpm:GetJob) with its receipt (output fingerprint, times, what was done), every committed version and its activity, merged in a timeline",
      access: 'authenticated',
      params: JobParams,
      response: TrailOut.extend({ receipt: z.unknown() }),
      statuses: STATUSES,
      csv: { columns: TIMELINE_COLUMNS, rows: (b: { timeline: unknown[] }) => b.timeline },
      handler: async ({ caller, params }) => {
        const current = (await read(caller, 'dpm:GetJob', [params.jobId])) as { receipt?: unknown };
        return { body: { jobId: params.jobId, receipt: current?.receipt ?? null, ...(await trail(caller, 'job', params.jobId, current)) } };
      },
    }),
  ];
}
