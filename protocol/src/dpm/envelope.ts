/**
 * The DPM envelope (R6, X4, C1–C3; docs/dpm.md): data encrypted to one recipient's Fabric
 * certificate key and signed by its sender, in one canonical CBOR map.
 *
 *   key agreement  ECDH P-256 between a fresh ephemeral key (epk) and the public key of the
 *                  recipient's X.509 certificate (issued by its organisation's Fabric CA)
 *   key derivation HKDF-SHA256(shared secret, salt = 32 random bytes,
 *                  info = "mvsec/dpm-envelope/v1" 0 kind 0 jobId 0 providerId 0 purpose 0 recipient cert SHA-256)
 *   encryption     AES-256-GCM, 12-byte random IV, AAD = canonical CBOR of the header (every field but ct and sig)
 *   signature      ECDSA P-256 / SHA-256 (DER) by the sender over the canonical CBOR of every field but sig;
 *                  the sender's certificate is inside and must chain to its organisation's CA
 *
 * Canonical CBOR: definite lengths, map keys sorted, byte strings as major type 2, integers in
 * their shortest form; an envelope whose bytes are not exactly the canonical encoding of what they
 * decode to is refused, so no byte can change without the envelope being refused.
 * Only node:crypto is used.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { decode, Encoder } from 'cbor-x';
import { sha256Hex } from '../merkle';

export { sha256Hex };

export const ENVELOPE_TYPE = 'mvsec-dpm-envelope';
export const ENVELOPE_ALG = 'ECDH-ES-P256+HKDF-SHA256+A256GCM;ES256';
export const ENVELOPE_VERSION = 1;
export type EnvelopeKind = 'input' | 'result';

/** Why an envelope was refused. */
export type EnvelopeErrorCode = 'MALFORMED' | 'UNTRUSTED_SENDER' | 'BAD_SIGNATURE' | 'WRONG_RECIPIENT' | 'MISMATCH' | 'DECRYPT';

export class EnvelopeError extends Error {
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** The fields of an envelope (byte fields are Buffers). */
export interface Envelope {
  v: number;
  typ: string;
  alg: string;
  kind: EnvelopeKind;
  jobId: string;
  providerId: string;
  purpose: string;
  /** The sender's organisation and certificate (PEM). */
  sender: { mspId: string; cert: string };
  /** The recipient's organisation and the SHA-256 (hex) of its certificate's DER. */
  recipient: { mspId: string; certSha256: string };
  /** Authenticated, not encrypted: fingerprints, times, content type — never the data itself. */
  meta: Record<string, unknown>;
  createdAt: string;
  /** The ephemeral public key, SPKI DER. */
  epk: Buffer;
  salt: Buffer;
  iv: Buffer;
  /** Ciphertext followed by the 16-byte GCM tag. */
  ct: Buffer;
  /** ECDSA (DER) over the canonical encoding of every other field. */
  sig: Buffer;
}

/** A party: its organisation, certificate (PEM) and, for the side that signs or decrypts, its private key. */
export interface Party {
  mspId: string;
  certificate: string;
  privateKey: KeyObject;
}

/** Trust anchors: the CA certificate (PEM) of each organisation, by MSP id. */
export type TrustAnchors = ReadonlyMap<string, string>;

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** Sort map keys recursively; Uint8Arrays become Buffers (plain CBOR byte strings). */
function canonical(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new EnvelopeError('MALFORMED', 'envelopes carry integers only');
  return v;
}

/** The canonical CBOR encoding of a value. */
export function canonicalCbor(v: unknown): Buffer {
  return Buffer.from(encoder.encode(canonical(v)));
}

/** SHA-256 (hex) of a certificate's DER encoding. */
export function certSha256(pem: string): string {
  return sha256Hex(new X509Certificate(pem).raw);
}

/**
 * The `attrs` a Fabric CA writes into an enrollment certificate (extension 1.2.3.4.5.6.7.8.1, a
 * JSON document `{"attrs":{…}}`); node:crypto does not expose custom extensions, so it is read
 * from the DER bytes. Empty when there is none.
 */
export function fabricAttrs(cert: X509Certificate): Record<string, string> {
  const raw = cert.raw.toString('latin1');
  const at = raw.indexOf('{"attrs":');
  if (at < 0) return {};
  let depth = 0;
  for (let i = at; i < raw.length; i++) {
    if (raw[i] === '{') depth++;
    else if (raw[i] === '}' && --depth === 0) {
      try {
        const attrs = (JSON.parse(Buffer.from(raw.slice(at, i + 1), 'latin1').toString('utf8')) as { attrs?: unknown }).attrs;
        if (!attrs || typeof attrs !== 'object') return {};
        return Object.fromEntries(Object.entries(attrs).filter((e): e is [string, string] => typeof e[1] === 'string'));
      } catch {
        return {};
      }
    }
  }
  return {};
}

/** The certificate's Common Name. */
export function commonName(cert: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
}

/**
 * Verify that `pem` was issued by `mspId`'s CA (signature and issuer name), is valid at `now`, and
 * holds an EC P-256 key. Throws UNTRUSTED_SENDER (the caller decides how to name the party).
 */
export function verifyChain(pem: string, mspId: string, trust: TrustAnchors, now: number, who = 'sender'): X509Certificate {
  const caPem = trust.get(mspId);
  if (!caPem) throw new EnvelopeError('UNTRUSTED_SENDER', `no trusted CA certificate for ${who} organisation ${mspId}`);
  let cert: X509Certificate, ca: X509Certificate;
  try {
    cert = new X509Certificate(pem);
    ca = new X509Certificate(caPem);
  } catch (e) {
    throw new EnvelopeError('MALFORMED', `${who} certificate is not an X.509 certificate: ${(e as Error).message}`);
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))
    throw new EnvelopeError('UNTRUSTED_SENDER', `${who} certificate (${commonName(cert)}) was not issued by the CA of ${mspId}`);
  if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now)
    throw new EnvelopeError('UNTRUSTED_SENDER', `${who} certificate is not valid now (${cert.validFrom} – ${cert.validTo})`);
  const details = cert.publicKey.asymmetricKeyDetails;
  if (cert.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1')
    throw new EnvelopeError('MALFORMED', `${who} certificate does not hold a P-256 key`);
  return cert;
}

