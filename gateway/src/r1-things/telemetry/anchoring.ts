/**
 * Batching and anchoring (R1, C3): accepted readings wait per (thing, caller) until a batch is
 * cut — `batchMaxReadings`, or `batchMaxWaitMs` after its first reading — then its Merkle root
 * is anchored with AnchorBatch as the caller, where the chaincode decides again. Transient
 * failures are retried for `anchorRetryMs`; a refusal settles the batch REFUSED with the reason.
 */
import { randomUUID } from 'node:crypto';
import { callerKey, type Caller } from '../../auth/principal.js';
import type { LedgerClient } from '../../ledger/client.js';
import { alreadyAnchored } from '../../ledger/data.js';
import { LedgerRefusal } from '../../ledger/errors.js';
import { DEFAULT_RETENTION_DAYS } from '../../retention.js';
import type { BatchIndex } from './batch-index.js';
import { makeBatch, type Batch, type ReadingSet, type StoredReading } from './batches.js';
import type { TelemetryReads } from './ledger-reads.js';
import type { ThingMessage } from './types.js';

interface Pending {
  caller: Caller;
  thingId: string;
  readings: StoredReading[];
  accepted: number[];
  timer?: NodeJS.Timeout;
}

export interface AnchorStats {
  batchesAnchored: number;
  batchesRefused: number;
  anchorTxs: number;
  timeToAnchorMs: number[];
}

export interface AnchoringOptions {
  ledger: LedgerClient;
  reads: TelemetryReads;
  batches: BatchIndex;
  stats: AnchorStats;
  maxReadings: number;
  maxWaitMs: number;
  anchorRetryMs: number;
  now: () => number;
  log: (m: string) => void;
  /** A batch is anchored or refused for good. */
  settled(batch: Batch): void;
  /** Tell the thing's live subscribers. */
  fanout(thingId: string, m: ThingMessage): void;
}

