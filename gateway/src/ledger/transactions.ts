/**
 * The raw `Ledger` (transactions named `contract:Function`, string arguments) with typed answers
 * and typed errors: what every domain client of ledger/client.ts is built on. Nothing outside
 * ledger/ names a chaincode function.
 */
import type { Caller } from '../auth/principal.js';
import { asLedgerError } from './errors.js';
import type { Ledger, SubmitOptions } from './ledger.js';

/** A committed write: its transaction id and the chaincode's answer (the record as written). */
export interface Committed<T> {
  txId: string;
  result: T;
}

export class Transactions {
  constructor(readonly ledger: Ledger) {}

  /** Evaluate `fn` as the caller; the answer is the chaincode's (typed by the caller of this). */
  async evaluate<T>(caller: Caller, fn: string, args: string[]): Promise<T> {
    try {
      return (await this.ledger.evaluate(caller, fn, args)) as T;
    } catch (e) {
      throw asLedgerError(e);
    }
  }

  /** Endorse, order and wait for the commit of `fn` as the caller. */
  async submit<T>(caller: Caller, fn: string, args: string[], options?: SubmitOptions): Promise<Committed<T>> {
    try {
      const r = await this.ledger.submit(caller, fn, args, options);
      return { txId: r.txId, result: r.result as T };
    } catch (e) {
      throw asLedgerError(e);
    }
  }
}

export const json = (v: unknown) => JSON.stringify(v);
