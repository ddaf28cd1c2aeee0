/** What the routes need from the ledger; FabricLedger is the real one, tests use doubles. */
import type { Caller } from '../auth/principal.js';

export interface SubmitOptions {
  transient?: Record<string, string>;
  endorsingOrganizations?: string[];
}

export interface Submitted {
  txId: string;
  /** The chaincode's result, parsed when it is JSON. */
  result: unknown;
}

export interface Readiness {
  ready: boolean;
  detail: string;
}

export interface Ledger {
  /** Endorse, order and wait for the commit, as the caller's own Fabric identity. `fn` is `contract:Function`. */
  submit(caller: Caller, fn: string, args: string[], options?: SubmitOptions): Promise<Submitted>;
  /** Evaluate a read-only function as the caller's own Fabric identity. */
  evaluate(caller: Caller, fn: string, args: string[]): Promise<unknown>;
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
