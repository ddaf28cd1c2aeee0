/** R1 telemetry's public shapes: readings in, listeners, options, proofs and live-stream messages. */
import type { Avatar, JsonValue, ProofStep, Thing, TransmitWindow } from 'mvsec-protocol';
import type { Caller } from '../../auth/principal.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { AvatarStreamMessage } from 'mvsec-protocol';
import type { ReadingSet, StoredReading } from './batches.js';

export interface IncomingReading {
  seq: number;
  time: string;
  sensor: string;
  value: JsonValue;
  /** Absent when the request carries one signature for the whole set (`setSignature`). */
  signature?: string;
}

/**
 * Told of every reading accepted (signature verified, not a replay), e.g. the monitor's bounds
 * rules. A listener that returns a promise keeps the readings' journal entry until it resolves: a
 * gateway stopped before that tells it again at the next start (so its work must be idempotent); a
 * rejection keeps the entry for the next start too.
 */
export type ReadingsListener = (
  thingId: string,
  readings: readonly Omit<StoredReading, 'leaf' | 'signature' | 'set'>[],
) => void | Promise<void>;

export interface TelemetryOptions {
  ledger: Ledger;
  /** Where seq.json, the journal and the batch log live; undefined: memory only. */
  dir?: string;
  /** Seals the readings kept in `dir` (journal and batch lines) at rest: the gateway's storage key. */
  sealKey?: Buffer;
  /** Cut a batch at this many readings (default 1000). */
  batchMaxReadings?: number;
  /** …or when its first reading has waited this long (ms, default 1000). */
  batchMaxWaitMs?: number;
  /** TTL of cached thing records, access decisions and avatar records (ms, default 2000). */
  cacheTtlMs?: number;
  /** How long transient anchoring failures (peers or orderers unreachable) are retried (default 10 min). */
  anchorRetryMs?: number;
  /** Compact the accepted-readings journal once this many bytes were appended since it was last emptied (default 64 MiB). */
  journalCompactBytes?: number;
  /** Worker threads verifying signatures (default: available parallelism, at most 4). */
  verifyThreads?: number;
  /** How often anchored batches past their thing's `retentionDays` are removed (ms, default 10 min; also at start). */
  retentionCheckMs?: number;
  /** Size of a batch-log segment, the unit retention deletes or rewrites (default 64 MiB). */
  batchSegmentBytes?: number;
  now?: () => number;
  log?: (m: string) => void;
}

export interface ProofAnswer {
  thingId: string;
  seq: number;
  batchId: string;
  leaf: string;
  proof: ProofStep[];
  merkleRoot: string;
  txId: string;
  leafCount: number;
  /** When the batch was anchored, and until when the gateway keeps it (its thing's retentionDays). */
  anchoredAt?: string;
  keptUntil?: string;
  reading: Omit<StoredReading, 'leaf'>;
  /** A set-signed reading: the set's signature, its signed text, and the reading's path to the set's root. */
  set?: { merkleRoot: string; leafCount: number; index: number; proof: ProofStep[]; signature: string; signedText: string };
}

/** What a live-stream subscriber gets to check a set-signed request's readings itself. */
export type SetSummary = Pick<ReadingSet, 'merkleRoot' | 'leafCount' | 'signature'>;

/** What a live-stream subscriber receives after its subscription (the wire format: mvsec-protocol). */
export type StreamMessage = Exclude<AvatarStreamMessage, { type: 'subscribed' }>;

/** A stream message before it is addressed to one avatar. */
export type ThingMessage =
  | { type: 'readings'; thingId: string; readings: Omit<StoredReading, 'leaf'>[]; set?: SetSummary }
  | Omit<Extract<StreamMessage, { type: 'anchored' }>, 'avatarId'>;

export interface Subscriber {
  caller: Caller;
  avatar: Avatar;
  checkedAt: number;
  send(m: StreamMessage): void;
  close(code: number, reason: string): void;
}

/** The contract's reason for a thing that may not produce data (authorization.ts decideAccess step 1). */
export const inactiveReason = (t: Thing) => `thing ${t.thingId} is ${t.status}${t.statusReason ? ` (${t.statusReason})` : ''}`;

/** Inside the policy's transmit window [fromHour, toHour) UTC (the chaincode's rule); no window = always. */
export function inTransmitWindow(w: TransmitWindow | undefined, nowMs: number): boolean {
  if (!w) return true;
  const hour = new Date(nowMs).getUTCHours();
  return w.fromHour <= w.toHour ? hour >= w.fromHour && hour < w.toHour : hour >= w.fromHour || hour < w.toHour;
}
