/**
 * Deterministic serialization: every endorsing peer must produce byte-identical state, so all
 * records are written as JSON with object keys sorted and `undefined` members dropped.
 */

/** A JSON value as it may be stored on the ledger. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sorted-key JSON of `value`; throws on values JSON cannot represent deterministically. */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`cannot serialize non-finite number at ${path}`);
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => (item === undefined ? 'null' : encode(item, `${path}[${i}]`))).join(',')}]`;
      }
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${encode(record[key], `${path}.${key}`)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new Error(`cannot serialize ${typeof value} at ${path}`);
  }
}

/** UTF-8 bytes of the canonical JSON of `value`, ready for putState. */
export function toBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** Parse bytes read from the ledger. */
export function fromBytes<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}
