import { Info, Param, Returns, Transaction } from '../common/decorators';
import { actorOf, callerOf } from '../auth/identity';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { guardKeys, requirePeersOf } from '../common/endorsement';
import { LIMITS } from '../common/config';
import { conflict, invalid, notFound } from '../common/errors';
import { keys, KeyType } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { getRecord, keyExists, listByPartialKey, putRecord } from '../common/state';
import { txTime } from '../common/time';
import { assertId, assertSha256, assertText, checkInput, parseInput, parseObject } from '../common/validation';
import { inputs } from 'mvsec-protocol';
import { bindMetaverseToMsp, loadActivePlatform, loadPlatform, metaverseOfMsp } from './platform-store';
import { Federation, federationIdOf, Platform } from './platform-types';
import { assertValidAt, certificateSummary, parseCertificate } from '../auth/certificate';
import { boundIdentity, ProviderIdentity } from './provider-identity';

/**
 * Platforms (metaverse, IoT, DPM, storage) bound to the MSP that registered them, and federation
 * between two metaverse platforms, which both sides must sign (R5, X3).
 */
@Info({ title: 'PlatformContract', description: 'Platform registry and metaverse federation (R5, X3, A2)' })
export class PlatformContract extends LedgerContract {
  constructor() {
    super('platform');
  }

  @Transaction()
  @Param('input', 'string', 'JSON {platformId, type: METAVERSE|IOT|DPM|STORAGE, name, capabilityLevel: 0..3, endpoint?}')
  @Returns('Platform')
  public async RegisterPlatform(ctx: LedgerContext, input: string): Promise<Platform> {
    const caller = callerOf(ctx);
    const body = parseInput(inputs.RegisterPlatform, 'input', input);
    const now = txTime(ctx);
    const platform: Platform = {
      docType: 'platform',
      platformId: body.platformId,
      type: body.type,
      name: body.name,
      mspId: caller.mspId,
      capabilityLevel: body.capabilityLevel,
      endpoint: body.endpoint,
      status: 'ACTIVE',
      registeredBy: actorOf(caller),
      createdAt: now,
      updatedAt: now,
    };
    const current = platform.type === 'METAVERSE' ? await metaverseOfMsp(ctx, caller.mspId) : undefined;
    enforce(authorize(caller, 'platform.register', { platform, current }));
    const key = keys.platform(ctx.stub, platform.platformId);
    if (await keyExists(ctx, key)) throw conflict(`platform ${platform.platformId} already exists`);
    await putRecord(ctx, key, platform);
    if (platform.type === 'METAVERSE') await bindMetaverseToMsp(ctx, platform);
    // Rule 9: only the platform's own organisation's peer may endorse changes to it.
    await guardKeys(ctx, platform.type === 'METAVERSE' ? [key, keys.metaverseOfMsp(ctx.stub, platform.mspId)] : [key], [platform.mspId]);
    ctx.journal.record({
      subjectType: 'platform',
      subjectId: platform.platformId,
      action: 'registered',
      details: { type: platform.type, mspId: platform.mspId },
    });
    return platform;
  }

  @Transaction()
  @Param('input', 'string', 'JSON {name?, capabilityLevel?, endpoint?}')
  @Returns('Platform')
  public async UpdatePlatform(ctx: LedgerContext, platformId: string, input: string): Promise<Platform> {
    const caller = callerOf(ctx);
    const platform = await loadPlatform(ctx, assertId('platformId', platformId));
    enforce(authorize(caller, 'platform.manage', { platform }));
    const body = parseObject('input', input);
    const change = checkInput(inputs.UpdatePlatform, 'input', body);
    const updated: Platform = {
      ...platform,
      name: change.name ?? platform.name,
      capabilityLevel: change.capabilityLevel ?? platform.capabilityLevel,
      endpoint: change.endpoint ?? platform.endpoint,
      updatedAt: txTime(ctx),
    };
    await putRecord(ctx, keys.platform(ctx.stub, platformId), updated);
    ctx.journal.record({
      subjectType: 'platform',
      subjectId: platformId,
      action: 'updated',
      details: { capabilityLevel: updated.capabilityLevel },
    });
    return updated;
  }

