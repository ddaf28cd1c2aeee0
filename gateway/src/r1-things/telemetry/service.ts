/**
 * R1 telemetry (F4, C2, C3): signed readings in, replay refused, batches anchored, proofs out,
 * live delivery to the thing's avatars as its policy allows. The service composes its parts:
 * ingest.ts (verify), anchoring.ts (batching and anchoring), recovery.ts (journal and recovery),
 * streaming.ts (live subscribers), ledger-reads.ts (cached ledger reads).
 *
 * Every ledger call is made as the caller's own Fabric identity: the thing record (GetThing, cached
 * `cacheTtlMs`), the caller's write right on the thing (CheckAccess, cached likewise), and the
 * anchoring itself (AnchorBatch, where the chaincode decides again — a thing suspended meanwhile
 * makes the anchoring refused, which drops the cached record).
 */
import { join } from 'node:path';
import type { Avatar, Thing } from 'mvsec-protocol';
import { readingSetText } from 'mvsec-protocol';
import type { Caller } from '../../auth/principal.js';
import { LineSealer } from '../../crypto/sealed-line.js';
import { deniedByLedger } from '../../http/ledger-errors.js';
import { ApiError } from '../../http/problem.js';
import { LedgerClient } from '../../ledger/client.js';
import { DEFAULT_RETENTION_DAYS, expiresAt } from '../../retention.js';
import { Anchoring } from './anchoring.js';
import { BatchIndex } from './batch-index.js';
import { proofOf, setProofOf } from './batches.js';
import { ReadingsVerifier } from './ingest.js';
import { AcceptedJournal, type JournalEntry } from './journal.js';
import { TelemetryReads } from './ledger-reads.js';
import { AcceptedReadings } from './recovery.js';
import { SeqStore } from './seq-store.js';
import { Streaming } from './streaming.js';
import type { IncomingReading, ProofAnswer, ReadingsListener, Subscriber, TelemetryOptions } from './types.js';

export { inactiveReason, inTransmitWindow } from './types.js';
export type { IncomingReading, ProofAnswer, ReadingsListener, SetSummary, StreamMessage, Subscriber, TelemetryOptions } from './types.js';

/** Bytes of kept batches one retention pass may copy (rewrites block the event loop while they copy). */
const RETENTION_COPY_BUDGET = 64 * 1024 * 1024;

export class TelemetryService {
  readonly seqs: SeqStore;
  readonly batches: BatchIndex;
  private closed = false;
  private readonly retention: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly log: (m: string) => void;
  private readonly reads: TelemetryReads;
  private readonly verifier: ReadingsVerifier;
  private readonly anchoring: Anchoring;
  private readonly accepted: AcceptedReadings;
  private readonly streaming: Streaming;
  /** Counters for metrics and the benchmark. */
  readonly stats = { accepted: 0, refused: 0, batchesAnchored: 0, batchesRefused: 0, anchorTxs: 0, timeToAnchorMs: [] as number[] };

  constructor(o: TelemetryOptions) {
    const ledger = LedgerClient.of(o.ledger);
    this.now = o.now ?? Date.now;
    this.log = o.log ?? ((m) => console.error(m));
    this.reads = new TelemetryReads(ledger, o.cacheTtlMs ?? 2000, this.now);
    this.seqs = new SeqStore(o.dir);
    const lines = o.sealKey ? new LineSealer(o.sealKey, 'mvsec telemetry readings') : undefined;
    this.batches = new BatchIndex(o.dir, {
      ...(lines ? { lines } : {}),
      ...(o.batchSegmentBytes ? { segmentBytes: o.batchSegmentBytes } : {}),
    });
    this.verifier = new ReadingsVerifier(this.reads, this.seqs, o.verifyThreads);
    this.streaming = new Streaming(this.reads, this.now, this.log);
    this.accepted = new AcceptedReadings(
      new AcceptedJournal(o.dir, o.journalCompactBytes, lines),
      this.seqs,
      this.batches,
      () => this.anchoring,
      this.log,
    );
    this.anchoring = new Anchoring({
      ledger,
      reads: this.reads,
      batches: this.batches,
      stats: this.stats,
      maxReadings: o.batchMaxReadings ?? 1000,
      maxWaitMs: o.batchMaxWaitMs ?? 1000,
      anchorRetryMs: o.anchorRetryMs ?? 10 * 60_000,
      now: this.now,
      log: this.log,
      settled: (batch) => this.accepted.settled(batch),
      fanout: (thingId, m) => this.streaming.fanout(thingId, m),
    });
    this.accepted.recover();
    this.applyRetention();
    this.retention = setInterval(() => this.applyRetention(), o.retentionCheckMs ?? 10 * 60_000).unref();
  }

