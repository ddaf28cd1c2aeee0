/** What the routes need from the ledger; FabricLedger is the real one, tests use doubles. */
import type { Caller } from '../auth/principal.js';
import type { Gateway } from '@hyperledger/fabric-gateway';

export interface SubmitOptions {
  transient?: Record<string, string>;
  endorsingOrganizations?: string[];
  /** Called once a proposal is endorsed, before it goes to the orderers: its tx id and result (for durable idempotency). */
  onEndorsed?(txId: string, result: unknown): void;
}

/** What the ledger says of a transaction id: committed valid, committed invalid, or not (yet) in any block. */
export type TransactionStatus = 'VALID' | 'INVALID' | 'UNKNOWN';

export interface Submitted {
  txId: string;
  /** The chaincode's result, parsed when it is JSON. */
  result: unknown;
}

export interface Readiness {
  ready: boolean;
  detail: string;
}

/** One chaincode event as committed (the chaincode emits one `mvsec.activity` event per transaction). */
export interface LedgerEvent {
  blockNumber: bigint;
  txId: string;
  name: string;
  payload: Uint8Array;
}

/** Committed events in order, until closed. */
export interface LedgerEvents extends AsyncIterable<LedgerEvent> {
  close(): void;
}

export interface Ledger {
  /** Endorse, order and wait for the commit, as the caller's own Fabric identity. `fn` is `contract:Function`. */
  submit(caller: Caller, fn: string, args: string[], options?: SubmitOptions): Promise<Submitted>;
  /** Evaluate a read-only function as the caller's own Fabric identity. */
  evaluate(caller: Caller, fn: string, args: string[]): Promise<unknown>;
  /** The commit status of a transaction (qscc GetTransactionByID), as the caller. */
  transactionStatus?(caller: Caller, txId: string): Promise<TransactionStatus>;
  /** Follow committed chaincode events as the caller's own Fabric identity, from `startBlock` or from now. */
  events?(caller: Caller, startBlock?: bigint): Promise<LedgerEvents>;
  /**
   * Run `op` with a Fabric Gateway connected as the caller's own identity, on the channel and
   * chaincode of `where` (e.g. to export an evidence bundle through qscc).
   */
  withGateway?<T>(caller: Caller, what: string, op: (gw: Gateway, where: { channel: string; chaincode: string }) => Promise<T>): Promise<T>;
  ready(): Promise<Readiness>;
  close(): void;
}

export function parseResult(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
