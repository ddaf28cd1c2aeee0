/**
 * P1: one data model, three representations. Requests are read as JSON, CBOR or XML by
 * Content-Type (with a size limit), responses are written as JSON, CBOR or XML by Accept; problems
 * follow the same choice (application/problem+json, +cbor or +xml). XML is the W3C fn:json-to-xml
 * mapping (xml.ts).
 */
import { isUtf8 } from 'node:buffer';
import { decode as cborDecode, Encoder } from 'cbor-x';
import type { NextFunction, Request, Response } from 'express';
import { ApiError, type Problem } from './problem.js';
import { parseXml, PROBLEM_XML, toXml, XML_TYPE } from './xml.js';

export const JSON_TYPE = 'application/json';
export const CBOR_TYPE = 'application/cbor';
export const PROBLEM_JSON = 'application/problem+json';
export const PROBLEM_CBOR = 'application/problem+cbor';
export const STREAM_TYPE = 'application/octet-stream';

/** Object uploads (application/octet-stream) are left unread by the body reader, for streaming routes. */
export function isStreamedBody(req: Request): boolean {
  const ct = req.headers['content-type'];
  return req.method !== 'GET' && req.method !== 'HEAD' && !!ct && ct.split(';')[0].trim().toLowerCase() === STREAM_TYPE;
}

// Plain maps (no cbor-x records/structured clone extensions), so any CBOR client can read it.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

export type Representation = 'json' | 'cbor' | 'xml';
const OFFERED = [JSON_TYPE, CBOR_TYPE, XML_TYPE];

/**
 * Which representation the client wants: JSON unless it prefers CBOR or XML (Accept; any type
 * and no Accept mean JSON, or the request's own representation); undefined when it accepts none.
 */
export function representationOf(req: Request): Representation | undefined {
  const accept = req.headers.accept;
  if (!accept) return isCborType(req.headers['content-type']) ? 'cbor' : isXmlType(req.headers['content-type']) ? 'xml' : 'json';
  const problemFirst = req.accepts([JSON_TYPE, PROBLEM_JSON, CBOR_TYPE, PROBLEM_CBOR, XML_TYPE, PROBLEM_XML]);
  const pick = problemFirst === false ? false : req.accepts(OFFERED);
  if (pick === CBOR_TYPE || problemFirst === PROBLEM_CBOR) return 'cbor';
  if (pick === XML_TYPE || problemFirst === PROBLEM_XML) return 'xml';
  if (pick === JSON_TYPE || problemFirst === PROBLEM_JSON) return 'json';
  return undefined;
}

/** The client wants CBOR (kept for callers that only tell JSON from CBOR). */
export function wantsCbor(req: Request): boolean {
  return representationOf(req) === 'cbor';
}

function isCborType(ct: string | undefined): boolean {
  return !!ct && /^application\/(problem\+)?cbor\b/i.test(ct.trim());
}
function isJsonType(ct: string | undefined): boolean {
  return !!ct && /^application\/(problem\+)?json\b/i.test(ct.trim());
}
function isXmlType(ct: string | undefined): boolean {
  return !!ct && /^(application|text)\/(problem\+)?xml\b/i.test(ct.trim());
}

/** Send `body` with `status` in the negotiated representation (406 when none is acceptable). */
export function send(req: Request, res: Response, status: number, body: unknown): void {
  const as = representationOf(req);
  if (!as) throw new ApiError(406, `representations offered: ${OFFERED.join(', ')}`);
  res.status(status).vary('Accept');
  if (body === undefined) {
    res.end();
    return;
  }
  if (as === 'cbor') res.type(CBOR_TYPE).send(Buffer.from(encoder.encode(body)));
  else if (as === 'xml') res.type(XML_TYPE).send(toXml(body));
  else res.type(JSON_TYPE).send(JSON.stringify(body));
}

export function sendProblem(req: Request, res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  let as: Representation = 'json';
  try {
    as = representationOf(req) ?? 'json';
  } catch {
    as = 'json';
  }
  res.status(problem.status).vary('Accept');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (as === 'cbor') res.type(PROBLEM_CBOR).send(Buffer.from(encoder.encode(problem)));
  else if (as === 'xml') res.type(PROBLEM_XML).send(toXml(problem));
  else res.type(PROBLEM_JSON).send(JSON.stringify(problem));
}

/**
 * Body reader for both representations. Reads at most `limit` bytes (413 beyond), then decodes
 * by Content-Type (415 for anything else). Malformed input is a 400, never an exception.
 */
export function bodyReader(limit: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE' || req.method === 'OPTIONS') {
      req.body = undefined;
      next();
      return;
    }
    // Object uploads stream straight to the storage agent; only routes declaring rawBody accept them.
    if (isStreamedBody(req)) {
      req.body = undefined;
      next();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      next(new ApiError(413, `request body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        next(new ApiError(413, `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        next(new ApiError(400, `could not read the request body: ${e.message}`));
      }
    });
    req.on('end', () => {
      if (failed) return;
      const raw = Buffer.concat(chunks);
      if (raw.length === 0) {
        req.body = undefined;
        next();
        return;
      }
      const ct = req.headers['content-type'];
      try {
        if (isJsonType(ct)) req.body = parseJson(raw);
        else if (isCborType(ct)) req.body = parseCbor(raw);
        else if (isXmlType(ct)) req.body = parseXml(raw);
        else throw new ApiError(415, `send ${OFFERED.join(', ')}; got ${ct ?? 'no Content-Type'}`);
        next();
      } catch (e) {
        next(e);
      }
    });
  };
}