  /**
   * Removes the anchored batches whose thing's retention has passed (their roots stay on the
   * ledger). A pass copies at most 64 MiB of kept batches (a blocking rewrite); what it left is
   * taken up by another pass a second later.
   */
  applyRetention(): void {
    if (this.closed) return;
    try {
      const r = this.batches.prune(this.now(), RETENTION_COPY_BUDGET, (id) => this.reads.currentRetention(id));
      if (r.batches)
        this.log(
          `telemetry: retention removed ${r.batches} anchored batches of ${r.things} things (their Merkle roots stay on the ledger)`,
        );
      if (r.more) setTimeout(() => this.applyRetention(), 1000).unref();
    } catch (e) {
      this.log(`telemetry: retention pass failed, tried again in the next one: ${(e as Error).message}`);
    }
  }

  static inStateDir(stateDir: string | undefined, o: Omit<TelemetryOptions, 'dir'>): TelemetryService {
    return new TelemetryService({ ...o, ...(stateDir ? { dir: join(stateDir, 'telemetry') } : {}) });
  }

  /** The thing's record as the caller reads it (cached `cacheTtlMs` unless `fresh`). */
  thing(caller: Caller, thingId: string, fresh = false): Promise<Thing> {
    return this.reads.thing(caller, thingId, fresh);
  }

  /**
   * Be told of accepted readings (synchronously, after acceptance; a listener's failure is logged),
   * and at once of the readings journaled before the last stop. Returns the unsubscribe.
   */
  onAccepted(listener: ReadingsListener): () => void {
    return this.accepted.onAccepted(listener);
  }

  // ---------------------------------------------------------------- ingest

  /** Verify, refuse replays, accept: all readings of the request or none. */
  async ingest(
    caller: Caller,
    thingId: string,
    readings: IncomingReading[],
    setSignature?: string,
  ): Promise<{ thingId: string; accepted: number; firstSeq: number; lastSeq: number; signer: string }> {
    try {
      return await this.ingestAll(caller, thingId, readings, setSignature);
    } catch (e) {
      this.stats.refused += readings.length;
      throw e;
    }
  }

  private async ingestAll(caller: Caller, thingId: string, readings: IncomingReading[], setSignature?: string) {
    const { stored, set, signer } = await this.verifier.verify(caller, thingId, readings, setSignature);
    const at = this.now();
    this.seqs.advance(thingId, readings[readings.length - 1].seq);
    const entry: JournalEntry = { caller, thingId, at, readings: stored, ...(set ? { set } : {}) };
    const state = this.accepted.accept(entry);
    if (set) this.anchoring.openSet(thingId, set, stored.length);
    this.anchoring.enqueue(caller, thingId, stored, at);
    this.stats.accepted += readings.length;
    if (this.streaming.following(thingId))
      this.streaming.fanout(thingId, {
        type: 'readings',
        thingId,
        readings: stored.map(({ leaf: _l, ...r }) => r),
        ...(set ? { set: { merkleRoot: set.merkleRoot, leafCount: set.leafCount, signature: set.signature } } : {}),
      });
    this.accepted.tell(state);
    // Durable before the 202: the readings (anchored again after a crash) and with them the replay
    // marks — one fsync shared by concurrent requests; without a journal (no state dir) the seq store itself.
    await this.accepted.durable();
    return { thingId, accepted: readings.length, firstSeq: readings[0].seq, lastSeq: readings[readings.length - 1].seq, signer };
  }

