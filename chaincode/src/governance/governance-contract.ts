import { Info, Param, Returns, Transaction } from '../common/decorators';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf } from '../auth/identity';
import { GOVERNANCE_MAJORITY, PEER_ORG_MSPS } from '../common/config';
import { conflict, invalid } from '../common/errors';
import { keys } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { keyExists, mustGet, putRecord } from '../common/state';
import { txTime } from '../common/time';
import { assertId, assertOnlyFields, assertText, parseObject } from '../common/validation';
import { RoleIssuers, RoleIssuersProposal } from './governance-types';
import { loadRoleIssuers, mapOf, proposedTable, sameTable } from './role-issuers';

/**
 * Ledger-wide settings changed only by a majority of the peer organisations' admins, each
 * approving with its own key in its own transaction (ARCHITECTURE §1a "Governance"). The one
 * setting so far: which organisations may issue which roles (trust rule 1, `settings~roles`).
 */
@Info({
  title: 'GovernanceContract',
  description: 'Ledger settings changed by a majority of peer organisations (trust rule 1: role issuers)',
})
export class GovernanceContract extends LedgerContract {
  constructor() {
    super('governance');
  }

  @Transaction(false)
  @Returns('RoleIssuers')
  public async GetRoleIssuers(ctx: LedgerContext): Promise<RoleIssuers> {
    enforce(authorize(callerOf(ctx), 'governance.read'));
    return ctx.roleIssuers ?? (await loadRoleIssuers(ctx));
  }

  @Transaction(false)
  @Returns('RoleIssuersProposal')
  public async GetRoleIssuersProposal(ctx: LedgerContext, proposalId: string): Promise<RoleIssuersProposal> {
    enforce(authorize(callerOf(ctx), 'governance.read'));
    return this.load(ctx, proposalId);
  }

  @Transaction()
  @Param(
    'input',
    'string',
    "JSON {proposalId, issuers: {role: '*' | [mspId]} (roles named are replaced, the others kept), reason?}; counts as the proposer organisation's approval",
  )
  @Returns('RoleIssuersProposal')
  public async ProposeRoleIssuers(ctx: LedgerContext, input: string): Promise<RoleIssuersProposal> {
    const caller = callerOf(ctx);
    enforce(authorize(caller, 'governance.propose'));
    const body = parseObject('input', input);
    assertOnlyFields('input', body, ['proposalId', 'issuers', 'reason']);
    const proposalId = assertId('input.proposalId', body.proposalId);
    const current = await this.current(ctx);
    const issuers = proposedTable(current.issuers, body.issuers);
    if (sameTable(issuers, current.issuers)) throw invalid(`input.issuers: changes nothing in role issuers version ${current.version}`);
    const key = keys.roleIssuersProposal(ctx.stub, proposalId);
    if (await keyExists(ctx, key)) throw conflict(`proposal ${proposalId} already exists`);
    const now = txTime(ctx);
    const proposal: RoleIssuersProposal = {
      docType: 'roleIssuersProposal',
      proposalId,
      baseVersion: current.version,
      issuers,
      reason: assertText('input.reason', body.reason ?? ''),
      status: 'OPEN',
      required: GOVERNANCE_MAJORITY,
      approvals: [{ mspId: caller.mspId, principal: caller.principal ?? '', txId: ctx.stub.getTxID(), at: now }],
      proposedBy: actorOf(caller),
      createdAt: now,
      updatedAt: now,
    };
    ctx.journal.record({
      subjectType: 'governance',
      subjectId: proposalId,
      action: 'proposed',
      details: { setting: 'roles', baseVersion: current.version, issuers: mapOf(issuers), approvals: [caller.mspId] },
    });
    return this.applyIfMajority(ctx, key, proposal, current);
  }

  @Transaction()
  @Returns('RoleIssuersProposal')
  public async ApproveRoleIssuers(ctx: LedgerContext, proposalId: string): Promise<RoleIssuersProposal> {
    const caller = callerOf(ctx);
    enforce(authorize(caller, 'governance.approve'));
    const proposal = await this.load(ctx, proposalId);
    if (proposal.status !== 'OPEN') throw conflict(`proposal ${proposal.proposalId} is already ${proposal.status}`);
    const current = await this.current(ctx);
    if (current.version !== proposal.baseVersion) {
      throw conflict(
        `proposal ${proposal.proposalId} was made for role issuers version ${proposal.baseVersion}; the setting is now version ${current.version}: propose again`,
      );
    }
    if (proposal.approvals.some((a) => a.mspId === caller.mspId)) {
      throw conflict(
        `${caller.mspId} already approved proposal ${proposal.proposalId}; each organisation approves once (${proposal.required} of ${PEER_ORG_MSPS.length} peer organisations needed, ${proposal.approvals.length} so far)`,
      );
    }
    const now = txTime(ctx);
    const updated: RoleIssuersProposal = {
      ...proposal,
      approvals: [...proposal.approvals, { mspId: caller.mspId, principal: caller.principal ?? '', txId: ctx.stub.getTxID(), at: now }],
      updatedAt: now,
    };
    ctx.journal.record({
      subjectType: 'governance',
      subjectId: proposal.proposalId,
      action: 'approved',
      details: { setting: 'roles', mspId: caller.mspId, approvals: updated.approvals.map((a) => a.mspId) },
    });
    return this.applyIfMajority(ctx, keys.roleIssuersProposal(ctx.stub, proposal.proposalId), updated, current);
  }

  /** Store the proposal; at a majority of distinct peer organisations, write the new setting. */
  private async applyIfMajority(
    ctx: LedgerContext,
    key: string,
    proposal: RoleIssuersProposal,
    current: RoleIssuers,
  ): Promise<RoleIssuersProposal> {
    const orgs = new Set(proposal.approvals.map((a) => a.mspId).filter((m) => PEER_ORG_MSPS.includes(m)));
    if (orgs.size < proposal.required) {
      await putRecord(ctx, key, proposal);
      return proposal;
    }
    const version = current.version + 1;
    const setting: RoleIssuers = {
      docType: 'roleIssuers',
      version,
      source: 'LEDGER',
      issuers: proposal.issuers,
      proposalId: proposal.proposalId,
      approvedBy: [...orgs].sort(),
      updatedAt: proposal.updatedAt,
    };
    await putRecord(ctx, keys.roleIssuers(ctx.stub), setting);
    const applied: RoleIssuersProposal = { ...proposal, status: 'APPLIED', appliedVersion: version };
    await putRecord(ctx, key, applied);
    ctx.journal.record({
      subjectType: 'settings',
      subjectId: 'roles',
      action: 'changed',
      details: { version, proposalId: proposal.proposalId, approvedBy: setting.approvedBy, issuers: mapOf(setting.issuers) },
    });
    return applied;
  }

  private async current(ctx: LedgerContext): Promise<RoleIssuers> {
    return ctx.roleIssuers ?? (await loadRoleIssuers(ctx));
  }

  private async load(ctx: LedgerContext, proposalId: string): Promise<RoleIssuersProposal> {
    return mustGet<RoleIssuersProposal>(
      ctx,
      keys.roleIssuersProposal(ctx.stub, assertId('proposalId', proposalId)),
      `proposal ${proposalId}`,
    );
  }
}