function info(kind: string, jobId: string, providerId: string, purpose: string, recipientCertSha256: string): Buffer {
  return Buffer.from(['mvsec/dpm-envelope/v1', kind, jobId, providerId, purpose, recipientCertSha256].join('\u0000'), 'utf8');
}

const HEADER_FIELDS = [
  'v',
  'typ',
  'alg',
  'kind',
  'jobId',
  'providerId',
  'purpose',
  'sender',
  'recipient',
  'meta',
  'createdAt',
  'epk',
  'salt',
  'iv',
];

function headerOf(e: Partial<Envelope>): Record<string, unknown> {
  return Object.fromEntries(HEADER_FIELDS.map((k) => [k, (e as Record<string, unknown>)[k]]));
}

function signedPart(e: Partial<Envelope>): Record<string, unknown> {
  return { ...headerOf(e), ct: e.ct };
}

export interface SealInput {
  kind: EnvelopeKind;
  jobId: string;
  providerId: string;
  purpose: string;
  payload: Uint8Array;
  meta?: Record<string, unknown>;
  sender: Party;
  recipient: Pick<Party, 'mspId' | 'certificate'>;
  now?: number;
}

/** Encrypt `payload` to the recipient's certificate key and sign as the sender: the envelope's bytes. */
export function sealEnvelope(s: SealInput): Buffer {
  const recipientCert = new X509Certificate(s.recipient.certificate);
  const rk = recipientCert.publicKey;
  if (rk.asymmetricKeyType !== 'ec' || rk.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new EnvelopeError('MALFORMED', 'the recipient certificate does not hold a P-256 key');
  const recipientSha = sha256Hex(recipientCert.raw);
  const eph = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: rk });
  const key = Buffer.from(hkdfSync('sha256', shared, salt, info(s.kind, s.jobId, s.providerId, s.purpose, recipientSha), 32));
  shared.fill(0);
  const e: Partial<Envelope> = {
    v: ENVELOPE_VERSION,
    typ: ENVELOPE_TYPE,
    alg: ENVELOPE_ALG,
    kind: s.kind,
    jobId: s.jobId,
    providerId: s.providerId,
    purpose: s.purpose,
    sender: { mspId: s.sender.mspId, cert: s.sender.certificate },
    recipient: { mspId: s.recipient.mspId, certSha256: recipientSha },
    meta: s.meta ?? {},
    createdAt: new Date(s.now ?? Date.now()).toISOString(),
    epk: eph.publicKey.export({ format: 'der', type: 'spki' }),
    salt,
    iv,
  };
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(canonicalCbor(headerOf(e)));
  e.ct = Buffer.concat([c.update(s.payload), c.final(), c.getAuthTag()]);
  key.fill(0);
  e.sig = sign('sha256', canonicalCbor(signedPart(e)), s.sender.privateKey);
  return canonicalCbor(e);
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isBuf = (v: unknown, len?: number): v is Buffer => Buffer.isBuffer(v) && (len === undefined || v.length === len);
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v);