  /** Cut every pending batch now and wait (up to `waitMs`) until every anchoring has settled. */
  flush(waitMs = 30_000): Promise<void> {
    return this.anchoring.flush(waitMs);
  }

  // ---------------------------------------------------------------- proofs

  async proof(caller: Caller, thingId: string, seq: number): Promise<ProofAnswer> {
    const d = await this.reads.check(caller, 'THING', thingId, 'read');
    if (!d.allowed) throw deniedByLedger(d.reason);
    const found = this.batches.find(thingId, seq);
    if (!found && this.batches.prunedUpTo(thingId, seq))
      throw new ApiError(
        410,
        `reading ${seq} of thing ${thingId} is no longer kept: its batch passed the thing's retention (policy.retentionDays) and was removed; its Merkle root stays on the ledger`,
        'retention-expired',
        { code: 'EXPIRED' },
      );
    if (!found)
      throw new ApiError(404, `no accepted reading ${seq} of thing ${thingId} on this gateway`, 'not-found', { code: 'NOT_FOUND' });
    const { batch, index } = found;
    if (batch.status === 'PENDING')
      throw new ApiError(
        409,
        `reading ${seq} of ${thingId} is in batch ${batch.batchId}, which is not anchored yet; ask again shortly`,
        'not-anchored-yet',
        {
          headers: { 'Retry-After': '1' },
          members: { batchId: batch.batchId },
        },
      );
    if (batch.status === 'REFUSED')
      throw new ApiError(
        409,
        `batch ${batch.batchId} holding reading ${seq} of ${thingId} was not anchored: ${batch.reason}`,
        'anchor-refused',
        { members: { batchId: batch.batchId } },
      );
    const { leaf, ...reading } = batch.readings[index];
    const set = reading.set && batch.sets?.[reading.set.root];
    return {
      thingId,
      seq,
      batchId: batch.batchId,
      leaf,
      proof: proofOf(batch, index),
      merkleRoot: batch.merkleRoot,
      txId: batch.txId!,
      leafCount: batch.readings.length,
      ...(batch.anchoredAt
        ? {
            anchoredAt: batch.anchoredAt,
            keptUntil: new Date(
              expiresAt(
                Date.parse(batch.anchoredAt),
                this.reads.currentRetention(thingId) ?? batch.retentionDays ?? DEFAULT_RETENTION_DAYS,
              ),
            ).toISOString(),
          }
        : {}),
      reading,
      ...(set && reading.set
        ? {
            set: {
              merkleRoot: set.merkleRoot,
              leafCount: set.leafCount,
              index: reading.set.index,
              proof: setProofOf(set, reading.set.index),
              signature: set.signature,
              signedText: readingSetText(thingId, set.merkleRoot, set.leafCount),
            },
          }
        : {}),
    };
  }

  // ---------------------------------------------------------------- live stream

  /**
   * Admit a subscriber of `avatarId`: the avatar exists, the caller may read it (CheckAccess on the
   * avatar: its controllers, agents or a read grant), and the thing's policy lists its metaverse.
   */
  admit(caller: Caller, avatarId: string): Promise<Avatar> {
    return this.streaming.admit(caller, avatarId);
  }

  /** A subscriber admitted just now (its avatar record and read right are as of this service's clock). */
  subscribe(admitted: Omit<Subscriber, 'checkedAt'>): () => void {
    return this.streaming.subscribe(admitted);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.retention);
    this.anchoring.close();
    void this.accepted.journal.close();
    this.batches.close();
    this.verifier.close();
    this.streaming.close();
  }
}
