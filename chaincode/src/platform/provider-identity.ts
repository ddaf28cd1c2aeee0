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
import type { Context } from 'fabric-contract-api';
import { callerKeyOf } from '../auth/certificate';
import { denied } from '../common/errors';
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
