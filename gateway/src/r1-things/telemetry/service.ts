/**
 * R1 telemetry (F4, C2, C3): signed readings in, replay refused, batches anchored, proofs out,
 * live delivery to the thing's avatars as its policy allows.
 *
 * Every ledger call is made as the caller's own Fabric identity: the thing record (GetThing, cached
 * `cacheTtlMs`), the caller's write right on the thing (CheckAccess, cached likewise), and the
 * anchoring itself (AnchorBatch, where the chaincode decides again — a thing suspended meanwhile
 * makes the anchoring refused, which drops the cached record).
 */
import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { callerKey, type Caller } from '../../auth/principal.js';
import type { Ledger } from '../../ledger/ledger.js';
import { ApiError, deniedByLedger, fromChaincode, parseChaincodeReason } from '../../http/problem.js';
import { LineSealer } from '../../crypto/sealed-line.js';
import { DEFAULT_RETENTION_DAYS, expiresAt } from '../../retention.js';
import { BatchIndex } from './batch-index.js';
import { makeBatch, proofOf, setProofOf, type Batch, type ReadingSet, type StoredReading } from './batches.js';
import { readingSetText, readingText, type JsonValue } from 'mvsec-protocol';
import type { ProofStep } from 'mvsec-protocol';
import { AcceptedJournal, type JournalEntry } from './journal.js';
import { SeqStore } from './seq-store.js';
import { KeyFormatError, parsePublicKey } from './signature.js';
import { VerifyPool } from './verify-pool.js';

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

export interface ThingRecord {
  thingId: string;
  status: string;
  statusReason?: string;
  accessMode: 'AUTONOMOUS' | 'GATEWAY';
  gatewayId?: string;
  publicKey: string;
  policy?: { allowedMetaverses?: string[]; transmitWindow?: { fromHour: number; toHour: number }; retentionDays?: number };
}

export interface AvatarRecord {
  avatarId: string;
  thingId: string;
  metaverseId: string;
  status: string;
}

/** Bytes of kept batches one retention pass may copy (rewrites block the event loop while they copy). */
const RETENTION_COPY_BUDGET = 64 * 1024 * 1024;

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

/** What a live-stream subscriber receives. */
export type StreamMessage =
  | { type: 'readings'; avatarId: string; thingId: string; readings: Omit<StoredReading, 'leaf'>[]; set?: SetSummary }
  | {
      type: 'anchored';
      avatarId: string;
      thingId: string;
      batchId: string;
      merkleRoot: string;
      txId: string;
      firstSeq: number;
      lastSeq: number;
    }
  | { type: 'closed'; avatarId: string; reason: string };

export interface Subscriber {
  caller: Caller;
  avatar: AvatarRecord;
  checkedAt: number;
  send(m: StreamMessage): void;
  close(code: number, reason: string): void;
}

interface Pending {
  caller: Caller;
  thingId: string;
  readings: StoredReading[];
  accepted: number[];
  timer?: NodeJS.Timeout;
}

/** A journal entry and how much of it is still open: readings not settled, listeners not finished. */
interface EntryState {
  entry: JournalEntry;
  open: number;
}

interface Cached<T> {
  at: number;
  value: T;
}

const ledgerError = (e: unknown): ApiError => {
  if (e instanceof ApiError) return e;
  const coded = parseChaincodeReason(String((e as Error)?.message ?? ''));
  if (coded) return fromChaincode(coded.code, coded.reason);
  return new ApiError(503, `the ledger did not answer: ${(e as Error)?.message ?? String(e)}`, 'ledger-unavailable');
};

/** The contract's reason for a thing that may not produce data (authorization.ts decideAccess step 1). */
export const inactiveReason = (t: ThingRecord) => `thing ${t.thingId} is ${t.status}${t.statusReason ? ` (${t.statusReason})` : ''}`;

