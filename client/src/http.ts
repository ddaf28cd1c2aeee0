/**
 * One data model, two representations (P1): requests go as JSON or CBOR (Content-Type), answers
 * are asked for in the same representation (Accept) and decoded by their Content-Type; problems
 * arrive as application/problem+json or application/problem+cbor.
 */
import { randomBytes } from 'node:crypto';
import { decode, Encoder } from 'cbor-x';
import { problemOf } from './problem.js';

export const JSON_TYPE = 'application/json';
export const CBOR_TYPE = 'application/cbor';
export const STREAM_TYPE = 'application/octet-stream';

// Plain maps (no cbor-x records or structured-clone extensions): what the gateway reads and writes.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** CBOR of a value, as the gateway encodes it. */
export const encodeCbor = (value: unknown): Buffer => Buffer.from(encoder.encode(value));

/** A CBOR document back to a value (byte strings become Buffers). */
export const decodeCbor = (bytes: Uint8Array): unknown => decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** An answer of the gateway, whatever its status. */
export interface Res<T = unknown> {
  status: number;
  /** The Content-Type of the answer ('' when none). */
  type: string;
  headers: Headers;
  /** Decoded JSON or CBOR (problems too); the raw bytes for other types; undefined when empty. */
  body: T;
}

export interface RequestOptions {
  /** Bearer token of the signed-in account. */
  token?: string;
  /** Send the body as CBOR and ask for CBOR (default JSON both ways). */
  cbor?: boolean;
  /** Extra headers; an `accept` here wins over the negotiated one. */
  headers?: Record<string, string>;
  /** Send these bytes (or text) as they are instead of encoding a body. */
  raw?: Uint8Array | string;
  /** Content-Type of a `raw` body (default application/octet-stream). */
  contentType?: string;
  /** Add a fresh Idempotency-Key to a request that is not a GET (safe to retry). */
  idempotent?: boolean;
  signal?: AbortSignal;
}

/**
 * One HTTP call to the gateway at `baseUrl`: `body` encoded as JSON or CBOR, the answer decoded.
 * Never throws for an HTTP status (see `ok`); network failures reject as fetch does.
 */
export async function request<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  o: RequestOptions = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v;
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let payload: Uint8Array | string | undefined;
  if (o.raw !== undefined) {
    payload = typeof o.raw === 'string' ? o.raw : new Uint8Array(o.raw.buffer, o.raw.byteOffset, o.raw.byteLength);
    headers['content-type'] = o.contentType ?? STREAM_TYPE;
  } else if (body !== undefined) {
    payload = o.cbor ? new Uint8Array(encodeCbor(body)) : JSON.stringify(body);
    headers['content-type'] = o.cbor ? CBOR_TYPE : JSON_TYPE;
  }
  headers.accept ??= o.cbor ? CBOR_TYPE : JSON_TYPE;
  if (o.idempotent && method.toUpperCase() !== 'GET') headers['idempotency-key'] ??= randomBytes(12).toString('hex');
  const r = await fetch(baseUrl.replace(/\/+$/, '') + path, {
    method,
    headers,
    ...(payload !== undefined ? { body: payload as unknown as BodyInit } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const bytes = Buffer.from(await r.arrayBuffer());
  const type = r.headers.get('content-type') ?? '';
  let parsed: unknown;
  if (!bytes.length) parsed = undefined;
  else if (/cbor/i.test(type)) parsed = decodeCbor(bytes);
  else if (/json/i.test(type)) parsed = JSON.parse(bytes.toString('utf8'));
  else parsed = bytes;
  return { status: r.status, type, headers: r.headers, body: parsed as T };
}

/** The body of a 2xx answer; any other status throws its `ApiProblem`. */
export function ok<T>(r: Res<unknown>, what = ''): T {
  if (r.status < 200 || r.status > 299) throw problemOf(r.status, r.body, what);
  return r.body as T;
}
