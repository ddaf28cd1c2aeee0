/**
 * Routes are declared once, with their schemas; the same declarations mount the express
 * handlers (validation, authentication, idempotency) and generate the OpenAPI document.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Caller } from '../auth/principal.js';
import { asProblem } from './ledger-errors.js';
import { ApiError } from './problem.js';
import { csvColumns, isStreamedBody, send, sendCsvPages, wantsCsv } from './representation.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a ledger read may answer besides 200, and a ledger write besides 200/201. */
export const READ_STATUSES = [403, 404];
export const WRITE_STATUSES = [400, 403, 404, 409, 410, 422, 503];

export interface HandlerInput<P, B, Q> {
  req: Request;
  res: Response;
  caller: Caller;
  params: P;
  body: B;
  query: Q;
}

export interface Reply {
  status?: number;
  body?: unknown;
}

/** Who may call: nobody authenticated needed, any authenticated caller, or only these roles. */
export type Access = 'public' | 'authenticated';

/**
 * The route also answers text/csv (Accept: text/csv or ?format=csv): its reply flattened to rows.
 * A paged route (query `bookmark`, body `{items, bookmark}`) answers one page with the next
 * bookmark in `X-Next-Bookmark`, or with `all=true` streams every page from there on.
 */
export interface CsvSpec {
  /** Dotted paths into each row (`actor.mspId`); default: flattened from the first page's rows. */
  columns?: string[];
  /** The rows of one reply body; default `body.items`, else the body when it is an array, else `[body]`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  rows?(body: any): unknown[];
  paged?: boolean;
}

const defaultRows = (body: unknown): unknown[] => {
  const items = (body as { items?: unknown } | undefined)?.items;
  if (Array.isArray(items)) return items;
  if (Array.isArray(body)) return body;
  return body === undefined ? [] : [body];
};

export interface RouteSpec<P = unknown, B = unknown, Q = unknown> {
  method: Method;
  path: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  params?: z.ZodType<P>;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  response?: z.ZodType;
  /** Status codes besides 200/201 and the generic ones that this route may answer. */
  statuses?: number[];
  successStatus?: number;
  /** Writes to the ledger: honours Idempotency-Key. */
  idempotent?: boolean;
  /** The request body is a byte stream of this type, left unread for the handler (`req` is the stream). */
  rawBody?: { contentType: string; description: string };
  /** The success response is a byte stream of this type, written by the handler. */
  binaryResponse?: { contentType: string; description: string };
  /** Also answers text/csv (reports). */
  csv?: CsvSpec;
  handler(input: HandlerInput<P, B, Q>): Promise<Reply>;
}

// Every route is declared with its exact parameter types; the registry stores them erased.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any>;

export function route<P = Record<string, never>, B = undefined, Q = Record<string, never>>(spec: RouteSpec<P, B, Q>): AnyRoute {
  return spec;
}

/** Validation failures become 400 problems listing each field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  throw new ApiError(400, `invalid ${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, 'validation', { errors });
}

export interface Hooks {
  authenticate(req: Request, required: boolean): Promise<Caller | undefined>;
  idempotent(req: Request, caller: Caller, run: () => Promise<Reply>): Promise<Reply & { replayed?: boolean }>;
}

/** Mount the routes on an express router. */
export function mount(router: Router, routes: AnyRoute[], hooks: Hooks): void {
  for (const r of routes) {
    router[r.method](r.path, async (req: Request, res: Response) => {
      const caller = await hooks.authenticate(req, r.access !== 'public');
      const streamed = isStreamedBody(req);
      if (r.rawBody) {
        const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (ct !== r.rawBody.contentType)
          throw new ApiError(415, `send the object as ${r.rawBody.contentType}; got ${ct || 'no Content-Type'}`);
      } else if (streamed) {
        throw new ApiError(415, 'this operation takes application/json, application/cbor or application/xml');
      }
      const params = r.params ? validate(r.params, { ...req.params }, 'path') : {};
      let rawQuery = { ...(req.query as Record<string, unknown>) };
      let csv = false;
      let all = false;
      if (r.csv) {
        const { format, all: allRaw, ...rest } = rawQuery;
        if (format !== undefined && format !== 'csv')
          throw new ApiError(400, 'invalid query: format must be csv (or ask with Accept)', 'validation');
        if (allRaw !== undefined && (!r.csv.paged || (allRaw !== 'true' && allRaw !== 'false')))
          throw new ApiError(
            400,
            `invalid query: all ${r.csv.paged ? 'must be true or false' : 'is only for paged reports'}`,
            'validation',
          );
        csv = wantsCsv(req);
        all = allRaw === 'true';
        if (all && !csv)
          throw new ApiError(400, 'all=true streams a whole CSV report: ask for text/csv (Accept or format=csv)', 'validation');
        rawQuery = rest;
      }
      const query = r.query ? validate(r.query, rawQuery, 'query') : {};
      let body: unknown;
      if (r.rawBody) body = undefined;
      else if (r.body) body = validate(r.body, req.body, 'body');
      else if (req.body !== undefined) throw new ApiError(400, 'this operation takes no request body', 'validation');
      // Ledger errors leave the handler as problems (idempotency replays them, the monitor counts them).
      const handle = (q: unknown) =>
        r.handler({ req, res, caller: caller!, params, body, query: q }).catch((e: unknown) => {
          throw asProblem(e);
        });
      const run = () => handle(query);
      const reply = r.idempotent && caller ? await hooks.idempotent(req, caller, run) : await run();
      if (res.headersSent) return;
      if (csv && r.csv) {
        const spec = r.csv;
        const rowsOf = spec.rows ?? defaultRows;
        const first = rowsOf(reply.body);
        const columns = spec.columns ?? csvColumns(first);
        const next = spec.paged ? (reply.body as { bookmark?: string } | undefined)?.bookmark : undefined;
        async function* pages(): AsyncGenerator<unknown[]> {
          yield first;
          for (let b = all ? next : undefined; b;) {
            const more = await handle({ ...(query as object), bookmark: b });
            yield rowsOf(more.body);
            b = (more.body as { bookmark?: string } | undefined)?.bookmark;
          }
        }
        await sendCsvPages(res, reply.status ?? r.successStatus ?? 200, columns, pages(), !all && next ? { 'X-Next-Bookmark': next } : {});
        return;
      }
      if ((reply as { replayed?: boolean }).replayed) res.setHeader('Idempotent-Replayed', 'true');
      send(req, res, reply.status ?? r.successStatus ?? 200, reply.body);
    });
  }
}

/** Express path `/r1/things/:thingId` → OpenAPI `/r1/things/{thingId}`. */
export const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