/** Inside the policy's transmit window [fromHour, toHour) UTC (the chaincode's rule); no window = always. */
export function inTransmitWindow(w: { fromHour: number; toHour: number } | undefined, nowMs: number): boolean {
  if (!w) return true;
  const hour = new Date(nowMs).getUTCHours();
  return w.fromHour <= w.toHour ? hour >= w.fromHour && hour < w.toHour : hour >= w.fromHour || hour < w.toHour;
}

export class TelemetryService {
  readonly seqs: SeqStore;
  readonly batches: BatchIndex;
  private readonly journal: AcceptedJournal;
  /** Open work on journaled entries — readings not settled (anchored or refused), listeners not finished; the journal is emptied at 0. */
  private unsettled = 0;
  /** Journal entries with readings not settled yet (what a compaction keeps), found from their readings. */
  private readonly openEntries = new Set<EntryState>();
  private readonly entryOf = new WeakMap<StoredReading, EntryState>();
  /** Entries journaled before this start: told to each listener that registers. */
  private readonly recovered: EntryState[] = [];
  private closed = false;
  private compacting = false;
  private readonly retention: NodeJS.Timeout;
  private readonly anchorRetryMs: number;
  private readonly ledger: Ledger;
  private readonly maxReadings: number;
  private readonly maxWaitMs: number;
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly log: (m: string) => void;
  private readonly things = new Map<string, Cached<ThingRecord>>();
  private readonly keys = new Map<string, { text: string; key: KeyObject }>();
  private readonly access = new Map<string, Cached<{ allowed: boolean; reason: string }>>();
  private readonly pending = new Map<string, Pending>();
  /** Signed sets with readings not yet cut into a batch (thingId NUL root), and how many. */
  private readonly openSets = new Map<string, { set: ReadingSet; open: number }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly fanoutChain = new Map<string, Promise<void>>();
  private readonly listeners = new Set<ReadingsListener>();
  private readonly verifyThreads?: number;
  private pool?: VerifyPool;
  /** Counters for metrics and the benchmark. */
  readonly stats = { accepted: 0, refused: 0, batchesAnchored: 0, batchesRefused: 0, anchorTxs: 0, timeToAnchorMs: [] as number[] };