  @Transaction()
  @Returns('Platform')
  public async SuspendPlatform(ctx: LedgerContext, platformId: string, reason: string): Promise<Platform> {
    return this.setStatus(ctx, platformId, 'SUSPENDED', assertText('reason', reason));
  }

  @Transaction()
  @Returns('Platform')
  public async ResumePlatform(ctx: LedgerContext, platformId: string): Promise<Platform> {
    return this.setStatus(ctx, platformId, 'ACTIVE', undefined);
  }

  @Transaction(false)
  @Returns('Platform')
  public async GetPlatform(ctx: LedgerContext, platformId: string): Promise<Platform> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    return loadPlatform(ctx, assertId('platformId', platformId));
  }

  /** The metaverse platform `mspId` runs (rule 6: at most one ACTIVE per MSP); NOT_FOUND if it registered none. */
  @Transaction(false)
  @Returns('Platform')
  public async GetMetaverseOfMsp(ctx: LedgerContext, mspId: string): Promise<Platform> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    const platform = await metaverseOfMsp(ctx, assertId('mspId', mspId));
    if (!platform) throw notFound(`${mspId} runs no metaverse platform`);
    return platform;
  }

  /** The caller's side (platformId, an ACTIVE metaverse of the caller's MSP) proposes federation with peerPlatformId. */
  @Transaction()
  @Param('terms', 'string', 'free text of what the federation covers (1–1024 characters)')
  @Returns('Federation')
  public async ProposeFederation(ctx: LedgerContext, platformId: string, peerPlatformId: string, terms: string): Promise<Federation> {
    const caller = callerOf(ctx);
    const args = checkInput(inputs.ProposeFederation, '', { platformId, peerPlatformId, terms });
    if (platformId === peerPlatformId) throw conflict('a platform cannot federate with itself');
    const platform = await loadActivePlatform(ctx, platformId, 'METAVERSE');
    const peer = await loadActivePlatform(ctx, peerPlatformId, 'METAVERSE');
    enforce(authorize(caller, 'federation.propose', { platform, peer }));
    const key = keys.federation(ctx.stub, platformId, peerPlatformId);
    const existing = await getRecord<Federation>(ctx, key);
    if (existing && existing.status !== 'REVOKED') throw conflict(`federation ${existing.federationId} is already ${existing.status}`);
    const now = txTime(ctx);
    const federation: Federation = {
      docType: 'federation',
      federationId: federationIdOf(platformId, peerPlatformId),
      proposerPlatformId: platformId,
      proposerMspId: platform.mspId,
      accepterPlatformId: peerPlatformId,
      accepterMspId: peer.mspId,
      terms: args.terms,
      status: 'PROPOSED',
      proposedBy: actorOf(caller),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await putRecord(ctx, key, federation);
    // Double verification: every later change of this federation needs both MSPs' peers.
    await requirePeersOf(ctx, key, [platform.mspId, peer.mspId]);
    ctx.journal.record({ subjectType: 'federation', subjectId: federation.federationId, action: 'proposed', details: { by: platformId } });
    return federation;
  }

  /** The other side (platformId, the caller's metaverse) accepts the federation proposed by peerPlatformId. */
  @Transaction()
  @Returns('Federation')
  public async AcceptFederation(ctx: LedgerContext, platformId: string, peerPlatformId: string): Promise<Federation> {
    const caller = callerOf(ctx);
    assertId('platformId', platformId);
    assertId('peerPlatformId', peerPlatformId);
    const platform = await loadActivePlatform(ctx, platformId, 'METAVERSE');
    const peer = await loadActivePlatform(ctx, peerPlatformId, 'METAVERSE');
    enforce(authorize(caller, 'federation.accept', { platform, peer }));
    const key = keys.federation(ctx.stub, platformId, peerPlatformId);
    const federation = await getRecord<Federation>(ctx, key);
    if (!federation || federation.status !== 'PROPOSED')
      throw conflict(`no proposed federation between ${platformId} and ${peerPlatformId}`);
    if (federation.accepterPlatformId !== platformId)
      throw conflict(`federation ${federation.federationId} must be accepted by ${federation.accepterPlatformId}, not by its proposer`);
    const updated: Federation = { ...federation, status: 'ACTIVE', acceptedBy: actorOf(caller), updatedAt: txTime(ctx) };
    await putRecord(ctx, key, updated);
    ctx.journal.record({ subjectType: 'federation', subjectId: federation.federationId, action: 'accepted', details: { by: platformId } });
    return updated;
  }

  @Transaction()
  @Returns('Federation')
  public async RevokeFederation(ctx: LedgerContext, platformId: string, peerPlatformId: string, reason: string): Promise<Federation> {
    const caller = callerOf(ctx);
    assertId('platformId', platformId);
    assertId('peerPlatformId', peerPlatformId);
    const key = keys.federation(ctx.stub, platformId, peerPlatformId);
    const federation = await getRecord<Federation>(ctx, key);
    if (!federation || federation.status === 'REVOKED')
      throw conflict(`no federation to revoke between ${platformId} and ${peerPlatformId}`);
    enforce(authorize(caller, 'federation.revoke', { federation }));
    const updated: Federation = {
      ...federation,
      status: 'REVOKED',
      revokedBy: actorOf(caller),
      statusReason: assertText('reason', reason),
      updatedAt: txTime(ctx),
    };
    await putRecord(ctx, key, updated);
    ctx.journal.record({
      subjectType: 'federation',
      subjectId: federation.federationId,
      action: 'revoked',
      details: { reason: updated.statusReason },
    });
    return updated;
  }

  @Transaction(false)
  @Returns('Federation')
  public async GetFederation(ctx: LedgerContext, platformId: string, peerPlatformId: string): Promise<Federation> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    const key = keys.federation(ctx.stub, assertId('platformId', platformId), assertId('peerPlatformId', peerPlatformId));
    const federation = await getRecord<Federation>(ctx, key);
    if (!federation) throw notFound(`no federation between ${platformId} and ${peerPlatformId}`);
    return federation;
  }

  /**
   * Trust rule 8: bind a signing identity to a DPM provider. Only the provider's admin (admin of
   * the platform's MSP) binds; the certificate must carry the provider's `role=dpm` and
   * `principal=<platformId>` attributes and be valid now. From then on that key (the SHA-256 of its
   * SubjectPublicKeyInfo) may act as the provider (dpm:AcceptJob, RecordReceipt, FailJob).
   */
  @Transaction()
  @Param('certificate', 'string', "PEM X.509 certificate of the provider's signing identity (its key is what is bound)")
  @Returns('ProviderIdentity')
  public async BindProviderIdentity(ctx: LedgerContext, platformId: string, certificate: string): Promise<ProviderIdentity> {
    const caller = callerOf(ctx);
    const platform = await loadPlatform(ctx, assertId('platformId', platformId));
    enforce(authorize(caller, 'platform.manage', { platform }));
    if (platform.type !== 'DPM')
      throw conflict(`platform ${platformId} is a ${platform.type} platform; only DPM providers bind identities`);
    if (platform.status !== 'ACTIVE') throw conflict(`platform ${platformId} is ${platform.status}`);
    if (typeof certificate !== 'string' || certificate.length === 0 || certificate.length > LIMITS.publicKeyLength * 2)
      throw invalid('certificate must be one PEM certificate');
    const { cert, spkiSha256, attrs } = parseCertificate(certificate, 'certificate');
    if (attrs.role !== 'dpm' || attrs.principal !== platformId)
      throw invalid(
        `certificate ${cert.subject.replace(/\n/g, ',')} carries role ${attrs.role ?? 'none'} and principal ${attrs.principal ?? 'none'}; ` +
          `a provider identity of ${platformId} carries role dpm and principal ${platformId}`,
      );
    const now = txTime(ctx);
    assertValidAt(cert, now);
    const key = keys.providerIdentity(ctx.stub, platformId, spkiSha256);
    if (await keyExists(ctx, key)) throw conflict(`that key (sha256 ${spkiSha256}) is already bound to provider ${platformId}`);
    const bound: ProviderIdentity = {
      docType: 'provider-identity',
      providerId: platformId,
      mspId: platform.mspId,
      spkiSha256,
      ...certificateSummary(cert),
      boundBy: actorOf(caller),
      boundAt: now,
    };
    await putRecord(ctx, key, bound);
    await guardKeys(ctx, [key], [platform.mspId]); // rule 9 (a provider without a peer: the chaincode-level policy)
    ctx.journal.record({
      subjectType: 'platform',
      subjectId: platformId,
      action: 'provider-identity-bound',
      details: { spkiSha256, subject: bound.subject, serialNumber: bound.serialNumber },
    });
    return bound;
  }

  /** Trust rule 8: remove a bound provider identity (a lost or retired key); the provider's admin only. */
  @Transaction()
  @Param('spkiSha256', 'string', "the bound key: SHA-256 (hex) of the certificate's SubjectPublicKeyInfo")
  @Returns('ProviderIdentity')
  public async UnbindProviderIdentity(ctx: LedgerContext, platformId: string, spkiSha256: string): Promise<ProviderIdentity> {
    const caller = callerOf(ctx);
    const platform = await loadPlatform(ctx, assertId('platformId', platformId));
    enforce(authorize(caller, 'platform.manage', { platform }));
    const bound = await boundIdentity(ctx, platformId, assertSha256('spkiSha256', spkiSha256));
    if (!bound) throw notFound(`no identity with key ${spkiSha256} is bound to provider ${platformId}`);
    await ctx.stub.deleteState(keys.providerIdentity(ctx.stub, platformId, spkiSha256));
    ctx.journal.record({ subjectType: 'platform', subjectId: platformId, action: 'provider-identity-unbound', details: { spkiSha256 } });
    return bound;
  }

  /** The identities bound to a DPM provider (rule 8). */
  @Transaction(false)
  @Returns('ProviderIdentity[]')
  public async ListProviderIdentities(ctx: LedgerContext, platformId: string): Promise<ProviderIdentity[]> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    const rows = await listByPartialKey<ProviderIdentity>(ctx, KeyType.providerIdentity, [assertId('platformId', platformId)], 64);
    return rows.map((r) => r.value);
  }

  private async setStatus(
    ctx: LedgerContext,
    platformId: string,
    status: Platform['status'],
    reason: string | undefined,
  ): Promise<Platform> {
    const caller = callerOf(ctx);
    const platform = await loadPlatform(ctx, assertId('platformId', platformId));
    if (status === 'ACTIVE') {
      const current = platform.type === 'METAVERSE' ? await metaverseOfMsp(ctx, platform.mspId) : undefined;
      enforce(authorize(caller, 'platform.resume', { platform, current }));
    } else {
      enforce(authorize(caller, 'platform.manage', { platform }));
    }
    if (platform.status === status) throw conflict(`platform ${platformId} is already ${status}`);
    const updated: Platform = { ...platform, status, statusReason: reason, updatedAt: txTime(ctx) };
    await putRecord(ctx, keys.platform(ctx.stub, platformId), updated);
    // A resumed metaverse is again the one its MSP runs (rule 6).
    if (status === 'ACTIVE' && platform.type === 'METAVERSE') await bindMetaverseToMsp(ctx, updated);
    ctx.journal.record({
      subjectType: 'platform',
      subjectId: platformId,
      action: status === 'ACTIVE' ? 'resumed' : 'suspended',
      details: reason ? { reason } : {},
    });
    return updated;
  }
}
