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

/** The first control character of `value` as "U+0000" and its position, or undefined. */
function firstControlChar(value: string): { code: string; index: number } | undefined {
  const match = CONTROL.exec(value);
  if (!match) return undefined;
  return { code: `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`, index: match.index };
}

function controlCharError(field: string, value: string): Error | undefined {
  const ctl = firstControlChar(value);
  return ctl ? invalid(`${field} contains a control character (${ctl.code}) at position ${ctl.index}`) : undefined;
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

const MAX_JSON_ARGUMENT = 64 * 1024;

/**
 * JSON.parse of an argument: at most 64 KiB, valid JSON, and no member named `__proto__` (JSON.parse
 * makes it an own property, which spreading or Object.assign would turn into a prototype).
 */
function parseJson(field: string, json: string): unknown {
  if (typeof json !== 'string' || json.length > MAX_JSON_ARGUMENT) throw invalid(`${field} must be a JSON string of at most 64 KiB`);
  // The reviver only runs when the text can name __proto__ (literally or through a \u escape).
  const mayNameProto = json.includes('__proto__') || json.includes('\\u');
  try {
    return mayNameProto ? JSON.parse(json, refuseProto) : JSON.parse(json);
  } catch (err) {
    if (err === PROTO_MEMBER) throw invalid(`${field} must not have a member named __proto__`);
    throw invalid(`${field} is not valid JSON`);
  }
}

const PROTO_MEMBER = new Error('__proto__ member');
function refuseProto(key: string, value: unknown): unknown {
  if (key === '__proto__') throw PROTO_MEMBER;
  return value;
}

/** Parse a JSON argument into a plain object. */
export function parseObject(field: string, json: string): Record<string, unknown> {
  const parsed = parseJson(field, json);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid(`${field} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** One problem zod reports (the members parseInput reads). */
export interface InputIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly input?: unknown;
  readonly keys?: readonly string[];
}

/** What parseInput needs of a schema: mvsec-protocol's zod input schemas (`inputs.RegisterThing`, …). */
export interface InputSchema<T> {
  safeParse(
    data: unknown,
    params?: { reportInput?: boolean },
  ): { success: true; data: T } | { success: false; error: { readonly issues: readonly InputIssue[] } };
}

const REPORT_INPUT = { reportInput: true } as const;
const MAX_REPORTED_ISSUES = 5;

/**
 * Parse a JSON argument with its mvsec-protocol schema (the gateway validates the same input with
 * the same schema): the typed input, or INVALID naming each problem by its path, e.g.
 * `INVALID: input.thingId: must have no control characters and no surrounding whitespace (…)`.
 * Rules the schema does not express (cross-field rules, defaults from the caller) stay in the contract.
 */
export function parseInput<T>(schema: InputSchema<T>, field: string, json: string): T {
  return checkInput(schema, field, parseJson(field, json));
}

/**
 * Validate an already parsed value with its schema (see parseInput); with field '' for positional
 * arguments checked as one object, e.g. `checkInput(inputs.ProposeFederation, '', { platformId, peerPlatformId, terms })`.
 */
export function checkInput<T>(schema: InputSchema<T>, field: string, value: unknown): T {
  const result = schema.safeParse(value, REPORT_INPUT);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(field, issue));
  const shown = problems.slice(0, MAX_REPORTED_ISSUES);
  if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`);
  throw invalid(shown.join('; '));
}

/** `input.policy.purposes[0]`; with field '' (positional arguments checked together) `terms`. */
function pathOf(field: string, path: readonly PropertyKey[]): string {
  let at = field;
  for (const p of path) at += typeof p === 'number' ? `[${p}]` : at ? `.${String(p)}` : String(p);
  return at || 'arguments';
}

function describeIssue(field: string, issue: InputIssue): string[] {
  const at = pathOf(field, issue.path);
  if (issue.code === 'unrecognized_keys') {
    return (issue.keys ?? []).map((key) => `${at}: unknown field ${JSON.stringify(key.slice(0, 64))}`);
  }
  // With reportInput every issue carries its input; JSON has no undefined, so that is a missing member.
  if ('input' in issue && issue.input === undefined) return [`${at}: is required`];
  const ctl = typeof issue.input === 'string' ? firstControlChar(issue.input) : undefined;
  return [ctl ? `${at}: ${issue.message} (${ctl.code} at position ${ctl.index})` : `${at}: ${issue.message}`];
}

/** A timestamp the protocol's Iso rule accepted, normalised to UTC with milliseconds (as records store it). */
export function utcIso(value: string): string {
  return new Date(Date.parse(value)).toISOString();
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
