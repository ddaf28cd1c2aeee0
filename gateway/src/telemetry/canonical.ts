/**
 * The signed bytes of a reading (R1, C3): canonical JSON of {thingId, seq, time, sensor, value} —
 * object keys sorted (by UTF-16 code units, JavaScript's default sort) at every depth, no
 * whitespace, strings and numbers written as JSON.stringify writes them. The Merkle leaf of a
 * reading is SHA-256 of exactly these bytes.
 */
import { hash } from 'node:crypto';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface ReadingFields {
  thingId: string;
  seq: number;
  time: string;
  sensor: string;
  value: JsonValue;
}

export function canonicalJson(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new Error('canonical JSON has no representation for a non-finite number');
      return JSON.stringify(v);
    case 'string':
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
    }
    default:
      throw new Error(`canonical JSON has no representation for ${typeof v}`);
  }
}

/**
 * The canonical text of one reading. Its five keys, sorted, are always sensor < seq < thingId < time
 * < value, so they are written in that order without sorting (the same text canonicalJson writes).
 */
export function readingText(r: ReadingFields): string {
  const { thingId, seq, time, sensor, value } = r;
  if (thingId === undefined || seq === undefined || time === undefined || sensor === undefined || value === undefined)
    return canonicalJson({ thingId, seq, time, sensor, value }); // (undefined keys are left out)
  return `{"sensor":${canonicalJson(sensor)},"seq":${canonicalJson(seq)},"thingId":${canonicalJson(thingId)},"time":${canonicalJson(time)},"value":${canonicalJson(value)}}`;
}

/** The bytes a thing (or its IoT gateway) signs for one reading. */
export function readingBytes(r: ReadingFields): Buffer {
  return Buffer.from(readingText(r), 'utf8');
}

/**
 * The text a thing (or its IoT gateway) signs for a whole set of readings at once (one signature
 * per request instead of one per reading): the Merkle root (merkle.ts convention) over the
 * readings' leaves in request order, their count and the thing. Its `type` member keeps it apart
 * from any single reading's text, so one can never be taken for the other.
 */
export function readingSetText(thingId: string, merkleRoot: string, leafCount: number): string {
  return canonicalJson({ leafCount, merkleRoot, thingId, type: READING_SET_TYPE });
}
export const READING_SET_TYPE = 'mvsec.reading-set.v1';

/** The reading's Merkle leaf: SHA-256 of its signed bytes, hex. */
export function leafOf(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}
