/**
 * Trust rule 8 (bound identities), the DPM provider part. The `principal` attribute names a
 * provider, but any certificate the provider organisation's CA issues can carry it. So the ledger
 * records which signing keys ARE the provider: the provider's admin binds a certificate
 * (`platform:BindProviderIdentity`), and the provider's own steps (`dpm:AcceptJob`,
 * `RecordReceipt`, `FailJob`) accept only a creator whose certificate's public key is bound.
 *
 * The binding is the SHA-256 of the certificate's SubjectPublicKeyInfo (DER), not of the
 * certificate: a renewed certificate for the same key (Fabric CA `reenroll` keeps the key unless
 * asked otherwise) stays bound; a new key needs a new binding.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { denied, invalid } from '../common/errors';
import { keys } from '../common/keys';
import { getRecord } from '../common/state';
import { DataType, Property } from '../common/decorators';
import { Actor, type Caller, describe } from '../auth/identity';

/** One bound provider identity: key `provider~identity` (providerId, spkiSha256). */
@DataType()
export class ProviderIdentity {
  @Property('docType', 'string') public docType!: 'provider-identity';
  @Property('providerId', 'string') public providerId!: string;
  @Property('mspId', 'string') public mspId!: string;
  /** SHA-256 (hex) of the certificate's public key (SPKI DER) */
  @Property('spkiSha256', 'string') public spkiSha256!: string;
  /** of the certificate that was bound, for people: subject, issuer, serial, validity */
  @Property('subject', 'string') public subject!: string;
  @Property('issuer', 'string') public issuer!: string;
  @Property('serialNumber', 'string') public serialNumber!: string;
  @Property('validTo', 'string') public validTo!: string;
  @Property('boundBy', 'Actor') public boundBy!: Actor;
  @Property('boundAt', 'string') public boundAt!: string;
}

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

export async function boundIdentity(ctx: Context, providerId: string, spkiSha256: string): Promise<ProviderIdentity | undefined> {
  return getRecord<ProviderIdentity>(ctx, keys.providerIdentity(ctx.stub, providerId, spkiSha256));
}

/**
 * Refuse unless the creator's certificate key is bound to `providerId`:
 * `DENIED: <caller> is not the identity bound to provider <id> (certificate key <sha256>) …`.
 */
export async function assertBoundProvider(ctx: Context, caller: Caller, providerId: string): Promise<void> {
  const key = callerKeyOf(ctx);
  if (await boundIdentity(ctx, providerId, key)) return;
  throw denied(
    `${describe(caller)} is not the identity bound to provider ${providerId} (certificate key sha256 ${key}); ` +
      `the provider's admin binds its identity with platform:BindProviderIdentity`,
  );
}
