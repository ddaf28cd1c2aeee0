/**
 * The anchored batches on disk: a log of segment files `batches-<n>.jsonl`, one batch per line
 * (sealed at rest, crypto/sealed-line.ts), each with its index `batches-<n>.idx.jsonl` of spans —
 * thing, batch id, first and last seq, byte offset and length, when it was anchored and how many
 * days the thing's policy keeps it. Appends go to the newest segment; a new one is started past
 * `segmentBytes`. Retention (thing policy `retentionDays`, ARCHITECTURE §3) works on whole
 * segments: one whose batches have all expired is deleted, one with some expired is rewritten
 * without them (the sealed lines are copied as they are, nothing is decrypted), so disk and the
 * spans kept in memory are bounded by what the policies keep.
 *
 * Crash safety: an append is a line then its span (a span whose line is missing is ignored; lines
 * without a span are indexed again from the segment's tail; a torn last line is cut). A rewrite
 * writes a new segment under temporary names, fsyncs, renames the data then the index into place,
 * and only then deletes the old segment; a crash in between leaves a batch in two segments, and
 * the load keeps the first it meets.
 */
import {
  appendFileSync,
  closeSync,
  fdatasync,
  fsyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { LineCodec } from '../../crypto/sealed-line.js';
import { writeFileAtomicSync } from '../../durable-file.js';
import { DEFAULT_RETENTION_DAYS, expiresAt } from '../../retention.js';
import type { Batch } from './batches.js';

export interface Span {
  thingId: string;
  batchId: string;
  first: number;
  last: number;
  /** Segment number (not written to the index: the index file names it). */
  seg: number;
  offset: number;
  length: number;
  /** When the batch was anchored (ms since the epoch, the gateway's clock). */
  at: number;
  /** How many days its thing's policy keeps it from `at`. */
  days: number;
}

interface Segment {
  n: number;
  size: number;
  spans: Span[];
}

/** A thing's retention as known now (its current policy), if known. */
export type RetentionOf = (thingId: string) => number | undefined;
const SEGMENT = /^batches-(\d+)\.jsonl$/;

export class BatchLog {
  private readonly segments = new Map<number, Segment>();
  private active!: Segment;
  /** The highest segment number used. */
  private newest = 0;
  private fd!: number;
  private readonly seen = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly lines: LineCodec,
    private readonly segmentBytes: number,
  ) {}

  private dataFile = (n: number) => join(this.dir, `batches-${n}.jsonl`);
  private indexFile = (n: number) => join(this.dir, `batches-${n}.idx.jsonl`);

  /** Reads every segment, telling each span; the newest segment takes the appends. */
  load(onSpan: (s: Span) => void): void {
    const numbers: number[] = [];
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith('.tmp')) rmSync(join(this.dir, name), { force: true }); // a rewrite cut short
      const m = SEGMENT.exec(name);
      if (m) numbers.push(Number(m[1]));
    }
    numbers.sort((a, b) => a - b);
    const legacy = this.migrate(numbers.length ? numbers[numbers.length - 1] + 1 : 0);
    if (legacy !== undefined) numbers.push(legacy);
    for (const n of numbers) this.loadSegment(n, onSpan);
    this.seen.clear();
    this.newest = numbers.length ? numbers[numbers.length - 1] : 0;
    this.open(this.newest);
  }

  /**
   * Before segments there was one `batches.jsonl` with `batches.idx.jsonl`: the file becomes
   * segment `n` (never over an existing one) and its index is read again from its lines (the old
   * index is dropped first, so a crash between the two steps leaves nothing to mismatch).
   */
  private migrate(n: number): number | undefined {
    rmSync(join(this.dir, 'batches.idx.jsonl'), { force: true });
    try {
      renameSync(join(this.dir, 'batches.jsonl'), this.dataFile(n));
      return n;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return undefined;
    }
  }

  private loadSegment(n: number, onSpan: (s: Span) => void): void {
    const fd = openSync(this.dataFile(n), 'r+');
    try {
      const seg: Segment = { n, size: fstatSync(fd).size, spans: [] };
      this.segments.set(n, seg);
      const written = fstatSync(fd).mtimeMs; // for batches recorded before their anchoring time was
      let indexed = 0;
      let text = '';
      try {
        text = readFileSync(this.indexFile(n), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const keep = (s: Span) => {
        if (this.seen.has(s.batchId)) return; // also in an earlier segment (a rewrite cut short)
        this.seen.add(s.batchId);
        seg.spans.push(s);
        onSpan(s);
      };
      for (const line of text.split('\n')) {
        if (!line) continue;
        let s: Span;
        try {
          s = JSON.parse(line) as Span;
        } catch {
          continue; // a torn index line: its batch is found again in the tail below
        }
        if (s.offset + s.length > seg.size) continue; // the batch's own line never reached the file
        keep({ ...s, seg: n, at: s.at ?? written, days: s.days ?? DEFAULT_RETENTION_DAYS });
        indexed = Math.max(indexed, s.offset + s.length);
      }
      this.scanTail(fd, seg, indexed, written, keep);
    } finally {
      closeSync(fd);
    }
  }

  /** Index the lines after `from` (written, but not indexed before a crash); cut a torn last line. */
  private scanTail(fd: number, seg: Segment, from: number, written: number, keep: (s: Span) => void): void {
    if (from >= seg.size) return;
    const tail = Buffer.alloc(seg.size - from);
    readSync(fd, tail, 0, tail.length, from);
    let at = 0;
    for (let nl = tail.indexOf(10); nl >= 0; at = nl + 1, nl = tail.indexOf(10, at)) {
      let b: Batch;
      try {
        b = JSON.parse(this.lines.open(tail.subarray(at, nl).toString('utf8'))) as Batch;
      } catch {
        continue; // not a batch line: skipped
      }
      const s = spanOf(b, seg.n, from + at, nl - at, written);
      keep(s);
      appendFileSync(this.indexFile(seg.n), indexLine(s), { mode: 0o600 });
    }
    if (at < tail.length) {
      ftruncateSync(fd, from + at);
      seg.size = from + at;
    }
  }

  private open(n: number): void {
    let seg = this.segments.get(n);
    if (!seg) this.segments.set(n, (seg = { n, size: 0, spans: [] }));
    this.active = seg;
    this.fd = openSync(this.dataFile(n), 'a+', 0o600);
    seg.size = fstatSync(this.fd).size;
  }

  /** Start a new segment (the current one is made durable and closed). */
  private roll(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.open(++this.newest);
  }

  /** Appends an anchored batch (written without its cached tree; `anchoredAt` and `retentionDays` set); its span. */
  append(batch: Batch): Span {
    if (this.active.size >= this.segmentBytes && this.active.spans.length) this.roll();
    const { levels: _levels, ...record } = batch;
    const line = Buffer.from(`${this.lines.seal(JSON.stringify(record))}\n`, 'utf8');
    const offset = fstatSync(this.fd).size; // appends go to the end, wherever another writer left it
    writeSync(this.fd, line);
    this.active.size = offset + line.length;
    const s = spanOf(batch, this.active.n, offset, line.length - 1, Date.now());
    this.active.spans.push(s);
    appendFileSync(this.indexFile(s.seg), indexLine(s), { mode: 0o600 });
    return s;
  }

  /** The span's batch, or undefined when the file does not hold it there (damaged). */
  read(s: Span): Batch | undefined {
    const buf = Buffer.alloc(s.length);
    const fd = s.seg === this.active.n ? this.fd : openSync(this.dataFile(s.seg), 'r');
    try {
      readSync(fd, buf, 0, s.length, s.offset);
    } finally {
      if (fd !== this.fd) closeSync(fd);
    }
    let batch: Batch;
    try {
      batch = JSON.parse(this.lines.open(buf.toString('utf8'))) as Batch;
    } catch {
      return undefined;
    }
    return batch.batchId === s.batchId ? batch : undefined;
  }

  /**
   * Removes the batches whose retention has passed at `now`: segments holding only those are
   * deleted, segments holding some are rewritten without them (the spans kept move; their objects
   * are updated in place). A rewrite blocks the thread while it copies, so one pass copies at most
   * `copyBudget` bytes (at least one segment); `more` says that expired batches are left for the
   * next pass. A batch is kept `daysOf(thing)` days when that is known, else the days recorded
   * with it. Returns the spans removed.
   */
  prune(now: number, copyBudget = Infinity, daysOf: RetentionOf = () => undefined): { removed: Span[]; more: boolean } {
    const expiry = (s: Span) => expiresAt(s.at, daysOf(s.thingId) ?? s.days);
    const removed: Span[] = [];
    if (this.active.spans.some((s) => expiry(s) <= now)) this.roll();
    let copied = 0;
    for (const seg of [...this.segments.values()]) {
      if (seg === this.active) continue;
      const gone = seg.spans.filter((s) => expiry(s) <= now);
      if (!gone.length) continue;
      const kept = seg.spans.filter((s) => expiry(s) > now);
      if (kept.length) {
        if (copied && copied >= copyBudget) return { removed, more: true };
        copied += this.rewrite(seg, kept);
      }
      removed.push(...gone);
      this.drop(seg);
    }
    return { removed, more: false };
  }

  /** A new segment holding `kept`, in place before `seg` is dropped; the bytes copied. */
  private rewrite(seg: Segment, kept: Span[]): number {
    const n = ++this.newest;
    const into: Segment = { n, size: 0, spans: [] };
    const data = `${this.dataFile(n)}.tmp`;
    const from = openSync(this.dataFile(seg.n), 'r');
    const to = openSync(data, 'w', 0o600);
    const moved: Span[] = [];
    let idx = '';
    try {
      for (const s of kept) {
        const buf = Buffer.alloc(s.length + 1);
        readSync(from, buf, 0, s.length + 1, s.offset); // the line and its newline
        writeSync(to, buf);
        const m = { ...s, seg: n, offset: into.size };
        into.size += buf.length;
        moved.push(m);
        idx += indexLine(m);
      }
      fsyncSync(to);
    } finally {
      closeSync(from);
      closeSync(to);
    }
    renameSync(data, this.dataFile(n));
    writeFileAtomicSync(this.indexFile(n), idx); // a crash before: the segment is indexed from its lines
    // Only now the kept spans point at the new segment.
    kept.forEach((s, i) => Object.assign(s, { seg: n, offset: moved[i].offset }));
    into.spans = kept;
    this.segments.set(n, into);
    return into.size;
  }

  private drop(seg: Segment): void {
    rmSync(this.indexFile(seg.n), { force: true });
    rmSync(this.dataFile(seg.n), { force: true });
    this.segments.delete(seg.n);
  }

  /** Make every appended batch durable. */
  sync(): Promise<void> {
    const fd = this.fd;
    if (fd < 0) return Promise.resolve(); // closed: its last fsync was at close
    return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  /** Segment files on disk (for tests and the operator's figures). */
  get segmentCount(): number {
    return this.segments.size;
  }

  close(): void {
    if (this.fd < 0) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }
}

function indexLine(s: Span): string {
  const { seg: _seg, ...line } = s;
  return `${JSON.stringify(line)}\n`;
}

/** A batch line's span; `written` stands in for the anchoring time of a line written before it was recorded. */
function spanOf(b: Batch, seg: number, offset: number, length: number, written: number): Span {
  let first = Infinity;
  let last = -Infinity;
  for (const r of b.readings) {
    if (r.seq < first) first = r.seq;
    if (r.seq > last) last = r.seq;
  }
  const at = b.anchoredAt ? Date.parse(b.anchoredAt) : NaN;
  return {
    thingId: b.thingId,
    batchId: b.batchId,
    first,
    last,
    seg,
    offset,
    length,
    at: Number.isFinite(at) ? at : written,
    days: b.retentionDays ?? DEFAULT_RETENTION_DAYS,
  };
}
