/**
 * The signed-reading format (R1, C3): what a thing (or its IoT gateway) signs for one reading or
 * for a set of readings, and the Merkle leaf of a reading. A reading's signed bytes are the
 * canonical JSON of {thingId, seq, time, sensor, value}; its leaf is SHA-256 of exactly those bytes.
 */
import { hash } from 'node:crypto';
import { canonicalJson, type Json } from './canonical-json';

export type JsonValue = Json;

export interface ReadingFields {
  thingId: string;
  seq: number;
  time: string;
  sensor: string;
  value: JsonValue;
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

export const READING_SET_TYPE = 'mvsec.reading-set.v1';

/**
 * The text signed for a whole set of readings at once (one signature per request instead of one
 * per reading): the Merkle root over the readings' leaves in request order, their count and the
 * thing. Its `type` member keeps it apart from any single reading's text.
 */
export function readingSetText(thingId: string, merkleRoot: string, leafCount: number): string {
  return canonicalJson({ leafCount, merkleRoot, thingId, type: READING_SET_TYPE });
}

/** The reading's Merkle leaf: SHA-256 of its signed bytes, hex. */
export function leafOf(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}
