/**
 * Trust rule 7 (PII): the one place for who may process PII, how its public fingerprint is made
 * and what client-supplied secret material must look like (docs/chaincode.md "PII").
 *
 * - Only a peer of the collection's member organisation processes transient PII: the endorsing
 *   peer's organisation (`stub.getMspID()`, the peer's local MSP) is checked before the transient
 *   value is read. A peer of any other organisation refuses (DENIED), so an explicit endorser set
 *   that includes a non-member fails to endorse and nothing commits.
 * - The public fingerprint is HMAC-SHA256 under a per-thing secret kept in the same private
 *   collection (`piikey~<thingId>`), created on the thing's first PII from client-supplied key
 *   material (the chaincode may not generate randomness) and reused after that. Without the
 *   collection's secret the public hash cannot be brute-forced, however short the PII.
 * - Salts and keys are checked for entropy, not only for length.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { piiCollectionMember } from '../common/config';
import { denied, invalid } from '../common/errors';
import { keys } from '../common/keys';
import { fromBytes, toBytes } from '../common/serialization';
import { assertOnlyFields, parseObject } from '../common/validation';

/** Transient-map key carrying PII: JSON {salt, details, key?} (see parsePiiTransient). */
export const PII_TRANSIENT_KEY = 'pii';

/** Entropy rule for client-supplied salts and keys (documented in docs/chaincode.md). */
export const SECRET_RULE = {
  minBytes: 32,
  maxBytes: 1024,
  /** distinct byte values; 32 random bytes have ≥ 24 in practice (at most 32) */
  minDistinctBytes: 20,
  /** Shannon entropy of the byte histogram, bits per byte; 32 random bytes give ≥ 4.3 in practice */
  minShannonBits: 4.0,
  /** distinct differences between consecutive bytes (refuses counters and arithmetic sequences) */
  minDistinctSteps: 16,
} as const;

/** The per-thing secret record kept in a PII collection. */
export interface PiiKeyRecord {
  thingId: string;
  collection: string;
  /** hex of the secret keying the thing's PII fingerprints */
  key: string;
  createdAt: string;
  createdBy: string;
}

/** The staged fingerprint: its private-data hash (visible to every peer) binds the public anchor. */
export interface PiiFingerprint {
  dataId: string;
  thingId: string;
  piiHash: string;
}

export interface PiiTransient {
  salt: string;
  details: string;
  /** decoded key material, present when the client supplied one */
  key?: Buffer;
}

