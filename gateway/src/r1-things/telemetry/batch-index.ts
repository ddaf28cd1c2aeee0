/**
 * Where a reading's batch is found (R1 proofs), with memory bounded by the batches, not the
 * readings: pending batches stay in memory; refused ones shrink to their id, reason and seq
 * numbers (the last `refusedKept` of them, for proofs that answer why; also in
 * `batches.refused.jsonl`, so they are still told after a restart); anchored ones go to the
 * batch log on disk (batch-log.ts, sealed at rest) and leave memory, remembered only by a span
 * (thing, batch id, first and last seq, where in which segment). A proof reads its batch's line
 * back (a few recently read batches are cached). `prune` applies the things' retention: expired
 * batches leave the disk and their spans leave memory; the highest seq pruned per thing is kept
 * (`batches.pruned.json`) so that a proof of such a reading answers "gone", not "never seen".
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAIN_LINES, type LineCodec } from '../../crypto/sealed-line.js';
import { writeFileAtomicSync } from '../../durable-file.js';
import { BatchLog, type RetentionOf, type Span } from './batch-log.js';
import type { Batch } from './batches.js';

/** A thing's anchored spans sorted by first seq, with the running maximum of `last` (spans may interleave: one batch per caller). */
interface Spans {
  list: Span[];
  maxLast: number[];
}

const CACHE = 8;

/** A refused batch without its readings: what a proof needs to say why (id, reason), and which seqs it held (sorted). */
interface Refused {
  batch: Batch;
  seqs: Float64Array;
}

export interface BatchIndexOptions {
  /** How batch lines are sealed at rest. */
  lines?: LineCodec;
  /** How many refused batches are remembered (~8 bytes per reading each); older ones are forgotten. */
  refusedKept?: number;
  /** Start a new segment file past this size (default 64 MiB): the unit retention deletes or rewrites. */
  segmentBytes?: number;
}

export class BatchIndex {
  /** Pending batches, by thing and seq. */
  private readonly live = new Map<string, Map<number, { batch: Batch; index: number }>>();
  /** Refused batches by thing, and all of them oldest first (the bound). */
  private readonly refused = new Map<string, Refused[]>();
  private readonly refusedOrder: Refused[] = [];
  private readonly spans = new Map<string, Spans>();
  private readonly cache = new Map<string, Batch>();
  private readonly log?: BatchLog;
  /** Per thing, the highest seq of a batch removed by retention. */
  private readonly pruned = new Map<string, number>();
  private readonly prunedFile?: string;
  private readonly refusedKept: number;
  private readonly refusedFile?: string;
  private refusedLines = 0;