/** Decode and check the structure and canonical form; no cryptography. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const buf = Buffer.from(bytes);
  let e: unknown;
  try {
    e = decode(buf);
  } catch (err) {
    throw new EnvelopeError('MALFORMED', `not a CBOR envelope: ${(err as Error).message}`);
  }
  if (!isObj(e)) throw new EnvelopeError('MALFORMED', 'an envelope is a CBOR map');
  const keys = Object.keys(e).sort();
  const want = [...HEADER_FIELDS, 'ct', 'sig'].sort();
  if (keys.join(',') !== want.join(','))
    throw new EnvelopeError('MALFORMED', `envelope fields are ${keys.join(',')}; expected ${want.join(',')}`);
  const sender = e.sender as Record<string, unknown>;
  const recipient = e.recipient as Record<string, unknown>;
  const ok =
    e.v === ENVELOPE_VERSION &&
    e.typ === ENVELOPE_TYPE &&
    e.alg === ENVELOPE_ALG &&
    (e.kind === 'input' || e.kind === 'result') &&
    isStr(e.jobId) &&
    isStr(e.providerId) &&
    isStr(e.purpose) &&
    isStr(e.createdAt) &&
    isObj(sender) &&
    isStr(sender.mspId) &&
    isStr(sender.cert) &&
    Object.keys(sender).length === 2 &&
    isObj(recipient) &&
    isStr(recipient.mspId) &&
    typeof recipient.certSha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(recipient.certSha256) &&
    Object.keys(recipient).length === 2 &&
    isObj(e.meta) &&
    isBuf(e.epk) &&
    isBuf(e.salt, 32) &&
    isBuf(e.iv, 12) &&
    isBuf(e.ct) &&
    e.ct.length >= 16 &&
    isBuf(e.sig);
  if (!ok) throw new EnvelopeError('MALFORMED', `not a version ${ENVELOPE_VERSION} ${ENVELOPE_TYPE} (${ENVELOPE_ALG})`);
  let again: Buffer;
  try {
    again = canonicalCbor(e);
  } catch {
    throw new EnvelopeError('MALFORMED', 'the envelope is not in canonical form');
  }
  if (!again.equals(buf)) throw new EnvelopeError('MALFORMED', 'the envelope is not in canonical form (its bytes were altered)');
  return e as unknown as Envelope;
}

export interface VerifyOptions {
  trust: TrustAnchors;
  now?: number;
  /** Refuse unless these header fields have these values. */
  expect?: Partial<Pick<Envelope, 'kind' | 'jobId' | 'providerId' | 'purpose'>> & { senderMspId?: string };
}

export interface Verified {
  envelope: Envelope;
  /** The sender's certificate, verified against its organisation's CA. */
  senderCert: X509Certificate;
  /** The sender's Fabric attributes (role, principal) from its certificate. */
  senderAttrs: Record<string, string>;
  /** SHA-256 of the envelope's bytes (what the ledger records). */
  sha256: string;
}

/** Canonical form, sender chain, signature and expected header fields; does not decrypt. */
export function verifyEnvelope(bytes: Uint8Array, o: VerifyOptions): Verified {
  const e = decodeEnvelope(bytes);
  const now = o.now ?? Date.now();
  for (const [k, v] of Object.entries(o.expect ?? {})) {
    if (v === undefined) continue;
    const got = k === 'senderMspId' ? e.sender.mspId : (e as unknown as Record<string, unknown>)[k];
    if (got !== v) throw new EnvelopeError('MISMATCH', `envelope ${k} is ${String(got)}, expected ${v}`);
  }
  const senderCert = verifyChain(e.sender.cert, e.sender.mspId, o.trust, now);
  if (!verify('sha256', canonicalCbor(signedPart(e)), senderCert.publicKey, e.sig))
    throw new EnvelopeError('BAD_SIGNATURE', `the signature does not verify with the sender certificate (${commonName(senderCert)})`);
  return { envelope: e, senderCert, senderAttrs: fabricAttrs(senderCert), sha256: sha256Hex(bytes) };
}

export interface Opened extends Verified {
  payload: Buffer;
}

/**
 * Open an envelope: verify it (canonical form, the sender's chain to its organisation's CA, the
 * signature, the expected fields), check that it is addressed to `recipient`'s certificate, then
 * derive the key and decrypt. Throws EnvelopeError; nothing is decrypted before everything else holds.
 */
export function openEnvelope(bytes: Uint8Array, recipient: Pick<Party, 'certificate' | 'privateKey'>, o: VerifyOptions): Opened {
  const v = verifyEnvelope(bytes, o);
  const e = v.envelope;
  const mine = certSha256(recipient.certificate);
  if (e.recipient.certSha256 !== mine)
    throw new EnvelopeError(
      'WRONG_RECIPIENT',
      `envelope is encrypted to certificate ${e.recipient.certSha256.slice(0, 16)}… of ${e.recipient.mspId}, not to this key's certificate ${mine.slice(0, 16)}…`,
    );
  let key: Buffer;
  try {
    const epk = createPublicKey({ key: e.epk, format: 'der', type: 'spki' });
    const shared = diffieHellman({ privateKey: recipient.privateKey, publicKey: epk });
    key = Buffer.from(hkdfSync('sha256', shared, e.salt, info(e.kind, e.jobId, e.providerId, e.purpose, mine), 32));
    shared.fill(0);
  } catch (err) {
    throw new EnvelopeError('DECRYPT', `key agreement failed: ${(err as Error).message}`);
  }
  try {
    const d = createDecipheriv('aes-256-gcm', key, e.iv, { authTagLength: 16 });
    d.setAAD(canonicalCbor(headerOf(e)));
    d.setAuthTag(e.ct.subarray(e.ct.length - 16));
    const payload = Buffer.concat([d.update(e.ct.subarray(0, e.ct.length - 16)), d.final()]);
    return { ...v, payload };
  } catch {
    throw new EnvelopeError('DECRYPT', 'the ciphertext does not authenticate under the derived key (wrong key or altered data)');
  } finally {
    key.fill(0);
  }
}