const refuseProto = (k: string, v: unknown) => {
  if (k === '__proto__') throw new Error('"__proto__" is not an allowed key');
  return v;
};

export function parseJson(raw: Buffer): unknown {
  if (!isUtf8(raw)) throw new ApiError(400, 'request body is not valid UTF-8', 'malformed-body');
  const text = raw.toString('utf8');
  // A "__proto__" key is refused. A key can spell it only literally or with \u escapes, so only such
  // texts need the reviver, which makes parsing several times slower (telemetry bodies: issue 5).
  const mayHoldProto = text.includes('__proto__') || text.includes('\\u');
  try {
    return mayHoldProto ? JSON.parse(text, refuseProto) : JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `malformed JSON: ${(e as Error).message}`, 'malformed-body');
  }
}

export function parseCbor(raw: Buffer): unknown {
  let value: unknown;
  try {
    value = cborDecode(raw);
  } catch (e) {
    throw new ApiError(400, `malformed CBOR: ${(e as Error).message}`, 'malformed-body');
  }
  return plain(value, 0);
}

/** CBOR may carry maps with non-string keys, tags, byte strings, undefined: keep only the JSON data model. */
function plain(v: unknown, depth: number): unknown {
  if (depth > 32) throw new ApiError(400, 'CBOR body nests too deeply', 'malformed-body');
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ApiError(400, 'CBOR body contains a non-finite number', 'malformed-body');
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1));
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) {
      if (typeof k !== 'string') throw new ApiError(400, 'CBOR map keys must be text strings', 'malformed-body');
      out[k] = plain(x, depth + 1);
    }
    return out;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === '__proto__') throw new ApiError(400, '"__proto__" is not an allowed key', 'malformed-body');
      out[k] = plain(x, depth + 1);
    }
    return out;
  }
  throw new ApiError(
    400,
    `CBOR body contains a value outside the JSON data model (${typeof v === 'object' ? (v as object).constructor?.name : typeof v})`,
    'malformed-body',
  );
}

/** Decode a CBOR response (for clients and tests). */
export const decodeCbor = (b: Uint8Array): unknown => cborDecode(b);
export const encodeCbor = (v: unknown): Buffer => Buffer.from(encoder.encode(v));

// ---------------------------------------------------------------- CSV reports (RFC 4180)

export const CSV_TYPE = 'text/csv';

/** Does the client ask for CSV: `?format=csv`, or an Accept that prefers text/csv to JSON and CBOR. */
export function wantsCsv(req: Request): boolean {
  const format = (req.query as Record<string, unknown> | undefined)?.format;
  if (format === 'csv') return true;
  if (!req.headers.accept) return false;
  return req.accepts([JSON_TYPE, CBOR_TYPE, XML_TYPE, CSV_TYPE]) === CSV_TYPE;
}

/** The value at a dotted path (`actor.mspId`) of a record, or undefined. */
export function valueAt(record: unknown, path: string): unknown {
  let v: unknown = record;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Flatten records to columns: nested objects become dotted column names (`actor.mspId`); arrays
 * and the values under them stay one cell (JSON). Columns in first-seen order.
 */
export function csvColumns(records: unknown[]): string[] {
  const seen = new Set<string>();
  const walk = (v: unknown, prefix: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (!entries.length && prefix) seen.add(prefix);
      for (const [k, x] of entries) walk(x, prefix ? `${prefix}.${k}` : k);
    } else if (prefix) seen.add(prefix);
  };
  for (const r of records) walk(r, '');
  return [...seen];
}

/** One cell: empty for null/undefined, JSON for objects and arrays, quoted when RFC 4180 requires it. */
export function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CRLF-terminated line of a CSV file. */
export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A whole CSV document (header + rows) in memory — for small answers and tests. */
export function toCsv(records: unknown[], columns: string[] = csvColumns(records)): string {
  return csvLine(columns) + records.map((r) => csvLine(columns.map((c) => valueAt(r, c)))).join('');
}

/**
 * Parse RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF line ends) into rows of cells.
 * For clients and tests reading the reports back.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      i++;
      continue;
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
    i++;
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** CSV rows back to records keyed by the header's column names. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? ''])));
}

/**
 * Stream a CSV report: the header, then each page's rows as it arrives, honouring back-pressure,
 * so memory holds one page at a time however long the report. If a later page fails the
 * connection is destroyed, so the client sees a failed transfer, never a complete-looking short
 * report.
 */
export async function sendCsvPages(
  res: Response,
  status: number,
  columns: string[],
  pages: AsyncIterable<unknown[]>,
  headers: Record<string, string> = {},
): Promise<void> {
  const write = (s: string) => (res.write(s) ? Promise.resolve() : new Promise<void>((resolve) => res.once('drain', () => resolve())));
  let started = false;
  try {
    for await (const rows of pages) {
      if (!started) {
        res.status(status).vary('Accept');
        for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
        res.type(`${CSV_TYPE}; charset=utf-8; header=present`);
        started = true;
        await write(csvLine(columns));
      }
      let chunk = '';
      for (const r of rows) {
        chunk += csvLine(columns.map((c) => valueAt(r, c)));
        if (chunk.length > 64 * 1024) {
          await write(chunk);
          chunk = '';
        }
      }
      if (chunk) await write(chunk);
    }
  } catch (e) {
    if (started) {
      res.destroy(e as Error);
      return;
    }
    throw e;
  }
  if (!started) {
    res.status(status).vary('Accept').type(`${CSV_TYPE}; charset=utf-8; header=present`);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    await write(csvLine(columns));
  }
  res.end();
}
