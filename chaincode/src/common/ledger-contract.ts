import { Context, Contract } from 'fabric-contract-api';
import { TxJournal } from './journal';
import { assertFreshTimestamp } from './time';

/** Transaction context carrying the journal of this transaction's changes. */
export class LedgerContext extends Context {
  public readonly journal = new TxJournal();
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
 * a fresh journal per transaction, flushed after the function returns (activity records + the
 * single chaincode event). A failing function writes nothing.
 */
export abstract class LedgerContract extends Contract {
  public override createContext(): LedgerContext {
    return new LedgerContext();
  }

  public override async beforeTransaction(ctx: Context): Promise<void> {
    assertFreshTimestamp(ctx);
  }

  public override async afterTransaction(ctx: Context, _result: unknown): Promise<void> {
    await (ctx as LedgerContext).journal.flush(ctx);
  }
}
