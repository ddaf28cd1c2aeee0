import { LIMITS } from './config';
import { invalid } from './errors';

/**
 * Input validation: every argument that reaches a key, a record or a decision passes here first.
 * Errors are INVALID with the field name and what to fix.
 */

// C0 and C1 control characters; U+0000 is the composite-key separator.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function controlCharError(field: string, value: string): Error | undefined {
  const match = CONTROL.exec(value);
  if (!match) return undefined;
  const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return invalid(`${field} contains a control character (U+${code}) at position ${match.index}`);
}

/** A printable text of at most `max` characters, no control characters. */
export function assertText(field: string, value: unknown, max: number = LIMITS.textLength): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  if (value.length > max) throw invalid(`${field} is longer than ${max} characters`);
  const ctl = controlCharError(field, value);
  if (ctl) throw ctl;
  if (/[\ud800-\udfff]/.test(value.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
    throw invalid(`${field} contains an unpaired surrogate`);
  }
  return value;
}

/**
 * An identifier used in keys: 1–128 characters, no control characters, no surrounding whitespace,
 * no U+10FFFF (the end marker of partial-key range queries).
 */
export function assertId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${field} is required`);
  assertText(field, value, LIMITS.idLength);
  if (value.trim() !== value) throw invalid(`${field} must not start or end with whitespace`);
  if (value.includes('\u{10ffff}')) throw invalid(`${field} contains U+10FFFF`);
  return value;
}

export function optionalId(field: string, value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : assertId(field, value);
}

export function assertIdList(field: string, value: unknown, max: number = LIMITS.listLength): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of ids`);
  if (value.length > max) throw invalid(`${field} has more than ${max} entries`);
  const ids = value.map((item, i) => assertId(`${field}[${i}]`, item));
  if (new Set(ids).size !== ids.length) throw invalid(`${field} contains duplicates`);
  return ids;
}

export function assertEnum<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Lower-case hex SHA-256 digest (64 characters). */
export function assertSha256(field: string, value: unknown): string {
  if (typeof value !== 'string' || !SHA256_HEX.test(value)) {
    throw invalid(`${field} must be a SHA-256 digest as 64 lower-case hex characters`);
  }
  return value;
}

/** An ISO-8601 timestamp with offset; returned normalised to UTC with milliseconds. */
export function assertTimestamp(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value)) {
    throw invalid(`${field} must be an ISO-8601 timestamp such as 2025-01-31T12:00:00Z`);
  }
  const millis = Date.parse(value);
  if (Number.isNaN(millis)) throw invalid(`${field} is not a valid date`);
  return new Date(millis).toISOString();
}

export function assertInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function assertBool(field: string, value: unknown, fallback?: boolean): boolean {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false`);
  return value;
}

/** Parse a JSON argument into a plain object. */
export function parseObject(field: string, json: string): Record<string, unknown> {
  if (typeof json !== 'string' || json.length > 64 * 1024) throw invalid(`${field} must be a JSON string of at most 64 KiB`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalid(`${field} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid(`${field} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Parse a JSON argument that must be an array. */
export function parseArray(field: string, json: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalid(`${field} is not valid JSON`);
  }
  if (!Array.isArray(parsed)) throw invalid(`${field} must be a JSON array`);
  return parsed;
}

/** Page size argument of paged queries (string from the wire), 1..LIMITS.pageSize. */
export function assertPageSize(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return assertInt('pageSize', n, 1, LIMITS.pageSize);
}

/** A bookmark returned by a previous page; empty for the first page. */
export function assertBookmark(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string' || value.length > 2048) throw invalid('bookmark is not one returned by a previous page');
  return value;
}

/** Reject members not in `allowed` so typos do not pass silently. */
export function assertOnlyFields(field: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw invalid(`${field} has unknown field "${key}"; allowed: ${allowed.join(', ')}`);
  }
}
