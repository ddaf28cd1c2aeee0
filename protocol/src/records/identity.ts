import type { Actor } from './actor';

/**
 * A principal's bound signing key (trust rule 8). An organisation's CA can issue any number of
 * certificates carrying a `principal` attribute; once the principal binds its key, only
 * certificates for that key act as the principal — others count as carrying no principal.
 * `spkiSha256` is the SHA-256 (hex) of the certificate's SubjectPublicKeyInfo (DER), so a renewed
 * certificate for the same key stays bound.
 */
export interface PrincipalKey {
  docType: 'principal-key';
  mspId: string;
  principal: string;
  spkiSha256: string;
  /** of the certificate that was bound, for people */
  subject: string;
  issuer: string;
  serialNumber: string;
  validTo: string;
  boundBy: Actor;
  boundAt: string;
}
