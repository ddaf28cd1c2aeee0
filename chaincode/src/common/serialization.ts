/**
 * Deterministic serialization: every endorsing peer must produce byte-identical state, so all
 * records are written as canonical JSON (mvsec-protocol: keys sorted, `undefined` dropped).
 */
import { canonicalJson, type Json } from 'mvsec-protocol';

export { canonicalJson, type Json };

/** UTF-8 bytes of the canonical JSON of `value`, ready for putState. */
export function toBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** Parse bytes read from the ledger. */
export function fromBytes<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}