export class Anchoring {
  private readonly pending = new Map<string, Pending>();
  /** Signed sets with readings not yet cut into a batch (thingId NUL root), and how many. */
  private readonly openSets = new Map<string, { set: ReadingSet; open: number }>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: AnchoringOptions) {}

  /** Batches still being filled. */
  get pendingCount(): number {
    return this.pending.size;
  }

  enqueue(caller: Caller, thingId: string, readings: StoredReading[], at: number): void {
    const k = `${thingId}\u0000${callerKey(caller)}`;
    let i = 0;
    while (i < readings.length) {
      let p = this.pending.get(k);
      if (!p) {
        p = { caller, thingId, readings: [], accepted: [] };
        this.pending.set(k, p);
        const pp = p;
        p.timer = setTimeout(() => this.cut(k, pp), this.o.maxWaitMs);
        p.timer.unref();
      }
      const take = Math.min(this.o.maxReadings - p.readings.length, readings.length - i);
      for (let j = 0; j < take; j++) {
        p.readings.push(readings[i + j]);
        p.accepted.push(at);
      }
      i += take;
      if (p.readings.length >= this.o.maxReadings) this.cut(k, p);
    }
  }

  openSet(thingId: string, set: ReadingSet, readings: number): void {
    const k = `${thingId}\u0000${set.merkleRoot}`;
    const o = this.openSets.get(k);
    if (o) o.open += readings;
    else this.openSets.set(k, { set, open: readings });
  }

  /** One of the set's readings is in a batch now (which keeps the set); forgotten here after the last. */
  private closeSetReading(thingId: string, root: string): void {
    const k = `${thingId}\u0000${root}`;
    const o = this.openSets.get(k);
    if (o && --o.open <= 0) this.openSets.delete(k);
  }

  private cut(k: string, p: Pending): void {
    if (this.pending.get(k) !== p) return;
    this.pending.delete(k);
    clearTimeout(p.timer);
    const batch = makeBatch(`tb-${randomUUID()}`, p.thingId, p.readings, (root) => this.openSets.get(`${p.thingId}\u0000${root}`)?.set);
    for (const r of p.readings) if (r.set) this.closeSetReading(p.thingId, r.set.root);
    this.o.batches.add(batch);
    const run = this.anchor(p.caller, batch, p.accepted).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /**
   * How long the thing's policy keeps its readings: the record the readings were accepted under
   * (any age — it is not an access decision), else read now (readings recovered after a restart),
   * else the chaincode's default.
   */
  private async retentionDays(caller: Caller, thingId: string): Promise<number> {
    const known = this.o.reads.currentRetention(thingId);
    if (known !== undefined) return known;
    const t = await this.o.reads.thing(caller, thingId).catch(() => undefined);
    return t?.policy?.retentionDays ?? DEFAULT_RETENTION_DAYS;
  }

  private async anchor(caller: Caller, batch: Batch, accepted: number[]): Promise<void> {
    const { stats, now } = this.o;
    const input = {
      batchId: batch.batchId,
      thingId: batch.thingId,
      merkleRoot: batch.merkleRoot,
      leafCount: batch.readings.length,
      firstReadingAt: batch.firstReadingAt,
      lastReadingAt: batch.lastReadingAt,
    };
    batch.retentionDays = await this.retentionDays(caller, batch.thingId);
    const started = now();
    for (let attempt = 1; ; attempt++) {
      // Stopped while waiting to retry: the readings stay journaled for the next start.
      if (this.closed) return;
      try {
        stats.anchorTxs++;
        const { txId } = await this.o.ledger.data.anchorBatch(caller, input);
        batch.status = 'ANCHORED';
        batch.txId = txId;
        const done = now();
        batch.anchoredAt = new Date(done).toISOString();
        for (const a of accepted) stats.timeToAnchorMs.push(done - a);
        // Bounded: the most recent 100k–200k samples.
        if (stats.timeToAnchorMs.length > 200_000) stats.timeToAnchorMs.splice(0, 100_000);
        stats.batchesAnchored++;
        this.o.batches.settled(batch);
        this.o.settled(batch);
        this.o.fanout(batch.thingId, {
          type: 'anchored',
          thingId: batch.thingId,
          batchId: batch.batchId,
          merkleRoot: batch.merkleRoot,
          txId,
          firstSeq: batch.readings[0].seq,
          lastSeq: batch.readings[batch.readings.length - 1].seq,
        });
        return;
      } catch (e) {
        if (attempt > 1 && alreadyAnchored(e)) {
          // an earlier attempt did commit (its answer was lost)
          batch.status = 'ANCHORED';
          batch.txId = batch.txId ?? 'unknown (committed by an earlier attempt)';
          batch.anchoredAt = new Date(now()).toISOString();
          stats.batchesAnchored++;
          this.o.batches.settled(batch);
          this.o.settled(batch);
          return;
        }
        const refused = e instanceof LedgerRefusal ? e : undefined;
        if (refused || now() - started > this.o.anchorRetryMs) {
          batch.status = 'REFUSED';
          batch.reason = refused ? refused.message : String((e as Error)?.message ?? e);
          stats.batchesRefused++;
          this.o.reads.forget(batch.thingId);
          this.o.batches.settled(batch); // its readings leave memory; its id and reason stay for proofs
          this.o.log(
            `telemetry: batch ${batch.batchId} of ${batch.thingId} (${batch.readings.length} readings) not anchored: ${batch.reason}`,
          );
          this.o.settled(batch);
          return;
        }
        // Peers or orderers unreachable: keep trying (a peer restart takes longer than a few retries).
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5000)));
      }
    }
  }

  /** Cut every pending batch now and wait (up to `waitMs`) until every anchoring has settled. */
  async flush(waitMs: number): Promise<void> {
    for (const [k, p] of [...this.pending]) this.cut(k, p);
    // Bounded: with the network down, what is still open stays in the journal for the next start.
    const until = Date.now() + waitMs;
    while (this.inFlight.size && Date.now() < until)
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())).unref()),
      ]);
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }
}
