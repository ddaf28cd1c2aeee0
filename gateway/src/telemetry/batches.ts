/**
 * Reading batches and their proofs. Accepted readings of one thing, submitted by one caller, are
 * cut into a batch when it holds `maxReadings` or when its oldest reading has waited `maxWaitMs`;
 * the batch's Merkle root is anchored with one `data:AnchorBatch` transaction as that caller.
 * Anchored batches are appended to `<dir>/batches.jsonl` and reloaded at start, so proofs survive
 * a restart.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from './canonical.js';
import { merkleLevels, merkleProof, rootOfLevels, type ProofStep } from './merkle.js';

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
  levels?: Buffer[][];
}

export class BatchIndex {
  private readonly bySeq = new Map<string, Map<number, { batch: Batch; index: number }>>();
  private readonly file?: string;

  constructor(dir?: string) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'batches.jsonl');
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        this.add(JSON.parse(line) as Batch);
      } catch {
        // a torn last line after a crash: that batch's proofs are not served
      }
    }
  }

  /** A new batch (pending) whose readings become findable by seq. */
  add(batch: Batch): void {
    let m = this.bySeq.get(batch.thingId);
    if (!m) this.bySeq.set(batch.thingId, (m = new Map()));
    batch.readings.forEach((r, index) => m.set(r.seq, { batch, index }));
  }

  /** The batch was anchored (or refused): keep it on disk. */
  settled(batch: Batch): void {
    if (this.file && batch.status === 'ANCHORED') {
      const { levels: _levels, ...record } = batch;
      appendFileSync(this.file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    }
  }

  find(thingId: string, seq: number): { batch: Batch; index: number } | undefined {
    return this.bySeq.get(thingId)?.get(seq);
  }
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
