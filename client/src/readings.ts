/**
 * Signed readings (R1, F4, C3), the client side of what the gateway verifies: ECDSA P-256 with
 * SHA-256, 64-byte r‖s (IEEE P1363), base64url. A reading is signed over its canonical bytes
 * (`readingBytes` of mvsec-protocol); a set of readings of one thing can instead carry one
 * signature over the Merkle root of their leaves (`readingSetText`), sent as `setSignature`.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { leafOf, merkleRoot, readingBytes, readingSetText, type JsonValue } from 'mvsec-protocol';

/** A reading before it is signed: what the thing measured (the thing id is signed with it, not sent in it). */
export interface Reading {
  /** Strictly increasing per thing (the gateway refuses replays). */
  seq: number;
  /** ISO 8601 time of the measurement. */
  time: string;
  sensor: string;
  value: JsonValue;
}

/** A reading carrying its own signature. */
export interface SignedReading extends Reading {
  signature: string;
}

/** The body of `POST /r1/things/{thingId}/readings` for a set signed once. */
export interface SignedReadingSet {
  readings: Reading[];
  setSignature: string;
}

/** Sign `bytes` as a thing does: ECDSA P-256 / SHA-256, 64-byte r‖s, base64url. */
export function signBytes(privateKey: KeyObject, bytes: Uint8Array): string {
  return sign('sha256', bytes, { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

/** One reading of `thingId`, signed over its canonical bytes. */
export function signReading(privateKey: KeyObject, thingId: string, r: Reading): SignedReading {
  const { seq, time, sensor, value } = r;
  return { seq, time, sensor, value, signature: signBytes(privateKey, readingBytes({ thingId, seq, time, sensor, value })) };
}

/** The Merkle root of readings of `thingId` in this order (what a set signature covers). */
export function readingSetRoot(thingId: string, readings: readonly Reading[]): string {
  return merkleRoot(readings.map((r) => leafOf(readingBytes({ thingId, seq: r.seq, time: r.time, sensor: r.sensor, value: r.value }))));
}

/** One signature over a set of readings of `thingId`: the `setSignature` of a request carrying them unsigned. */
export function signReadingSet(privateKey: KeyObject, thingId: string, readings: readonly Reading[]): string {
  if (readings.length === 0) throw new Error('a reading set needs at least one reading');
  const text = readingSetText(thingId, readingSetRoot(thingId, readings), readings.length);
  return signBytes(privateKey, Buffer.from(text, 'utf8'));
}

/** The request body for a set signed once: the readings as they are, and the set's signature. */
export function signedReadingSet(privateKey: KeyObject, thingId: string, readings: readonly Reading[]): SignedReadingSet {
  const plain = readings.map(({ seq, time, sensor, value }) => ({ seq, time, sensor, value }));
  return { readings: plain, setSignature: signReadingSet(privateKey, thingId, plain) };
}

/** A fresh P-256 key pair for a thing; `publicKey` is base64 of its DER SPKI (what `thing.publicKey` holds). */
export function newThingKey(): { privateKey: KeyObject; publicKey: string } {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey: k.privateKey, publicKey: k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') };
}

/**
 * A thing as firmware would be: its signing key and its sequence counter. Builds readings with
 * increasing `seq` and signs them one by one or as a set.
 */
export class ThingSigner {
  /** The next reading's `seq` is this plus one. */
  seq: number;

  constructor(
    readonly thingId: string,
    readonly privateKey: KeyObject,
    /** The last `seq` this thing used (0 for a new thing). */
    lastSeq = 0,
  ) {
    this.seq = lastSeq;
  }

  /** A thing with a fresh key; its `publicKey` is what to register. */
  static generate(thingId: string): ThingSigner & { publicKey: string } {
    const k = newThingKey();
    return Object.assign(new ThingSigner(thingId, k.privateKey), { publicKey: k.publicKey });
  }

  /** `count` readings of `sensor` with the next sequence numbers, values from `value(i)`, `stepMs` apart from `start`. */
  readings(sensor: string, count: number, value: (i: number) => JsonValue, start: number = Date.now(), stepMs = 20): Reading[] {
    return Array.from({ length: count }, (_, i) => ({
      seq: ++this.seq,
      time: new Date(start + i * stepMs).toISOString(),
      sensor,
      value: value(i),
    }));
  }

  /** Each reading signed on its own. */
  sign(readings: readonly Reading[]): SignedReading[] {
    return readings.map((r) => signReading(this.privateKey, this.thingId, r));
  }

  /** The readings signed once as a set (the request body). */
  signSet(readings: readonly Reading[]): SignedReadingSet {
    return signedReadingSet(this.privateKey, this.thingId, readings);
  }
}
