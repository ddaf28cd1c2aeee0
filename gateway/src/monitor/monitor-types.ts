/** The monitor's options, event source, raised alerts and saved state (monitor.ts), and its atomic state writes. */
import type { ChaincodeEvent, Checkpointer, CloseableAsyncIterable } from '@hyperledger/fabric-gateway';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import type client from 'prom-client';
import type { Caller } from '../auth/principal.js';
import type { Ledger } from '../ledger/ledger.js';
import type { ActivityEvent, AlertDraft, EngineState, Rule, ThingView } from './rules.js';

export const ACTIVITY_EVENT = 'mvsec.activity';
/** The rule name of alerts for stored data that failed verification (not configurable: always on). */
export const INTEGRITY_RULE = 'storage-integrity';

/** Where events come from: the Fabric network (fabric-source.ts) or a test double. */
export interface EventSource {
  /** Events after the checkpoint's position (or from `startBlock` when it has none). */
  events(checkpoint: Checkpointer, startBlock?: bigint): Promise<CloseableAsyncIterable<ChaincodeEvent>>;
  /** Current block height of the channel (for the lag metric). */
  height(): Promise<bigint>;
  close(): void;
}

export interface RaisedAlert extends AlertDraft {
  /** the transaction that recorded it; undefined when it already existed on the ledger */
  txId?: string;
  /** what the ledger answered (the Alert record), when it was recorded now */
  record?: unknown;
  /** it was already on the ledger (a replay) */
  existing: boolean;
  raisedAt: string;
}

export interface MonitorOptions {
  rules: Rule[];
  ledger: Ledger;
  /** the monitor's own identity (role `monitor`) */
  identity: Caller;
  source: EventSource;
  /** folder for checkpoint.json and state.json (created, mode 700) */
  stateDir: string;
  /** first block when there is no checkpoint yet; default: the current height (from now on) */
  startBlock?: bigint;
  registry?: client.Registry;
  log?: (msg: string) => void;
  now?: () => number;
  /** test hooks: after the event was applied and the state saved, before its checkpoint; throwing simulates a crash there */
  beforeCheckpoint?: (event: ChaincodeEvent) => void | Promise<void>;
  /** called once per event applied (after its state was saved) */
  onProcessed?: (event: ChaincodeEvent, payload: ActivityEvent | undefined) => void;
  /** called for a redelivered event that was already applied */
  onSkipped?: (event: ChaincodeEvent) => void;
}

export interface SavedState {
  version: 1;
  /** last applied event position */
  block?: string;
  /** tx ids applied in that block */
  txIds: string[];
  processed: number;
  engine: EngineState;
  things: Record<string, ThingView>;
}

/** Write a file so a crash leaves the old or the new content, never a torn one. */
export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
