/**
 * Where a reading's batch is found (R1 proofs), with memory bounded by the batches, not the
 * readings: pending batches stay in memory; refused ones shrink to their id, reason and seq
 * numbers (the last `refusedKept` of them, for proofs that answer why); anchored ones are appended to
 * `<dir>/batches.jsonl` and leave memory, remembered only by a span — thing, batch id, first and
 * last seq, byte offset and length — kept in `<dir>/batches.idx.jsonl`. A proof reads its batch's
 * line back (a few recently read batches are cached). At start the index is read and, if a crash
 * left it behind the batch file, completed from the file's tail; a torn last line (a crash in the
 * middle of an append) is cut off so later appends start on a line of their own. Batch lines are
 * sealed at rest with the gateway's storage key when one is given (crypto/sealed-line.ts); the
 * index holds no reading.
 */
import {
  appendFileSync,
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { PLAIN_LINES, type LineCodec } from '../crypto/sealed-line.js';
import type { Batch } from './batches.js';

interface Span {
  thingId: string;
  batchId: string;
  first: number;
  last: number;
  offset: number;
  length: number;
}

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

export class BatchIndex {
  /** Pending batches, by thing and seq. */
  private readonly live = new Map<string, Map<number, { batch: Batch; index: number }>>();
  /** Refused batches by thing, and all of them oldest first (the bound). */
  private readonly refused = new Map<string, Refused[]>();
  private readonly refusedOrder: Refused[] = [];
  private readonly spans = new Map<string, Spans>();
  private readonly cache = new Map<string, Batch>();
  private readonly file?: string;
  private readonly indexFile?: string;
  private fd?: number;
  private size = 0;

  /**
   * @param lines how batch lines are sealed at rest
   * @param refusedKept how many refused batches are remembered (~8 bytes per reading each); older ones are forgotten
   */
  constructor(
    dir?: string,
    private readonly lines: LineCodec = PLAIN_LINES,
    private readonly refusedKept = 1000,
  ) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'batches.jsonl');
    this.indexFile = join(dir, 'batches.idx.jsonl');
    this.fd = openSync(this.file, 'a+', 0o600);
    this.size = fstatSync(this.fd).size;
    this.load();
  }

  private load(): void {
    let indexed = 0;
    let text = '';
    try {
      text = readFileSync(this.indexFile!, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let s: Span;
      try {
        s = JSON.parse(line) as Span;
      } catch {
        continue; // a torn index line: its batch is found again in the tail below
      }
      if (s.offset + s.length > this.size) continue; // the batch's own line never reached the file
      this.remember(s);
      indexed = Math.max(indexed, s.offset + s.length);
    }
    this.scanTail(indexed);
  }

  /** Index the batch lines after `from` (written, but not indexed before a crash); cut a torn last line. */
  private scanTail(from: number): void {
    if (from >= this.size) return;
    const tail = Buffer.alloc(this.size - from);
    readSync(this.fd!, tail, 0, tail.length, from);
    let at = 0;
    for (let nl = tail.indexOf(10); nl >= 0; at = nl + 1, nl = tail.indexOf(10, at)) {
      try {
        const b = JSON.parse(this.lines.open(tail.subarray(at, nl).toString('utf8'))) as Batch;
        this.indexSpan(spanOf(b, from + at, nl - at));
      } catch {
        // not a batch line: skipped
      }
    }
    if (at < tail.length) {
      ftruncateSync(this.fd!, from + at);
      this.size = from + at;
    }
  }

  private remember(s: Span): void {
    let t = this.spans.get(s.thingId);
    if (!t) this.spans.set(s.thingId, (t = { list: [], maxLast: [] }));
    // Usually the last; batches of concurrent callers may settle out of order.
    let i = t.list.length;
    while (i > 0 && t.list[i - 1].first > s.first) i--;
    t.list.splice(i, 0, s);
    for (let k = i; k < t.list.length; k++) t.maxLast[k] = Math.max(k ? t.maxLast[k - 1] : -Infinity, t.list[k].last);
  }

  private indexSpan(s: Span): void {
    this.remember(s);
    appendFileSync(this.indexFile!, `${JSON.stringify(s)}\n`, { mode: 0o600 });
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
    if (batch.status !== 'ANCHORED' || this.fd === undefined) return;
    const { levels: _levels, ...record } = batch;
    const line = Buffer.from(`${this.lines.seal(JSON.stringify(record))}\n`, 'utf8');
    const offset = fstatSync(this.fd).size; // appends go to the end, wherever another writer left it
    writeSync(this.fd, line);
    const span = spanOf(batch, offset, line.length - 1);
    this.size = offset + line.length;
    this.indexSpan(span);
    this.forget(batch);
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
    let list = this.refused.get(thingId);
    if (!list) this.refused.set(thingId, (list = []));
    list.push(r);
    this.refusedOrder.push(r);
    if (this.refusedOrder.length <= this.refusedKept) return;
    const old = this.refusedOrder.shift()!;
    const l = this.refused.get(old.batch.thingId)!;
    l.splice(l.indexOf(old), 1);
    if (!l.length) this.refused.delete(old.batch.thingId);
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
    const buf = Buffer.alloc(s.length);
    readSync(this.fd!, buf, 0, s.length, s.offset);
    let batch: Batch;
    try {
      batch = JSON.parse(this.lines.open(buf.toString('utf8'))) as Batch;
    } catch {
      return undefined;
    }
    if (batch.batchId !== s.batchId) return undefined;
    this.cache.set(s.batchId, batch);
    if (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value!);
    return batch;
  }

  /** Make every appended batch durable (before the journal that could re-anchor them is emptied). */
  sync(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function spanOf(b: Batch, offset: number, length: number): Span {
  let first = Infinity;
  let last = -Infinity;
  for (const r of b.readings) {
    if (r.seq < first) first = r.seq;
    if (r.seq > last) last = r.seq;
  }
  return { thingId: b.thingId, batchId: b.batchId, first, last, offset, length };
}
