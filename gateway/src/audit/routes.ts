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
import { z } from 'zod';
import type { ActivityRecord } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import { route, type AnyRoute } from '../http/routes.js';
import type { LedgerClient } from '../ledger/client.js';
import { collectPage, decodeCursor, encodeCursor, queryTag, SCAN_PAGE } from './paging.js';
import { allActivity, movementOf, timelineOf } from './reports.js';
import {
  ACTIVITY_COLUMNS,
  ActivityPageOut,
  ActivityQuery,
  HISTORY_COLUMNS,
  HistoryOut,
  HistoryParams,
  JobParams,
  MOVEMENT_COLUMNS,
  MovementsOut,
  PageQuery,
  PeriodParams,
  SubjectParams,
  ThingParams,
  TIMELINE_COLUMNS,
  TrailOut,
  TransferParams,
  type Movement,
} from './schemas.js';

const TAG = 'Audit (M1, S1)';
const STATUSES = [400, 403, 404];

export function auditRoutes(ledger: LedgerClient): AnyRoute[] {
  const audit = ledger.audit;
  const history = async (caller: Caller, type: string, id: string) => {
    const h = await audit.history(caller, type, id);
    return Array.isArray(h) ? h : [];
  };

  const trail = async (caller: Caller, type: 'transfer' | 'job', id: string, current: unknown) => {
    const [h, a] = await Promise.all([history(caller, type, id), allActivity(audit, caller, type, id)]);
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
          (size, b) =>
            ranged
              ? audit.bySubjectBetween(caller, params.subjectType, params.subjectId, query.from ?? '', query.to ?? '', String(size), b)
              : audit.bySubject(caller, params.subjectType, params.subjectId, String(size), b),
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
          (size, b) => audit.byTime(caller, params.period, String(size), b),
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
        const data = await ledger.data.ofThing(caller, params.thingId, String(pageSize), cursor.b);
        const dataIds = (Array.isArray(data?.items) ? data.items : []).map((d) => d.dataId);
        const scans = await Promise.all([
          ...(cursor.b === '' ? [allActivity(audit, caller, 'thing', params.thingId)] : []),
          ...dataIds.map((id) => allActivity(audit, caller, 'data', id)),
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
        const current = await ledger.transfers.get(caller, params.transferId);
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
        const current = await ledger.dpm.getJob(caller, params.jobId);
        return { body: { jobId: params.jobId, receipt: current?.receipt ?? null, ...(await trail(caller, 'job', params.jobId, current)) } };
      },
    }),
  ];
}
