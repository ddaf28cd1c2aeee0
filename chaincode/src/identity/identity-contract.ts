import { Info, Param, Returns, Transaction } from '../common/decorators';
import { assertValidAt, certificateSummary, parseCertificate } from '../auth/certificate';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf, type Caller } from '../auth/identity';
import { LIMITS } from '../common/config';
import { guardKeys } from '../common/endorsement';
import { conflict, invalid, notFound } from '../common/errors';
import { keys } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { putRecord } from '../common/state';
import { txTime } from '../common/time';
import { assertId } from '../common/validation';
import { loadPrincipalKey, PrincipalKey } from './principal-key';

/** Principals' bound signing keys (trust rule 8): owners, thing agents and avatar agents act with their bound key only. */
@Info({ title: 'IdentityContract', description: "Principals' bound signing keys (trust rule 8)" })
export class IdentityContract extends LedgerContract {
  constructor() {
    super('identity');
  }

  /**
   * Bind the caller's own certificate key to its principal. From the next transaction on, only
   * certificates for this key act as the principal; one for another key (say a second
   * certificate the organisation's CA issued with the same `principal`) carries no principal.
   */
  @Transaction()
  @Returns('PrincipalKey')
  public async BindPrincipalKey(ctx: LedgerContext): Promise<PrincipalKey> {
    const caller = callerOf(ctx);
    enforce(authorize(caller, 'identity.bind'));
    const principal = caller.principal as string;
    const existing = await loadPrincipalKey(ctx, caller.mspId, principal);
    if (existing) throw conflict(`principal ${principal} of ${caller.mspId} already has a bound key (sha256 ${existing.spkiSha256})`);
    const { cert, spkiSha256 } = parseCertificate(ctx.clientIdentity.getIDBytes(), 'the creator certificate');
    return this.save(ctx, caller, principal, spkiSha256, certificateSummary(cert), 'principal-key-bound');
  }

  /**
   * Move the binding to a new key (a renewed identity with a new key pair), signed by the key
   * bound now. The new certificate must name the same principal, come from the same CA and be
   * valid now.
   */
  @Transaction()
  @Param('certificate', 'string', 'PEM X.509 certificate of the new key (same principal, same issuing CA)')
  @Returns('PrincipalKey')
  public async RebindPrincipalKey(ctx: LedgerContext, certificate: string): Promise<PrincipalKey> {
    const caller = callerOf(ctx);
    const bound = await this.loadBound(ctx, caller);
    enforce(authorize(caller, 'identity.rebind', { bound }));
    if (typeof certificate !== 'string' || certificate.length === 0 || certificate.length > LIMITS.publicKeyLength * 2)
      throw invalid('certificate must be one PEM certificate');
    const next = parseCertificate(certificate, 'certificate');
    const current = parseCertificate(ctx.clientIdentity.getIDBytes(), 'the creator certificate');
    if (next.attrs.principal !== bound.principal)
      throw invalid(`certificate names principal ${next.attrs.principal ?? 'none'}; the binding is for ${bound.principal}`);
    if (next.cert.issuer !== current.cert.issuer)
      throw invalid(`certificate was issued by ${next.cert.issuer.replace(/\n/g, ',')}, not by the CA of the bound identity`);
    if (next.spkiSha256 === bound.spkiSha256) throw conflict('that key is the bound key already');
    assertValidAt(next.cert, txTime(ctx));
    return this.save(ctx, caller, bound.principal, next.spkiSha256, certificateSummary(next.cert), 'principal-key-rebound');
  }

  /** Remove the binding (the principal goes back to being any certificate of its CA naming it); the bound key only. */
  @Transaction()
  @Returns('PrincipalKey')
  public async UnbindPrincipalKey(ctx: LedgerContext): Promise<PrincipalKey> {
    const caller = callerOf(ctx);
    const bound = await this.loadBound(ctx, caller);
    enforce(authorize(caller, 'identity.rebind', { bound }));
    await ctx.stub.deleteState(keys.principalKey(ctx.stub, bound.mspId, bound.principal));
    ctx.journal.record({
      subjectType: 'principal',
      subjectId: `${bound.mspId}/${bound.principal}`,
      action: 'principal-key-unbound',
      details: { spkiSha256: bound.spkiSha256 },
    });
    return bound;
  }

  /** The key bound to `principal` of `mspId` (NOT_FOUND when none is). Any member may read it. */
  @Transaction(false)
  @Returns('PrincipalKey')
  public async GetPrincipalKey(ctx: LedgerContext, mspId: string, principal: string): Promise<PrincipalKey> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    const bound = await loadPrincipalKey(ctx, assertId('mspId', mspId), assertId('principal', principal));
    if (!bound) throw notFound(`no key is bound to principal ${principal} of ${mspId}`);
    return bound;
  }

  /** The binding of the caller's certificate principal (its key may differ: then the policy refuses). */
  private async loadBound(ctx: LedgerContext, caller: Caller): Promise<PrincipalKey> {
    const principal = caller.principal ?? caller.unbound?.principal;
    if (!principal) throw invalid('the certificate names no principal');
    const bound = await loadPrincipalKey(ctx, caller.mspId, principal);
    if (!bound) throw notFound(`no key is bound to principal ${principal} of ${caller.mspId}; bind one with BindPrincipalKey`);
    return bound;
  }

  private async save(
    ctx: LedgerContext,
    caller: Caller,
    principal: string,
    spkiSha256: string,
    summary: ReturnType<typeof certificateSummary>,
    action: string,
  ): Promise<PrincipalKey> {
    const record: PrincipalKey = {
      docType: 'principal-key',
      mspId: caller.mspId,
      principal,
      spkiSha256,
      ...summary,
      boundBy: actorOf(caller),
      boundAt: txTime(ctx),
    };
    const key = keys.principalKey(ctx.stub, caller.mspId, principal);
    await putRecord(ctx, key, record);
    await guardKeys(ctx, [key], [caller.mspId]); // rule 9: only the principal's own organisation's peer endorses changes
    ctx.journal.record({
      subjectType: 'principal',
      subjectId: `${caller.mspId}/${principal}`,
      action,
      details: { spkiSha256, subject: record.subject, serialNumber: record.serialNumber },
    });
    return record;
  }
}