  constructor(o: TelemetryOptions) {
    this.ledger = o.ledger;
    this.maxReadings = o.batchMaxReadings ?? 1000;
    this.maxWaitMs = o.batchMaxWaitMs ?? 1000;
    this.ttl = o.cacheTtlMs ?? 2000;
    this.now = o.now ?? Date.now;
    this.verifyThreads = o.verifyThreads;
    this.log = o.log ?? ((m) => console.error(m));
    this.seqs = new SeqStore(o.dir);
    const lines = o.sealKey ? new LineSealer(o.sealKey, 'mvsec telemetry readings') : undefined;
    this.batches = new BatchIndex(o.dir, {
      ...(lines ? { lines } : {}),
      ...(o.batchSegmentBytes ? { segmentBytes: o.batchSegmentBytes } : {}),
    });
    this.journal = new AcceptedJournal(o.dir, o.journalCompactBytes, lines);
    this.anchorRetryMs = o.anchorRetryMs ?? 10 * 60_000;
    this.recover();
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
      const r = this.batches.prune(this.now(), RETENTION_COPY_BUDGET, (id) => this.currentRetention(id));
      if (r.batches)
        this.log(
          `telemetry: retention removed ${r.batches} anchored batches of ${r.things} things (their Merkle roots stay on the ledger)`,
        );
      if (r.more) setTimeout(() => this.applyRetention(), 1000).unref();
    } catch (e) {
      this.log(`telemetry: retention pass failed, tried again in the next one: ${(e as Error).message}`);
    }
  }

  /**
   * Readings acknowledged before a restart but not in an anchored batch are anchored again; every
   * journaled entry is told again to the listeners that register (their work may not have finished).
   */
  private recover(): void {
    const entries = this.journal.load();
    if (this.journal.unreadable)
      this.log(
        `telemetry: ${this.journal.unreadable} journal lines could not be read (sealed under another storage key, or damaged) and are not re-anchored; the journal as found is kept in ${this.journal.unreadableCopy}`,
      );
    const open: StoredReading[][] = [];
    for (const e of entries) {
      // The journal is the replay marks' log too (seq.json is written only before the journal is emptied).
      const last = e.readings[e.readings.length - 1].seq;
      if (last > this.seqs.get(e.thingId)) this.seqs.advance(e.thingId, last);
      open.push(e.readings.filter((r) => this.batches.find(e.thingId, r.seq)?.batch.status !== 'ANCHORED'));
    }
    this.seqs.flushSync(); // before the journal drops the settled entries that carried marks
    this.journal.startWith(entries); // whole entries: a set's leaves are recomputed from all its readings
    entries.forEach((e, i) => {
      const readings = open[i];
      this.recovered.push(this.track(e, readings));
      if (!readings.length) return;
      if (e.set) this.openSet(e.thingId, e.set, readings.length);
      this.enqueue(e.caller, e.thingId, readings, e.at);
    });
    if (this.unsettled)
      this.log(`telemetry: ${this.unsettled} acknowledged readings were not anchored before the last stop; anchoring them now`);
  }

  static inStateDir(stateDir: string | undefined, o: Omit<TelemetryOptions, 'dir'>): TelemetryService {
    return new TelemetryService({ ...o, ...(stateDir ? { dir: join(stateDir, 'telemetry') } : {}) });
  }

  // ---------------------------------------------------------------- ledger reads (cached)

  async thing(caller: Caller, thingId: string, fresh = false): Promise<ThingRecord> {
    const c = this.things.get(thingId);
    if (!fresh && c && this.now() - c.at < this.ttl) return c.value;
    let t: ThingRecord;
    try {
      t = (await this.ledger.evaluate(caller, 'thing:GetThing', [thingId])) as ThingRecord;
    } catch (e) {
      throw ledgerError(e);
    }
    this.things.set(thingId, { at: this.now(), value: t });
    return t;
  }

  private async mayWrite(caller: Caller, thingId: string): Promise<{ allowed: boolean; reason: string }> {
    const k = `${callerKey(caller)}\u0000${thingId}`;
    const c = this.access.get(k);
    if (c && this.now() - c.at < this.ttl) return c.value;
    let d: { allowed?: boolean; reason?: string };
    try {
      d = (await this.ledger.evaluate(caller, 'access:CheckAccess', ['THING', thingId, 'write', '*'])) as typeof d;
    } catch (e) {
      throw ledgerError(e);
    }
    const value = { allowed: d?.allowed === true, reason: d?.reason ?? 'access denied' };
    this.access.set(k, { at: this.now(), value });
    return value;
  }

  /** The key that signs the thing's readings: its own (AUTONOMOUS) or its IoT gateway's (GATEWAY). */
  private async signerKey(caller: Caller, thing: ThingRecord, fresh: boolean): Promise<{ key: KeyObject; signer: string }> {
    let signer = thing;
    if (thing.accessMode === 'GATEWAY') {
      if (!thing.gatewayId) throw new ApiError(422, `thing ${thing.thingId} is in GATEWAY mode without a gatewayId`, 'no-signing-key');
      signer = await this.thing(caller, thing.gatewayId, fresh);
      if (signer.status !== 'ACTIVE') throw deniedByLedger(inactiveReason(signer));
    }
    const cached = this.keys.get(signer.thingId);
    if (cached && cached.text === signer.publicKey) return { key: cached.key, signer: signer.thingId };
    try {
      const key = parsePublicKey(signer.publicKey);
      this.keys.set(signer.thingId, { text: signer.publicKey, key });
      return { key, signer: signer.thingId };
    } catch (e) {
      if (e instanceof KeyFormatError)
        throw new ApiError(422, `the ledger's publicKey of ${signer.thingId} cannot verify readings: ${e.message}`, 'no-signing-key');
      throw e;
    }
  }

  /**
   * Be told of accepted readings (synchronously, after acceptance; a listener's failure is logged),
   * and at once of the readings journaled before the last stop. Returns the unsubscribe.
   */
  onAccepted(listener: ReadingsListener): () => void {
    this.listeners.add(listener);
    // What was journaled but maybe not told before the last stop (telling again must be harmless).
    for (const state of this.recovered) this.tellOne(listener, state);
    return () => this.listeners.delete(listener);
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
    const mixed =
      setSignature === undefined
        ? readings.findIndex((r) => r.signature === undefined)
        : readings.findIndex((r) => r.signature !== undefined);
    if (mixed >= 0)
      throw new ApiError(400, 'sign every reading (signature) or the whole set (setSignature), not both and not neither', 'validation', {
        errors: [
          {
            path: `body.readings.${mixed}.signature`,
            message: setSignature === undefined ? 'missing: the request has no setSignature' : 'not allowed with setSignature',
          },
        ],
      });
    let thing = await this.thing(caller, thingId);
    if (thing.status !== 'ACTIVE') thing = await this.thing(caller, thingId, true);
    if (thing.status !== 'ACTIVE') throw deniedByLedger(inactiveReason(thing));
    const access = await this.mayWrite(caller, thingId);
    if (!access.allowed) throw deniedByLedger(access.reason);

    // Replay rule, before spending CPU on signatures: strictly increasing within the request and above the high-water mark.
    this.checkSeqs(thingId, readings);

    // The signed texts; the pool hashes them (Merkle leaves) and verifies the signature(s).
    const texts = readings.map((r) => readingText({ thingId, seq: r.seq, time: r.time, sensor: r.sensor, value: r.value }));
    this.pool ??= new VerifyPool(this.verifyThreads);
    const pool = this.pool;
    const check = async (key: KeyObject) => {
      if (setSignature === undefined)
        return pool.verify(
          key,
          texts,
          readings.map((r) => r.signature!),
        );
      const v = await pool.verifySet(key, thingId, texts, setSignature);
      return { ok: [v.ok], leaves: v.leaves, root: v.root };
    };
    let { key, signer } = await this.signerKey(caller, thing, false);
    let verdict = await check(key);
    if (verdict.ok.includes(false)) {
      // Refresh on miss: the key may have been rotated on the ledger since it was cached.
      thing = await this.thing(caller, thingId, true);
      if (thing.status !== 'ACTIVE') throw deniedByLedger(inactiveReason(thing));
      const again = await this.signerKey(caller, thing, true);
      if (again.key !== key) {
        ({ key, signer } = again);
        verdict = await check(key);
      }
    }
    const { ok: results, leaves } = verdict;
    if (setSignature !== undefined && !results[0])
      throw new ApiError(
        422,
        `the set signature does not verify with the key of ${signer} (ECDSA P-256/SHA-256 over the set of ${readings.length} readings: their Merkle root); nothing was accepted`,
        'invalid-signature',
        { errors: [{ path: 'body.setSignature', message: 'does not verify over these readings' }] },
      );
    const bad = setSignature === undefined ? readings.filter((_, i) => !results[i]) : [];
    if (bad.length)
      throw new ApiError(
        422,
        `${bad.length} of ${readings.length} readings have a signature that does not verify with the key of ${signer} (ECDSA P-256/SHA-256 over the canonical reading); nothing was accepted`,
        'invalid-signature',
        {
          errors: readings.flatMap((r, i) =>
            results[i] ? [] : [{ path: `body.readings.${i}.signature`, message: `seq ${r.seq}: signature does not verify` }],
          ),
        },
      );

    // Verification awaited: another request may have advanced the mark meanwhile.
    this.checkSeqs(thingId, readings);
    const at = this.now();
    const root = 'root' in verdict ? verdict.root : undefined;
    const set: ReadingSet | undefined =
      setSignature !== undefined && root ? { merkleRoot: root, leafCount: readings.length, signature: setSignature, leaves } : undefined;
    const stored: StoredReading[] = readings.map((r, i) => ({
      seq: r.seq,
      time: r.time,
      sensor: r.sensor,
      value: r.value,
      ...(set ? { set: { root: set.merkleRoot, index: i } } : { signature: r.signature }),
      leaf: leaves[i],
    }));
    this.seqs.advance(thingId, readings[readings.length - 1].seq);
    const entry: JournalEntry = { caller, thingId, at, readings: stored, ...(set ? { set } : {}) };
    this.journal.append(entry);
    const state = this.track(entry, stored);
    if (set) this.openSet(thingId, set, stored.length);
    this.enqueue(caller, thingId, stored, at);
    this.stats.accepted += readings.length;
    if (this.subscribers.get(thingId)?.size)
      this.fanout(thingId, {
        type: 'readings',
        thingId,
        readings: stored.map(({ leaf: _l, ...r }) => r),
        ...(set ? { set: { merkleRoot: set.merkleRoot, leafCount: set.leafCount, signature: set.signature } } : {}),
      });
    this.tell(state);
    // Durable before the 202: the readings (anchored again after a crash) and with them the replay
    // marks — one fsync shared by concurrent requests; without a journal (no state dir) the seq store itself.
    await (this.journal.durable ? this.journal.flush() : this.seqs.flush());
    return { thingId, accepted: readings.length, firstSeq: readings[0].seq, lastSeq: readings[readings.length - 1].seq, signer };
  }

  private checkSeqs(thingId: string, readings: IncomingReading[]): void {
    const high = this.seqs.get(thingId);
    const errors: { path: string; message: string }[] = [];
    let prev = high;
    readings.forEach((r, i) => {
      if (r.seq <= prev)
        errors.push({
          path: `body.readings.${i}.seq`,
          message:
            r.seq <= high
              ? `seq ${r.seq} is not above ${high}, the highest seq already accepted for ${thingId} (replay)`
              : `seq ${r.seq} does not increase (previous ${prev})`,
        });
      prev = Math.max(prev, r.seq);
    });
    if (errors.length)
      throw new ApiError(
        409,
        `replay refused: ${errors[0].message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}; nothing was accepted`,
        'replay',
        {
          errors,
          code: 'CONFLICT',
          members: { highestSeq: high },
        },
      );
  }

  // ---------------------------------------------------------------- batching and anchoring

  private enqueue(caller: Caller, thingId: string, readings: StoredReading[], at: number): void {
    const k = `${thingId}\u0000${callerKey(caller)}`;
    let i = 0;
    while (i < readings.length) {
      let p = this.pending.get(k);
      if (!p) {
        p = { caller, thingId, readings: [], accepted: [] };
        this.pending.set(k, p);
        const pp = p;
        p.timer = setTimeout(() => this.cut(k, pp), this.maxWaitMs);
        p.timer.unref();
      }
      const take = Math.min(this.maxReadings - p.readings.length, readings.length - i);
      for (let j = 0; j < take; j++) {
        p.readings.push(readings[i + j]);
        p.accepted.push(at);
      }
      i += take;
      if (p.readings.length >= this.maxReadings) this.cut(k, p);
    }
  }

  private openSet(thingId: string, set: ReadingSet, readings: number): void {
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
    this.batches.add(batch);
    const run = this.anchor(p.caller, batch, p.accepted).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** The thing's retentionDays by the latest record this gateway has seen (any age), if any. */
  private currentRetention(thingId: string): number | undefined {
    return this.things.get(thingId)?.value.policy?.retentionDays;
  }

  /**
   * How long the thing's policy keeps its readings: the record the readings were accepted under
   * (any age — it is not an access decision), else read now (readings recovered after a restart),
   * else the chaincode's default.
   */
  private async retentionDays(caller: Caller, thingId: string): Promise<number> {
    const known = this.currentRetention(thingId);
    if (known !== undefined) return known;
    const t = await this.thing(caller, thingId).catch(() => undefined);
    return t?.policy?.retentionDays ?? DEFAULT_RETENTION_DAYS;
  }

  private async anchor(caller: Caller, batch: Batch, accepted: number[]): Promise<void> {
    const input = {
      batchId: batch.batchId,
      thingId: batch.thingId,
      merkleRoot: batch.merkleRoot,
      leafCount: batch.readings.length,
      firstReadingAt: batch.firstReadingAt,
      lastReadingAt: batch.lastReadingAt,
    };
    batch.retentionDays = await this.retentionDays(caller, batch.thingId);
    const started = this.now();
    for (let attempt = 1; ; attempt++) {
      // Stopped while waiting to retry: the readings stay journaled for the next start.
      if (this.closed) return;
      try {
        this.stats.anchorTxs++;
        const { txId } = await this.ledger.submit(caller, 'data:AnchorBatch', [JSON.stringify(input)]);
        batch.status = 'ANCHORED';
        batch.txId = txId;
        const done = this.now();
        batch.anchoredAt = new Date(done).toISOString();
        for (const a of accepted) this.stats.timeToAnchorMs.push(done - a);
        // Bounded: the most recent 100k–200k samples.
        if (this.stats.timeToAnchorMs.length > 200_000) this.stats.timeToAnchorMs.splice(0, 100_000);
        this.stats.batchesAnchored++;
        this.batches.settled(batch);
        this.settled(batch);
        this.fanout(batch.thingId, {
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
        const coded = parseChaincodeReason(String((e as Error)?.message ?? ''));
        if (coded?.code === 'CONFLICT' && attempt > 1 && /already exists/.test(coded.reason)) {
          // an earlier attempt did commit (its answer was lost)
          batch.status = 'ANCHORED';
          batch.txId = batch.txId ?? 'unknown (committed by an earlier attempt)';
          batch.anchoredAt = new Date(this.now()).toISOString();
          this.stats.batchesAnchored++;
          this.batches.settled(batch);
          this.settled(batch);
          return;
        }
        if (coded || this.now() - started > this.anchorRetryMs) {
          batch.status = 'REFUSED';
          batch.reason = coded ? `${coded.code}: ${coded.reason}` : String((e as Error)?.message ?? e);
          this.stats.batchesRefused++;
          this.things.delete(batch.thingId);
          this.batches.settled(batch); // its readings leave memory; its id and reason stay for proofs
          this.log(
            `telemetry: batch ${batch.batchId} of ${batch.thingId} (${batch.readings.length} readings) not anchored: ${batch.reason}`,
          );
          this.settled(batch);
          return;
        }
        // Peers or orderers unreachable: keep trying (a peer restart takes longer than a few retries).
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5000)));
      }
    }
  }

  /** Journaled readings awaiting their batch's outcome. */
  private track(entry: JournalEntry, readings: StoredReading[]): EntryState {
    this.unsettled += readings.length;
    const state = { entry, open: readings.length };
    if (state.open) this.openEntries.add(state);
    for (const r of readings) this.entryOf.set(r, state);
    return state;
  }

  /** Tell the listeners of an entry's readings. */
  private tell(state: EntryState): void {
    for (const l of this.listeners) this.tellOne(l, state);
  }

  /** The entry stays journaled until the listener's work resolves. */
  private tellOne(l: ReadingsListener, state: EntryState): void {
    const { thingId, readings } = state.entry;
    let work: void | Promise<void>;
    try {
      work = l(
        thingId,
        readings.map(({ seq, time, sensor, value }) => ({ seq, time, sensor, value })),
      );
    } catch (e) {
      this.log(`telemetry: a readings listener failed: ${(e as Error).message}`);
      return;
    }
    if (!work) return;
    if (state.open++ === 0) this.openEntries.add(state);
    this.unsettled++;
    work.then(
      () => this.release([state]),
      (e: unknown) => this.log(`telemetry: a readings listener did not finish (kept for the next start): ${(e as Error)?.message}`),
    );
  }

  /** A batch is anchored or refused for good. */
  private settled(batch: Batch): void {
    this.release(batch.readings.map((r) => this.entryOf.get(r)));
  }

  /**
   * One unit of work done per state (a reading settled, a listener finished); once nothing
   * journaled is open, the journal starts empty — and while a stream never lets that happen, it
   * is compacted to its open entries.
   */
  private release(states: (EntryState | undefined)[]): void {
    this.unsettled -= states.length;
    for (const state of states) if (state && --state.open <= 0) this.openEntries.delete(state);
    if (this.unsettled > 0 && this.journal.oversized && !this.compacting) {
      this.compacting = true;
      void Promise.all([this.seqs.flush(), this.batches.sync()])
        .then(() => this.journal.compact(() => [...this.openEntries].map((s) => s.entry)))
        .catch((e: unknown) => this.log(`telemetry: compacting the journal failed: ${(e as Error).message}`))
        .finally(() => (this.compacting = false));
    }
    if (this.unsettled <= 0 && this.pending.size === 0) {
      this.unsettled = 0;
      // The marks go to seq.json and the anchored batches to disk first: the journal entries about to be dropped were their only durable copy.
      void Promise.all([this.seqs.flush(), this.batches.sync()])
        .then(() => (this.unsettled === 0 && this.pending.size === 0 ? this.journal.reset() : undefined))
        .catch((e: unknown) => this.log(`telemetry: emptying the journal failed: ${(e as Error).message}`));
    }
  }

  /** Cut every pending batch now and wait (up to `waitMs`) until every anchoring has settled. */
  async flush(waitMs = 30_000): Promise<void> {
    for (const [k, p] of [...this.pending]) this.cut(k, p);
    // Bounded: with the network down, what is still open stays in the journal for the next start.
    const until = Date.now() + waitMs;
    while (this.inFlight.size && Date.now() < until)
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())).unref()),
      ]);
  }

  // ---------------------------------------------------------------- proofs

  async proof(caller: Caller, thingId: string, seq: number): Promise<ProofAnswer> {
    const d = await this.ledgerCheck(caller, 'THING', thingId, 'read');
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
              expiresAt(Date.parse(batch.anchoredAt), this.currentRetention(thingId) ?? batch.retentionDays ?? DEFAULT_RETENTION_DAYS),
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

  private async ledgerCheck(
    caller: Caller,
    type: 'THING' | 'AVATAR',
    id: string,
    action: string,
  ): Promise<{ allowed: boolean; reason: string }> {
    try {
      const d = (await this.ledger.evaluate(caller, 'access:CheckAccess', [type, id, action, '*'])) as {
        allowed?: boolean;
        reason?: string;
      };
      return { allowed: d?.allowed === true, reason: d?.reason ?? 'access denied' };
    } catch (e) {
      throw ledgerError(e);
    }
  }

  // ---------------------------------------------------------------- live stream

  /**
   * Admit a subscriber of `avatarId`: the avatar exists, the caller may read it (CheckAccess on the
   * avatar: its controllers, agents or a read grant), and the thing's policy lists its metaverse.
   */
  async admit(caller: Caller, avatarId: string): Promise<AvatarRecord> {
    let avatar: AvatarRecord;
    try {
      avatar = (await this.ledger.evaluate(caller, 'avatar:GetAvatar', [avatarId])) as AvatarRecord;
    } catch (e) {
      throw ledgerError(e);
    }
    const d = await this.ledgerCheck(caller, 'AVATAR', avatarId, 'read');
    if (!d.allowed) throw deniedByLedger(d.reason);
    const thing = await this.thing(caller, avatar.thingId, true);
    const why = this.streamRefusal(thing, avatar);
    if (why) throw deniedByLedger(why);
    return avatar;
  }

  /** A subscriber admitted just now (its avatar record and read right are as of this service's clock). */
  subscribe(admitted: Omit<Subscriber, 'checkedAt'>): () => void {
    const s: Subscriber = { ...admitted, checkedAt: this.now() };
    let set = this.subscribers.get(s.avatar.thingId);
    if (!set) this.subscribers.set(s.avatar.thingId, (set = new Set()));
    set.add(s);
    return () => {
      set.delete(s);
      if (!set.size && this.subscribers.get(s.avatar.thingId) === set) this.subscribers.delete(s.avatar.thingId);
    };
  }

  /** Why the avatar may receive nothing more (a final refusal), or undefined. */
  private streamRefusal(thing: ThingRecord, avatar: AvatarRecord): string | undefined {
    if (thing.status === 'REVOKED') return inactiveReason(thing);
    if (avatar.status !== 'ACTIVE' && avatar.status !== 'SUSPENDED') return `avatar ${avatar.avatarId} is ${avatar.status}`;
    if (!(thing.policy?.allowedMetaverses ?? []).includes(avatar.metaverseId))
      return `thing ${thing.thingId}'s policy does not allow metaverse ${avatar.metaverseId}`;
    return undefined;
  }

  private fanout(
    thingId: string,
    m:
      | { type: 'readings'; thingId: string; readings: Omit<StoredReading, 'leaf'>[]; set?: SetSummary }
      | Omit<Extract<StreamMessage, { type: 'anchored' }>, 'avatarId'>,
  ): void {
    if (!this.subscribers.get(thingId)?.size) return;
    const prev = this.fanoutChain.get(thingId) ?? Promise.resolve();
    const next = prev
      .then(() => this.deliver(thingId, m))
      .catch((e) => this.log(`telemetry: stream delivery for ${thingId} failed: ${(e as Error).message}`));
    this.fanoutChain.set(thingId, next);
    void next.finally(() => {
      if (this.fanoutChain.get(thingId) === next) this.fanoutChain.delete(thingId);
    });
  }

  private async deliver(thingId: string, m: Parameters<TelemetryService['fanout']>[1]): Promise<void> {
    const subs = [...(this.subscribers.get(thingId) ?? [])];
    if (!subs.length) return;
    const thing = await this.thing(subs[0].caller, thingId);
    const now = this.now();
    for (const s of subs) {
      let revoked: string | undefined;
      if (now - s.checkedAt >= this.ttl) {
        try {
          s.avatar = (await this.ledger.evaluate(s.caller, 'avatar:GetAvatar', [s.avatar.avatarId])) as AvatarRecord;
          s.checkedAt = now;
          // The subscriber's own read right, as at admission (a revoked or expired grant ends the
          // stream); asked only while thing and avatar are ACTIVE, whose suspension pauses it instead.
          if (thing.status === 'ACTIVE' && s.avatar.status === 'ACTIVE') {
            const d = await this.ledgerCheck(s.caller, 'AVATAR', s.avatar.avatarId, 'read');
            if (!d.allowed) revoked = `read access to avatar ${s.avatar.avatarId} ended: ${d.reason}`;
          }
        } catch (e) {
          const coded = parseChaincodeReason(String((e as Error)?.message ?? ''));
          if (coded?.code === 'NOT_FOUND') s.avatar = { ...s.avatar, status: 'UNMAPPED' };
        }
      }
      const final = revoked ?? this.streamRefusal(thing, s.avatar);
      if (final) {
        s.send({ type: 'closed', avatarId: s.avatar.avatarId, reason: final });
        s.close(4403, final.slice(0, 120));
        this.subscribers.get(thingId)?.delete(s);
        continue;
      }
      // Suspended thing or avatar, or outside the transmit window: nothing now, maybe later.
      if (thing.status !== 'ACTIVE' || s.avatar.status !== 'ACTIVE' || !inTransmitWindow(thing.policy?.transmitWindow, now)) continue;
      s.send({ ...m, avatarId: s.avatar.avatarId } as StreamMessage);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.retention);
    void this.journal.close();
    this.batches.close();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    void this.pool?.close();
    this.pool = undefined;
    for (const set of this.subscribers.values()) for (const s of set) s.close(1001, 'gateway shutting down');
    this.subscribers.clear();
  }
}
