import { Context, Contract } from 'fabric-contract-api';
import { TxJournal } from './journal';

/** Transaction context carrying the journal of this transaction's changes. */
export class LedgerContext extends Context {
  public readonly journal = new TxJournal();
}

/**
 * Base of every domain contract: a fresh journal per transaction, flushed after the function
 * returns (activity records + the single chaincode event). A failing function writes nothing.
 */
export abstract class LedgerContract extends Contract {
  public override createContext(): LedgerContext {
    return new LedgerContext();
  }

  public override async afterTransaction(ctx: Context, _result: unknown): Promise<void> {
    await (ctx as LedgerContext).journal.flush(ctx);
  }
}
