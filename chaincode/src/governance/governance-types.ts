import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
import type * as P from 'mvsec-protocol';

/** One role and the organisations whose CAs may issue it (trust rule 1). */
@DataType()
export class RoleIssuer implements P.RoleIssuer {
  @Property('role', 'string') public role!: string;
  /** true: any member of the channel may issue the role (then `mspIds` is empty) */
  @Property('anyMember', 'boolean') public anyMember!: boolean;
  @Property('mspIds', 'string[]') public mspIds!: string[];
}

/**
 * The ledger setting `settings~roles`: which organisations may issue which roles. Version 0 with
 * source DEFAULT is the table of common/config.ts, in force while the ledger holds no record.
 */
@DataType()
export class RoleIssuers implements P.RoleIssuers {
  @Property('docType', 'string') public docType!: 'roleIssuers';
  @Property('version', 'number') public version!: number;
  @Property('source', 'string') public source!: 'DEFAULT' | 'LEDGER';
  /** one entry per role, sorted by role */
  @Property('issuers', 'RoleIssuer[]') public issuers!: RoleIssuer[];
  /** the proposal that set this version, and the organisations that approved it */
  @Property('proposalId', 'string') public proposalId?: string;
  @Property('approvedBy', 'string[]') public approvedBy?: string[];
  @Property('updatedAt', 'string') public updatedAt?: string;
}

/** One organisation's approval of a governance proposal (its admin's own transaction). */
@DataType()
export class GovernanceApproval {
  @Property('mspId', 'string') public mspId!: string;
  @Property('principal', 'string') public principal!: string;
  @Property('txId', 'string') public txId!: string;
  @Property('at', 'string') public at!: string;
}

export const PROPOSAL_STATUSES = ['OPEN', 'APPLIED'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

/**
 * A proposed change of the role issuers: the complete table it would set, the version it was
 * proposed against (a proposal applies only to the setting it was made for), the approvals so
 * far (one per organisation, the proposer's first) and how many it needs (a majority of the
 * peer organisations).
 */
@DataType()
export class RoleIssuersProposal {
  @Property('docType', 'string') public docType!: 'roleIssuersProposal';
  @Property('proposalId', 'string') public proposalId!: string;
  @Property('baseVersion', 'number') public baseVersion!: number;
  @Property('issuers', 'RoleIssuer[]') public issuers!: RoleIssuer[];
  @Property('reason', 'string') public reason!: string;
  @Property('status', 'string') public status!: ProposalStatus;
  @Property('required', 'number') public required!: number;
  @Property('approvals', 'GovernanceApproval[]') public approvals!: GovernanceApproval[];
  @Property('proposedBy', 'Actor') public proposedBy!: Actor;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
  @Property('appliedVersion', 'number') public appliedVersion?: number;
}
