/**
 * Reading batches and their proofs. Accepted readings of one thing, submitted by one caller, are
 * cut into a batch when it holds `maxReadings` or when its oldest reading has waited `maxWaitMs`;
 * the batch's Merkle root is anchored with one `data:AnchorBatch` transaction as that caller.
 * Anchored batches are kept on disk (batch-index.ts), so proofs survive a restart.
 */
import type { JsonValue } from 'mvsec-protocol';
import { merkleLevels, merkleProof, rootOfLevels, type ProofStep } from 'mvsec-protocol';

export interface StoredReading {
  seq: number;
  time: string;
  sensor: string;
  value: JsonValue;
  /** Its own signature, or… */
  signature?: string;
  /** …its place in a signed set (the set's Merkle root identifies it). */
  set?: { root: string; index: number };
  leaf: string;
}

/** One signature over several readings of a thing (canonical.ts `readingSetText`). */
export interface ReadingSet {
  merkleRoot: string;
  leafCount: number;
  signature: string;
  /** The readings' leaves in the signed order: a reading's path to the signed root is computed from them. */
  leaves: string[];
}

export type BatchStatus = 'PENDING' | 'ANCHORED' | 'REFUSED';

export interface Batch {
  batchId: string;
  thingId: string;
  readings: StoredReading[];
  merkleRoot: string;
  firstReadingAt: string;
  lastReadingAt: string;
  status: BatchStatus;
  txId?: string;
  reason?: string;
  /** The signed sets its readings belong to, by Merkle root (a set cut across two batches is in both). */
  sets?: Record<string, ReadingSet>;
  /** When it was anchored (the gateway's clock) and how many days its thing's policy keeps it from then (batch-log.ts). */
  anchoredAt?: string;
  retentionDays?: number;
  levels?: Buffer[][];
}

export function makeBatch(
  batchId: string,
  thingId: string,
  readings: StoredReading[],
  setOf: (root: string) => ReadingSet | undefined = () => undefined,
): Batch {
  const levels = merkleLevels(readings.map((r) => r.leaf));
  let first = Infinity;
  let last = -Infinity;
  for (const r of readings) {
    const t = Date.parse(r.time);
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const sets: Record<string, ReadingSet> = {};
  for (const r of readings) {
    if (!r.set || sets[r.set.root]) continue;
    const set = setOf(r.set.root);
    if (!set) throw new Error(`reading ${r.seq} of ${thingId} names an unknown signed set ${r.set.root}`);
    sets[r.set.root] = set;
  }
  return {
    batchId,
    thingId,
    readings,
    ...(Object.keys(sets).length ? { sets } : {}),
    merkleRoot: rootOfLevels(levels),
    firstReadingAt: new Date(first).toISOString(),
    lastReadingAt: new Date(last).toISOString(),
    status: 'PENDING',
    levels,
  };
}

export function proofOf(batch: Batch, index: number): ProofStep[] {
  batch.levels ??= merkleLevels(batch.readings.map((r) => r.leaf));
  return merkleProof(batch.levels, index);
}

/** A set-signed reading's path from its leaf to the root its set's signature covers. */
export function setProofOf(set: ReadingSet, index: number): ProofStep[] {
  return merkleProof(merkleLevels(set.leaves), index);
}
