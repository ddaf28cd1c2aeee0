/** Principals' bound signing keys (identity contract, trust rule 8). */
import type { PrincipalKey } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import type { SubmitOptions } from './ledger.js';
import type { Committed, Transactions } from './transactions.js';

export class IdentityLedger {
  constructor(private readonly tx: Transactions) {}

  /** Bind the caller's own signing key (the one this gateway holds for it) to its principal. */
  bindOwnKey(caller: Caller, o?: SubmitOptions): Promise<Committed<PrincipalKey>> {
    return this.tx.submit(caller, 'identity:BindPrincipalKey', [], o);
  }
  principalKey(caller: Caller, mspId: string, principal: string): Promise<PrincipalKey> {
    return this.tx.evaluate(caller, 'identity:GetPrincipalKey', [mspId, principal]);
  }
}
