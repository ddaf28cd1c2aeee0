/**
 * What DPM envelopes carry inside (canonical CBOR, decrypted only by the recipient):
 *   input  {inputs: [{dataId, sha256, size, data}]}  — each input as the storage agent verified it
 *   result {contentType, data}                         — the output whose SHA-256 the receipt records
 * and what a worker signs when it registers its certificate.
 */
import { decode } from 'cbor-x';
import { canonicalCbor, EnvelopeError, sha256Hex } from './envelope';

export interface InputItem {
  dataId: string;
  sha256: string;
  size: number;
  data: Buffer;
}

export const KEY_REGISTRATION_TYPE = 'mvsec-dpm-key-registration';

/** What a worker signs to register its certificate as a provider's encryption key (proof of possession). */
export const keyRegistrationMessage = (providerId: string, certSha256: string, signedAt: string): Buffer =>
  canonicalCbor({ typ: KEY_REGISTRATION_TYPE, providerId, certSha256, signedAt });

export const encodeInputPayload = (inputs: InputItem[]): Buffer => canonicalCbor({ inputs });
export const encodeResultPayload = (contentType: string, data: Buffer): Buffer => canonicalCbor({ contentType, data });

function decodeMap(payload: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = decode(Buffer.from(payload));
  } catch (e) {
    throw new EnvelopeError('MALFORMED', `the ${what} payload is not CBOR: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new EnvelopeError('MALFORMED', `the ${what} payload is not a map`);
  return v as Record<string, unknown>;
}

/** The inputs of an opened input envelope; each item's bytes must hash to its declared fingerprint. */
export function decodeInputPayload(payload: Uint8Array): InputItem[] {
  const m = decodeMap(payload, 'input');
  if (!Array.isArray(m.inputs)) throw new EnvelopeError('MALFORMED', 'the input payload has no inputs');
  return m.inputs.map((x: unknown, i: number) => {
    const it = x as Record<string, unknown>;
    if (typeof it?.dataId !== 'string' || typeof it.sha256 !== 'string' || !Buffer.isBuffer(it.data))
      throw new EnvelopeError('MALFORMED', `input ${i} is not {dataId, sha256, size, data}`);
    if (sha256Hex(it.data) !== it.sha256) throw new EnvelopeError('MISMATCH', `input ${it.dataId} does not hash to its fingerprint`);
    return { dataId: it.dataId, sha256: it.sha256, size: it.data.length, data: it.data };
  });
}

export function decodeResultPayload(payload: Uint8Array): { contentType: string; data: Buffer } {
  const m = decodeMap(payload, 'result');
  if (typeof m.contentType !== 'string' || !Buffer.isBuffer(m.data))
    throw new EnvelopeError('MALFORMED', 'the result payload is not {contentType, data}');
  return { contentType: m.contentType, data: m.data };
}
