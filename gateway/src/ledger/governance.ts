/** Ledger-wide settings changed by a majority of organisations (governance contract). */
import type { RoleIssuers } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import type { Transactions } from './transactions.js';

export class GovernanceLedger {
  constructor(private readonly tx: Transactions) {}

  /** Which organisations may issue which roles (trust rule 1). */
  roleIssuers(caller: Caller): Promise<RoleIssuers> {
    return this.tx.evaluate(caller, 'governance:GetRoleIssuers', []);
  }
}
