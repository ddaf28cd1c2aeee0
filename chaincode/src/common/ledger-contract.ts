import { Context, Contract } from 'fabric-contract-api';
import { certificatePrincipal, certificateRole } from '../auth/identity';
import { principalKeyRefusal } from '../identity/principal-key';
import type { RoleIssuers } from '../governance/governance-types';
import { loadRoleIssuers } from '../governance/role-issuers';
import { TxJournal } from './journal';
import { assertFreshTimestamp } from './time';

/** Transaction context carrying the journal of this transaction's changes. */
export class LedgerContext extends Context {
  public readonly journal = new TxJournal();
  /** Trust rule 1: the role issuers in force, read once per transaction (beforeTransaction); callerOf checks roles against it. */
  public roleIssuers?: RoleIssuers;
  /** Trust rule 8: whether the certificate's key may act as its principal, checked once per transaction (beforeTransaction). */
  public principalCheck?: { refusal?: string };
  /**
   * This endorser's clock, read only by `assertFreshTimestamp` to refuse proposals whose
   * timestamp is too far from it (never to compute state). Unit tests replace it.
   */
  public endorserNow(): number {
    return Date.now();
  }
}

/**
 * Base of every domain contract: the proposal's timestamp is checked against the endorser's clock
 * before any function runs (rule 2: a backdated or forward-dated proposal is refused, INVALID);
 * the role issuers are read once (trust rule 1, cached on the context for callerOf), and so is
 * the principal's bound key (trust rule 8);
 * a fresh journal per transaction, flushed after the function returns (activity records + the
 * single chaincode event). A failing function writes nothing.
 */
export abstract class LedgerContract extends Contract {
  public override createContext(): LedgerContext {
    return new LedgerContext();
  }

  public override async beforeTransaction(ctx: Context): Promise<void> {
    assertFreshTimestamp(ctx);
    // Trust rule 1: one read of the role issuers per transaction, only when the caller carries a role to check.
    if (certificateRole(ctx) !== null) (ctx as LedgerContext).roleIssuers = await loadRoleIssuers(ctx);
    // Trust rule 8: one read of the principal's bound key, only when the certificate names a principal.
    const principal = certificatePrincipal(ctx);
    if (principal !== null) (ctx as LedgerContext).principalCheck = { refusal: await principalKeyRefusal(ctx, principal) };
  }

  public override async afterTransaction(ctx: Context, _result: unknown): Promise<void> {
    await (ctx as LedgerContext).journal.flush(ctx);
  }
}
