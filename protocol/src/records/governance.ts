/** One role and the organisations whose CAs may issue it (trust rule 1). */
export interface RoleIssuer {
  role: string;
  /** true: any member of the channel may issue the role (then `mspIds` is empty) */
  anyMember: boolean;
  mspIds: string[];
}

/** The ledger setting `settings~roles`; version 0 with source DEFAULT is the chaincode's default table. */
export interface RoleIssuers {
  docType: 'roleIssuers';
  version: number;
  source: 'DEFAULT' | 'LEDGER';
  issuers: RoleIssuer[];
  proposalId?: string;
  approvedBy?: string[];
  updatedAt?: string;
}