  constructor(dir?: string, o: BatchIndexOptions = {}) {
    this.refusedKept = o.refusedKept ?? 1000;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.prunedFile = join(dir, 'batches.pruned.json');
    try {
      for (const [thing, seq] of Object.entries(JSON.parse(readFileSync(this.prunedFile, 'utf8')) as Record<string, number>))
        this.pruned.set(thing, seq);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.refusedFile = join(dir, 'batches.refused.jsonl');
    this.loadRefused();
    this.log = new BatchLog(dir, o.lines ?? PLAIN_LINES, o.segmentBytes ?? 64 * 1024 * 1024);
    this.log.load((s) => this.remember(s));
  }

  private remember(s: Span): void {
    let t = this.spans.get(s.thingId);
    if (!t) this.spans.set(s.thingId, (t = { list: [], maxLast: [] }));
    // Usually the last; batches of concurrent callers may settle out of order.
    let i = t.list.length;
    while (i > 0 && t.list[i - 1].first > s.first) i--;
    t.list.splice(i, 0, s);
    runningMax(t, i);
  }

  /** A new batch (pending) whose readings become findable by seq. */
  add(batch: Batch): void {
    let m = this.live.get(batch.thingId);
    if (!m) this.live.set(batch.thingId, (m = new Map()));
    batch.readings.forEach((r, index) => m.set(r.seq, { batch, index }));
  }

  /** The batch was anchored (to disk, out of memory) or refused (its readings leave memory, its reason stays). */
  settled(batch: Batch): void {
    if (batch.status === 'REFUSED') return this.refuse(batch);
    if (batch.status !== 'ANCHORED' || !this.log) return;
    this.remember(this.log.append(batch));
    this.forget(batch);
  }

  /**
   * Retention: removes the anchored batches whose `retentionDays` from `anchoredAt` have passed at
   * `now` (a thing's current retention when `daysOf` knows it), from disk and memory, copying at
   * most `copyBudget` bytes of kept batches (BatchLog.prune).
   * Returns how many batches went, of how many things, and whether expired ones are left.
   */
  prune(now: number, copyBudget?: number, daysOf?: RetentionOf): { batches: number; things: number; more: boolean } {
    if (!this.log) return { batches: 0, things: 0, more: false };
    const { removed, more } = this.log.prune(now, copyBudget, daysOf);
    if (!removed.length) return { batches: 0, things: 0, more };
    const byThing = new Map<string, Set<Span>>();
    for (const s of removed) {
      let set = byThing.get(s.thingId);
      if (!set) byThing.set(s.thingId, (set = new Set()));
      set.add(s);
      this.cache.delete(s.batchId);
      this.pruned.set(s.thingId, Math.max(this.pruned.get(s.thingId) ?? -Infinity, s.last));
    }
    for (const [thingId, gone] of byThing) {
      const t = this.spans.get(thingId)!;
      const list = t.list.filter((s) => !gone.has(s));
      if (!list.length) {
        this.spans.delete(thingId);
        continue;
      }
      t.list = list;
      t.maxLast.length = list.length;
      runningMax(t, 0);
    }
    writeFileAtomicSync(this.prunedFile!, JSON.stringify(Object.fromEntries([...this.pruned].sort(([a], [b]) => (a < b ? -1 : 1)))));
    return { batches: removed.length, things: byThing.size, more };
  }

  /** Whether `seq` of the thing may have been in a batch that retention removed (asked when `find` finds nothing). */
  prunedUpTo(thingId: string, seq: number): boolean {
    return seq <= (this.pruned.get(thingId) ?? -Infinity);
  }

  /** Segment files of the batch log (0 without a directory). */
  get segments(): number {
    return this.log?.segmentCount ?? 0;
  }

  private forget(batch: Batch): void {
    const m = this.live.get(batch.thingId);
    if (m) {
      for (const r of batch.readings) if (m.get(r.seq)?.batch === batch) m.delete(r.seq);
      if (!m.size) this.live.delete(batch.thingId);
    }
  }

  private refuse(batch: Batch): void {
    this.forget(batch);
    const { batchId, thingId, merkleRoot, firstReadingAt, lastReadingAt, status, reason } = batch;
    const slim: Batch = {
      batchId,
      thingId,
      merkleRoot,
      firstReadingAt,
      lastReadingAt,
      status,
      readings: [],
      ...(reason ? { reason } : {}),
    };
    const r: Refused = { batch: slim, seqs: Float64Array.from(batch.readings, (x) => x.seq).sort() };
    this.rememberRefused(r);
    if (!this.refusedFile) return;
    appendFileSync(this.refusedFile, refusedLine(r), { mode: 0o600 });
    // Bounded on disk too: rewritten with the ones remembered once it holds twice as many.
    if (++this.refusedLines > 2 * this.refusedKept) {
      writeFileAtomicSync(this.refusedFile, this.refusedOrder.map(refusedLine).join(''));
      this.refusedLines = this.refusedOrder.length;
    }
  }

  private rememberRefused(r: Refused): void {
    let list = this.refused.get(r.batch.thingId);
    if (!list) this.refused.set(r.batch.thingId, (list = []));
    list.push(r);
    this.refusedOrder.push(r);
    if (this.refusedOrder.length <= this.refusedKept) return;
    const old = this.refusedOrder.shift()!;
    const l = this.refused.get(old.batch.thingId)!;
    l.splice(l.indexOf(old), 1);
    if (!l.length) this.refused.delete(old.batch.thingId);
  }

  /** The refusals of earlier runs (`batches.refused.jsonl`: ids, reasons, seqs — no reading), the last `refusedKept`. */
  private loadRefused(): void {
    let text = '';
    try {
      text = readFileSync(this.refusedFile!, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      this.refusedLines++;
      try {
        const { seqs, ...batch } = JSON.parse(line) as Omit<Batch, 'readings'> & { seqs: number[] };
        this.rememberRefused({ batch: { ...batch, readings: [] }, seqs: Float64Array.from(seqs) });
      } catch {
        // a torn last line (a crash mid-append): that refusal is forgotten
      }
    }
    if (text && !text.endsWith('\n')) {
      // so that the next append starts a line of its own
      writeFileAtomicSync(this.refusedFile!, this.refusedOrder.map(refusedLine).join(''));
      this.refusedLines = this.refusedOrder.length;
    }
  }

  /** A refused batch that held `seq` (its readings are gone: index is the seq's place among its seqs). */
  private findRefused(thingId: string, seq: number): { batch: Batch; index: number } | undefined {
    for (const r of this.refused.get(thingId) ?? []) {
      let lo = 0;
      let hi = r.seqs.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (r.seqs[mid] === seq) return { batch: r.batch, index: mid };
        if (r.seqs[mid] < seq) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return undefined;
  }

  find(thingId: string, seq: number): { batch: Batch; index: number } | undefined {
    const live = this.live.get(thingId)?.get(seq);
    if (live) return live;
    const t = this.spans.get(thingId);
    if (!t) return this.findRefused(thingId, seq);
    // The last span starting at or before seq, then back while an earlier span may still reach it.
    let lo = 0;
    let hi = t.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (t.list[mid].first <= seq) lo = mid + 1;
      else hi = mid - 1;
    }
    for (let i = hi; i >= 0 && t.maxLast[i] >= seq; i--) {
      const s = t.list[i];
      if (s.last < seq) continue;
      const batch = this.read(s);
      const index = batch ? batch.readings.findIndex((r) => r.seq === seq) : -1;
      if (batch && index >= 0) return { batch, index };
    }
    return this.findRefused(thingId, seq);
  }

  /** The span's batch, or undefined when the file does not hold it there (damaged). */
  private read(s: Span): Batch | undefined {
    const hit = this.cache.get(s.batchId);
    if (hit) {
      this.cache.delete(s.batchId);
      this.cache.set(s.batchId, hit);
      return hit;
    }
    const batch = this.log!.read(s);
    if (!batch) return undefined;
    this.cache.set(s.batchId, batch);
    if (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value!);
    return batch;
  }

  /** Make every appended batch durable (before the journal that could re-anchor them is emptied). */
  sync(): Promise<void> {
    return this.log ? this.log.sync() : Promise.resolve();
  }

  close(): void {
    this.log?.close();
  }
}

/** Recompute the running maximum of `last` from position `from` on. */
function runningMax(t: Spans, from: number): void {
  for (let k = from; k < t.list.length; k++) t.maxLast[k] = Math.max(k ? t.maxLast[k - 1] : -Infinity, t.list[k].last);
}

function refusedLine(r: Refused): string {
  const { readings: _readings, ...batch } = r.batch;
  return `${JSON.stringify({ ...batch, seqs: [...r.seqs] })}\n`;
}
