/**
 * Runs contract functions the way fabric-chaincode-node does (createContext, beforeTransaction,
 * the function, afterTransaction), against a MemoryLedger, then commits like a valid block.
 */
import type { Contract } from 'fabric-contract-api';
import { MemoryClientIdentity, MemoryLedger, MemoryStub } from './memory-ledger';

export const PEER_ORGS = ['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP'] as const;

export interface Identity {
  mspId: string;
  role?: string;
  principal?: string;
  /** the creator's certificate (PEM); needed where the chaincode reads the certificate itself (rule 8) */
  certificate?: string;
}

export interface CallOptions {
  transient?: Record<string, string | Uint8Array>;
  /** organisations whose peers endorsed; default: all peer orgs */
  endorsers?: readonly string[];
  /** override the transaction time (ms since epoch) the client puts in the proposal */
  at?: number;
  /** the endorsing peer's organisation (stub.getMspID()); default: the caller's; null: unknown (CORE_PEER_LOCALMSPID unset) */
  peer?: string | null;
  /** the endorser's own clock (ms since epoch); default: the transaction time, as for an honest client */
  endorserAt?: number;
}

export interface TxResult<T> {
  result: T;
  txId: string;
  stub: MemoryStub;
}

type AnyFn = (ctx: unknown, ...args: string[]) => Promise<unknown>;

export class TestChain {
  readonly ledger = new MemoryLedger();
  private txCounter = 0;
  /** the transaction clock; each transaction advances it by one second unless `at` is given */
  now = Date.parse('2025-03-01T10:00:00.000Z');

  private async run<T>(
    contract: Contract,
    fn: string,
    who: Identity,
    args: string[],
    opts: CallOptions,
    commit: boolean,
  ): Promise<TxResult<T>> {
    this.txCounter += 1;
    const txId = `tx${String(this.txCounter).padStart(6, '0')}`;
    const timestampMs = opts.at ?? (this.now += 1000);
    const stub = new MemoryStub(this.ledger, {
      txId,
      timestampMs,
      fcn: `${contract.getName()}:${fn}`,
      args,
      transient: opts.transient,
      mspId: opts.peer === null ? undefined : (opts.peer ?? who.mspId),
    });
    const attrs: Record<string, string> = {};
    if (who.role !== undefined) attrs.role = who.role;
    if (who.principal !== undefined) attrs.principal = who.principal;
    const ctx = contract.createContext() as unknown as { stub: unknown; clientIdentity: unknown; endorserNow?: () => number };
    ctx.stub = stub;
    const endorserAt = opts.endorserAt ?? timestampMs;
    if ('endorserNow' in ctx) ctx.endorserNow = () => endorserAt;
    ctx.clientIdentity = new MemoryClientIdentity(who.mspId, attrs, undefined, who.certificate);
    const method = (contract as unknown as Record<string, AnyFn>)[fn];
    if (typeof method !== 'function') throw new Error(`${contract.getName()} has no function ${fn}`);
    await contract.beforeTransaction(ctx as never);
    const result = (await method.call(contract, ctx, ...args)) as T;
    await contract.afterTransaction(ctx as never, result);
    if (commit) stub.commit(opts.endorsers ?? PEER_ORGS);
    return { result, txId, stub };
  }

  /** Endorse and commit. Throws the chaincode's error (nothing is committed then). */
  async submit<T = unknown>(contract: Contract, fn: string, who: Identity, args: unknown[] = [], opts: CallOptions = {}): Promise<T> {
    return (await this.submitTx<T>(contract, fn, who, args, opts)).result;
  }

  async submitTx<T = unknown>(
    contract: Contract,
    fn: string,
    who: Identity,
    args: unknown[] = [],
    opts: CallOptions = {},
  ): Promise<TxResult<T>> {
    return this.run<T>(contract, fn, who, args.map(asArg), opts, true);
  }

  /** Evaluate without committing; writes are asserted absent. */
  async evaluate<T = unknown>(contract: Contract, fn: string, who: Identity, args: unknown[] = [], opts: CallOptions = {}): Promise<T> {
    const { result, stub } = await this.run<T>(contract, fn, who, args.map(asArg), opts, false);
    if (stub.writes.size > 0 || stub.eventCount > 0) throw new Error(`evaluate-only function ${fn} wrote state or set an event`);
    return result;
  }

  /** Number of chaincode events committed by `txId`'s transaction. */
  eventsOf(txId: string) {
    return this.ledger.events.filter((e) => e.txId === txId);
  }
}

function asArg(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Parse a function result that may be an object or a JSON string. */
export function parsed<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
