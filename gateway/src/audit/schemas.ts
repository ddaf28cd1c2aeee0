/** Audit HTTP schemas: parameters, queries, report shapes and their CSV columns. */
import { z } from 'zod';
import { Id, Iso, Text } from 'mvsec-protocol/inputs';

/** At most this many records of one subject are scanned for a derived report (movements, trails). */
export const SCAN_LIMIT = 20_000;

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
export const Activity = z.object({
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
export const ActivityPageOut = z.object({ items: z.array(Activity), bookmark: z.string().describe("'' on the last page") });
export const HistoryOut = z.object({
  recordType: z.string(),
  id: z.string(),
  items: z.array(
    z.object({ txId: z.string(), time: z.string(), isDelete: z.boolean(), value: z.string().describe('the record as committed (JSON)') }),
  ),
});
export const Movement = z.object({
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
export const MovementsOut = z.object({
  thingId: z.string(),
  items: z.array(Movement),
  dataIds: z.array(z.string()).describe("the thing's data objects covered by this page"),
  truncated: z.boolean().describe(`a subject had more than ${SCAN_LIMIT} records; only the first were scanned`),
  bookmark: z.string(),
});
export const TimelineEntry = z.object({
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
export const TrailOut = z.object({
  current: z.unknown(),
  history: HistoryOut.shape.items,
  activity: z.array(Activity),
  timeline: z.array(TimelineEntry),
  truncated: z.boolean(),
});

export type Movement = z.infer<typeof Movement>;
export type TimelineEntry = z.infer<typeof TimelineEntry>;
