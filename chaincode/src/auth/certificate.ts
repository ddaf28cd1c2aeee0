/**
 * The transaction creator's certificate as trust rule 8 needs it: which key signs (SHA-256 of the
 * SubjectPublicKeyInfo, DER — a renewed certificate for the same key keeps it) and which Fabric CA
 * attributes it carries.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { invalid } from '../common/errors';

/** Fabric CA's attribute extension (OID 1.2.3.4.5.6.7.8.1) holds `{"attrs":{…}}` as raw JSON. */
const ATTRS_OID = Buffer.from([0x06, 0x08, 0x2a, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01]);

export interface ParsedCertificate {
  cert: X509Certificate;
  spkiSha256: string;
  attrs: Record<string, string>;
}

/** Parse a PEM or DER certificate; INVALID when it is not one. */
export function parseCertificate(bytes: Uint8Array | string, what: string): ParsedCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes));
  } catch (e) {
    throw invalid(`${what} is not an X.509 certificate (PEM): ${(e as Error).message}`);
  }
  return { cert, spkiSha256: spkiSha256Of(cert), attrs: certificateAttrs(cert) };
}

export function spkiSha256Of(cert: X509Certificate): string {
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** The Fabric CA attributes of `cert` ({} when it has none). */
export function certificateAttrs(cert: X509Certificate): Record<string, string> {
  const raw = cert.raw;
  const at = raw.indexOf(ATTRS_OID);
  if (at < 0) return {};
  let i = at + ATTRS_OID.length;
  if (raw[i] === 0x01) i += 3; // critical BOOLEAN
  if (raw[i] !== 0x04) return {};
  let len = raw[i + 1];
  i += 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + raw[i + k];
    i += n;
  }
  try {
    const parsed = JSON.parse(raw.subarray(i, i + len).toString('utf8')) as { attrs?: Record<string, string> };
    return parsed.attrs && typeof parsed.attrs === 'object' ? parsed.attrs : {};
  } catch {
    return {};
  }
}

/** SPKI SHA-256 of the transaction creator's certificate. */
export function callerKeyOf(ctx: Context): string {
  return parseCertificate(ctx.clientIdentity.getIDBytes(), 'the creator certificate').spkiSha256;
}

/** Subject, issuer, serial and end of validity of `cert`, as records keep them for people. */
export function certificateSummary(cert: X509Certificate): { subject: string; issuer: string; serialNumber: string; validTo: string } {
  return {
    subject: cert.subject.replace(/\n/g, ','),
    issuer: cert.issuer.replace(/\n/g, ','),
    serialNumber: cert.serialNumber,
    validTo: cert.validTo,
  };
}

/** INVALID unless `cert` is valid at `now` (the transaction time). */
export function assertValidAt(cert: X509Certificate, now: string): void {
  if (Date.parse(cert.validTo) <= Date.parse(now) || Date.parse(cert.validFrom) > Date.parse(now))
    throw invalid(`certificate is not valid now (valid from ${cert.validFrom} to ${cert.validTo})`);
}
