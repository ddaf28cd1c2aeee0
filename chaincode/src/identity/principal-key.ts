/**
 * Trust rule 8 (bound identities), the owners' and agents' part. A `principal` attribute is only a
 * name: the organisation's CA can put it into any number of certificates, so an organisation's
 * admin could otherwise consent for its own owner. Once a principal binds its signing key
 * (identity:BindPrincipalKey), a certificate for any other key carries no principal on this
 * ledger: every rule that checks owners, thing agents and avatar agents then holds for the bound
 * key only. The check runs once per transaction (LedgerContract.beforeTransaction, one read).
 */
import type { Context } from 'fabric-contract-api';
import type * as P from 'mvsec-protocol';
import { Actor } from '../auth/identity';
import { callerKeyOf } from '../auth/certificate';
import { DataType, Property } from '../common/decorators';
import { keys } from '../common/keys';
import { getRecord } from '../common/state';

/** key `principal~key` (mspId, principal) */
@DataType()
export class PrincipalKey implements P.PrincipalKey {
  @Property('docType', 'string') public docType!: 'principal-key';
  @Property('mspId', 'string') public mspId!: string;
  @Property('principal', 'string') public principal!: string;
  /** SHA-256 (hex) of the bound certificate's public key (SPKI DER) */
  @Property('spkiSha256', 'string') public spkiSha256!: string;
  @Property('subject', 'string') public subject!: string;
  @Property('issuer', 'string') public issuer!: string;
  @Property('serialNumber', 'string') public serialNumber!: string;
  @Property('validTo', 'string') public validTo!: string;
  @Property('boundBy', 'Actor') public boundBy!: Actor;
  @Property('boundAt', 'string') public boundAt!: string;
}

export function loadPrincipalKey(ctx: Context, mspId: string, principal: string): Promise<PrincipalKey | undefined> {
  return getRecord<PrincipalKey>(ctx, keys.principalKey(ctx.stub, mspId, principal));
}

/**
 * Why the creator's certificate may not act as `principal` (its key is not the bound one), or
 * undefined when it may (no key bound, or the bound key signs).
 */
export async function principalKeyRefusal(ctx: Context, principal: string): Promise<string | undefined> {
  const bound = await loadPrincipalKey(ctx, ctx.clientIdentity.getMSPID(), principal);
  if (!bound) return undefined;
  const key = callerKeyOf(ctx);
  if (key === bound.spkiSha256) return undefined;
  return `principal ${principal} of ${bound.mspId} is bound to another key (sha256 ${bound.spkiSha256}); this certificate's key is sha256 ${key}`;
}
