/**
 * Reading signatures (F4, C3): ECDSA on P-256 with SHA-256 over the reading's canonical bytes.
 * The signature is base64 or base64url of the 64-byte IEEE P1363 form r‖s (what WebCrypto
 * produces); a DER-encoded signature (what OpenSSL and most HSMs produce) is accepted too.
 * Public keys on the ledger (`thing.publicKey`) are a PEM SPKI ("-----BEGIN PUBLIC KEY-----"),
 * base64 of the DER SPKI, or a JWK (JSON) of an EC P-256 key.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { leafOf, readingBytes, readingSetText, type ReadingFields } from 'mvsec-protocol';
import { merkleRoot } from 'mvsec-protocol';

export class KeyFormatError extends Error {}

export function parsePublicKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    const t = text.trim();
    if (t.startsWith('-----BEGIN')) key = createPublicKey(t);
    else if (t.startsWith('{')) key = createPublicKey({ key: JSON.parse(t) as import('node:crypto').JsonWebKey, format: 'jwk' });
    else if (/^[A-Za-z0-9+/_-]+=*$/.test(t)) key = createPublicKey({ key: Buffer.from(t, 'base64'), format: 'der', type: 'spki' });
    else throw new Error('not PEM, base64 DER SPKI or JWK');
  } catch (e) {
    throw new KeyFormatError(`publicKey is not a usable public key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new KeyFormatError(
      `publicKey is ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}, not an EC P-256 key`,
    );
  return key;
}

export function decodeSignature(sig: string): { bytes: Buffer; encoding: 'ieee-p1363' | 'der' } | undefined {
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(sig)) return undefined;
  const bytes = Buffer.from(sig, 'base64');
  if (bytes.length === 64) return { bytes, encoding: 'ieee-p1363' };
  if (bytes.length >= 8 && bytes.length <= 72 && bytes[0] === 0x30) return { bytes, encoding: 'der' };
  return undefined;
}

/** Verify off the event loop (libuv thread pool), so several readings verify in parallel. */
export function verifyReading(key: KeyObject, bytes: Buffer, signature: string): Promise<boolean> {
  const sig = decodeSignature(signature);
  if (!sig) return Promise.resolve(false);
  return new Promise((resolve) => {
    verify('sha256', bytes, { key, dsaEncoding: sig.encoding }, sig.bytes, (err, ok) => resolve(!err && ok));
  });
}

/** Client side (things, IoT gateways, tests, benchmark): sign a reading's canonical bytes, 64-byte r‖s, base64url. */
export function signBytes(privateKey: KeyObject, bytes: Buffer): string {
  return sign('sha256', bytes, { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

/**
 * Client side: one signature over a set of readings of one thing (their Merkle root, see
 * canonical.ts `readingSetText`), sent as `setSignature` with readings that carry none.
 */
export function signReadingSet(privateKey: KeyObject, thingId: string, readings: Omit<ReadingFields, 'thingId'>[]): string {
  const root = merkleRoot(readings.map((r) => leafOf(readingBytes({ ...r, thingId }))));
  return signBytes(privateKey, Buffer.from(readingSetText(thingId, root, readings.length), 'utf8'));
}