/** The peer's own organisation, or undefined when the chaincode process was not told (CORE_PEER_LOCALMSPID unset). */
export function peerMspOf(ctx: Context): string | undefined {
  try {
    const msp = ctx.stub.getMspID();
    return typeof msp === 'string' && msp.length > 0 ? msp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuse (DENIED) to process PII of `collection` unless this peer belongs to the collection's
 * member organisation. Call before the transient value is read. Fails closed when the peer's
 * organisation is unknown.
 */
export function assertPiiPeer(ctx: Context, collection: string): void {
  const member = piiCollectionMember(collection);
  const peer = peerMspOf(ctx);
  if (peer === undefined)
    throw denied(
      `PII of ${collection} may be endorsed only by ${member} peers; this chaincode server does not know its peer's organisation (CORE_PEER_LOCALMSPID unset)`,
    );
  if (peer !== member) throw denied(`PII of ${collection} may be endorsed only by ${member} peers; this peer is ${peer}'s`);
}

/** Is there a transient PII entry? Checks the key only, never reads the value. */
export function hasPiiTransient(ctx: Context): boolean {
  return ctx.stub.getTransient().has(PII_TRANSIENT_KEY);
}

/** Parse the transient PII (after assertPiiPeer): {salt, details, key?}; salt and key follow the entropy rule. */
export function parsePiiTransient(ctx: Context): PiiTransient {
  const bytes = ctx.stub.getTransient().get(PII_TRANSIENT_KEY);
  if (!bytes || bytes.length === 0) throw invalid(`transient "${PII_TRANSIENT_KEY}" is missing: JSON {salt, details, key?}`);
  if (bytes.length > 16 * 1024) throw invalid('transient pii is larger than 16 KiB');
  const body = parseObject('transient pii', Buffer.from(bytes).toString('utf8'));
  assertOnlyFields('transient pii', body, ['salt', 'details', 'key']);
  if (typeof body.salt !== 'string') throw invalid('transient pii.salt must be a string (hex or base64 of ≥ 32 random bytes)');
  decodeSecret('transient pii.salt', body.salt);
  if (typeof body.details !== 'string' || body.details.length === 0) throw invalid('transient pii.details must be a non-empty string');
  let key: Buffer | undefined;
  if (body.key !== undefined) {
    if (typeof body.key !== 'string') throw invalid('transient pii.key must be a string (hex or base64 of ≥ 32 random bytes)');
    key = decodeSecret('transient pii.key', body.key);
  }
  return { salt: body.salt, details: body.details, key };
}

/**
 * Decode hex (an even number of hex digits) or base64 (standard or URL-safe) and check the
 * entropy rule: ≥ 32 bytes, ≥ 20 distinct byte values, ≥ 4 bits/byte Shannon entropy, ≥ 16
 * distinct steps between consecutive bytes, and no repeating period. INVALID otherwise.
 */
export function decodeSecret(field: string, text: string): Buffer {
  const bytes = decodeText(field, text);
  const why = weakness(bytes);
  if (why) throw invalid(`${field} is not random enough (${why}); use ≥ ${SECRET_RULE.minBytes} bytes from a CSPRNG`);
  return bytes;
}

function decodeText(field: string, text: string): Buffer {
  if (text.length > SECRET_RULE.maxBytes * 2) throw invalid(`${field} is longer than ${SECRET_RULE.maxBytes} bytes`);
  if (/^[0-9a-fA-F]*$/.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(text) || /^[A-Za-z0-9_-]*$/.test(text)) return Buffer.from(text, 'base64');
  throw invalid(`${field} must be hex or base64 of ≥ ${SECRET_RULE.minBytes} random bytes`);
}

/** Why `bytes` fails the entropy rule, or undefined when it passes. */
export function weakness(bytes: Uint8Array): string | undefined {
  const n = bytes.length;
  if (n < SECRET_RULE.minBytes) return `${n} bytes decoded, at least ${SECRET_RULE.minBytes} needed`;
  if (n > SECRET_RULE.maxBytes) return `${n} bytes decoded, at most ${SECRET_RULE.maxBytes} allowed`;
  const counts = new Map<number, number>();
  for (const b of bytes) counts.set(b, (counts.get(b) ?? 0) + 1);
  if (counts.size < SECRET_RULE.minDistinctBytes)
    return `${counts.size} distinct byte values, at least ${SECRET_RULE.minDistinctBytes} needed`;
  let bits = 0;
  for (const c of counts.values()) bits -= (c / n) * Math.log2(c / n);
  if (bits < SECRET_RULE.minShannonBits)
    return `Shannon entropy ${bits.toFixed(2)} bits/byte, at least ${SECRET_RULE.minShannonBits} needed`;
  const steps = new Set<number>();
  for (let i = 1; i < n; i++) steps.add((bytes[i] - bytes[i - 1] + 256) % 256);
  if (steps.size < SECRET_RULE.minDistinctSteps) return `${steps.size} distinct steps between bytes (a counter or sequence)`;
  for (let p = 1; p <= n / 2; p++) {
    let periodic = true;
    for (let i = p; i < n && periodic; i++) periodic = bytes[i] === bytes[i - p];
    if (periodic) return `a pattern repeating every ${p} bytes`;
  }
  return undefined;
}

/** The public fingerprint of PII: hex HMAC-SHA256 under the thing's secret of `${salt}:${details}`. */
export function piiFingerprintOf(key: Uint8Array, salt: string, details: string): string {
  return createHmac('sha256', key).update(`${salt}:${details}`, 'utf8').digest('hex');
}

/** The thing's PII secret in `collection`, or undefined before its first PII there. */
export async function loadPiiKey(ctx: Context, collection: string, thingId: string): Promise<PiiKeyRecord | undefined> {
  const bytes = await ctx.stub.getPrivateData(collection, keys.piiKey(ctx.stub, thingId));
  return bytes && bytes.length > 0 ? fromBytes<PiiKeyRecord>(bytes) : undefined;
}

export async function savePiiKey(ctx: Context, record: PiiKeyRecord): Promise<void> {
  await ctx.stub.putPrivateData(record.collection, keys.piiKey(ctx.stub, record.thingId), toBytes(record));
}

/** The bytes stored (privately) for a staged fingerprint; every peer can compare their SHA-256. */
export function fingerprintBytes(f: PiiFingerprint): Uint8Array {
  return toBytes({ dataId: f.dataId, thingId: f.thingId, piiHash: f.piiHash });
}

/**
 * Is `f` the fingerprint staged in `collection`? Uses only the private data's hash, so any peer
 * (member or not) answers the same without seeing the PII.
 */
export async function isStagedFingerprint(ctx: Context, collection: string, f: PiiFingerprint): Promise<boolean> {
  const onLedger = await ctx.stub.getPrivateDataHash(collection, keys.piiFingerprint(ctx.stub, f.dataId));
  if (!onLedger || onLedger.length === 0) return false;
  const expected = createHash('sha256').update(fingerprintBytes(f)).digest();
  return Buffer.compare(Buffer.from(onLedger), expected) === 0;
}
