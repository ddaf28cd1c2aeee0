/**
 * The accepted-readings journal (R1, P2): every accepted submission is appended to
 * `<dir>/accepted.jsonl` and fsynced before the 202, so a reading the gateway acknowledged is never
 * lost — a gateway killed before its batch was anchored re-anchors it on the next start (readings
 * already in an anchored batch are skipped). Concurrent submissions share writes as the replay
 * marks do. The journal is emptied whenever every journaled reading has settled (anchored or
 * refused by the chaincode). Without a directory it keeps nothing (tests). Each line is sealed at
 * rest with the gateway's storage key when one is given (crypto/sealed-line.ts).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Caller } from '../../auth/principal.js';
import { PLAIN_LINES, type LineCodec } from '../../crypto/sealed-line.js';
import { writeFileAtomic, writeFileAtomicSync } from '../../durable-file.js';
import type { ReadingSet, StoredReading } from './batches.js';
import { leafOf, readingBytes } from 'mvsec-protocol';

export interface JournalEntry {
  caller: Caller;
  thingId: string;
  at: number;
  readings: StoredReading[];
  /** When the readings were signed as one set: the set (its signature and leaves). */
  set?: ReadingSet;
}

/**
 * A journal line holds what the thing sent, nothing derived: each reading without its leaf, a set
 * without its leaves (both recomputed on load: SHA-256 of the canonical reading). Half the bytes
 * to fsync per submission.
 */
interface JournalLine {
  caller: Caller;
  thingId: string;
  at: number;
  readings: Omit<StoredReading, 'leaf' | 'set'>[];
  set?: Omit<ReadingSet, 'leaves'>;
}

function textOf(e: JournalEntry): string {
  const line: JournalLine = {
    caller: e.caller,
    thingId: e.thingId,
    at: e.at,
    readings: e.readings.map(({ seq, time, sensor, value, signature }) => ({
      seq,
      time,
      sensor,
      value,
      ...(signature ? { signature } : {}),
    })),
    ...(e.set ? { set: { merkleRoot: e.set.merkleRoot, leafCount: e.set.leafCount, signature: e.set.signature } } : {}),
  };
  return JSON.stringify(line);
}

function entryOf(l: JournalLine): JournalEntry {
  const readings: StoredReading[] = l.readings.map((r, i) => ({
    ...r,
    ...(l.set ? { set: { root: l.set.merkleRoot, index: i } } : {}),
    leaf: leafOf(readingBytes({ thingId: l.thingId, ...r })),
  }));
  const { set, ...rest } = l;
  return { ...rest, readings, ...(set ? { set: { ...set, leaves: readings.map((r) => r.leaf) } } : {}) };
}

export class AcceptedJournal {
  private readonly file?: string;
  private buffered: string[] = [];
  private writing?: Promise<void>;
  private next?: Promise<void>;
  private handle?: Promise<FileHandle>;
  /** Bytes appended since the journal was last emptied or compacted. */
  private size = 0;
  /**
   * Lines before the last that load() could not read (another storage key, a damaged disk), and
   * where the journal was copied to before startWith() replaces it: nothing acknowledged is dropped
   * for good by a start with the wrong key.
   */
  unreadable = 0;
  unreadableCopy?: string;
  /** Set by compact(): the next write replaces the journal with these entries' lines. */
  private compactWith?: () => JournalEntry[];

  /**
   * @param compactAt rewrite the journal with only its open entries once this many bytes were appended (compact())
   * @param lines how lines are sealed at rest
   */
  constructor(
    dir?: string,
    readonly compactAt = 64 * 1024 * 1024,
    private readonly lines: LineCodec = PLAIN_LINES,
  ) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'accepted.jsonl');
  }

  /**
   * What the journal holds from before this start (a torn last line after a crash is skipped: it was
   * never acknowledged). A set's entry holds the whole set (startWith keeps entries whole).
   */
  load(): JournalEntry[] {
    if (!this.file) return [];
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const out: JournalEntry[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        out.push(entryOf(JSON.parse(this.lines.open(line)) as JournalLine));
      } catch {
        // the last line may be a torn write, whose submission got no 202; any other is worth a word
        if (i < lines.length - 1) this.unreadable++;
      }
    });
    if (this.unreadable) {
      this.unreadableCopy = `${this.file}.unreadable-${Date.now()}`;
      copyFileSync(this.file, this.unreadableCopy);
    }
    return out;
  }

  /** At start: replace the journal, durably (temporary file, fsync, rename, fsync of the folder), with these entries' lines. */
  startWith(entries: JournalEntry[]): void {
    if (this.file) writeFileAtomicSync(this.file, entries.map((e) => this.lineOf(e)).join(''));
  }

  /** Appends since the last reset or compaction outgrew `compactAt`. */
  get oversized(): boolean {
    return this.size >= this.compactAt;
  }

  /**
   * Under a stream that never lets every entry settle at once, the journal is never emptied:
   * instead, the next write replaces it (temporary file, fsync, rename, fsync of the folder) with
   * the lines of `open()` — every entry not settled yet, those appended meanwhile included, which
   * is why the buffered lines are not written besides. The caller makes the replay marks durable
   * first (the dropped entries carried them).
   */
  compact(open: () => JournalEntry[]): Promise<void> {
    if (!this.file) return Promise.resolve();
    this.compactWith = open;
    if (!this.writing) return this.write();
    this.next ??= this.writing.then(() => {
      this.next = undefined;
      return this.write();
    });
    return this.next;
  }

  /** Appends reach the disk (a state dir was given). */
  get durable(): boolean {
    return this.file !== undefined;
  }

  append(e: JournalEntry): void {
    if (this.file) this.buffered.push(this.lineOf(e));
  }

  private lineOf(e: JournalEntry): string {
    return `${this.lines.seal(textOf(e))}\n`;
  }

  /** Resolves once everything appended so far is on disk. */
  flush(): Promise<void> {
    if (!this.file || (!this.buffered.length && !this.writing)) return Promise.resolve();
    if (!this.buffered.length) return this.writing!;
    if (!this.writing) return this.write();
    this.next ??= this.writing.then(() => {
      this.next = undefined;
      return this.write();
    });
    return this.next;
  }

  private write(): Promise<void> {
    const compacting = this.compactWith;
    this.compactWith = undefined;
    // Compacting: the open entries include every buffered one.
    const text = compacting
      ? compacting()
          .map((e) => this.lineOf(e))
          .join('')
      : this.buffered.join('');
    this.buffered = [];
    const p = (async () => {
      if (compacting) {
        const old = this.handle;
        this.handle = undefined;
        await old?.then((h) => h.close());
        await writeFileAtomic(this.file!, text);
        this.size = 0;
        return;
      }
      this.size += text.length;
      this.handle ??= open(this.file!, 'a', 0o600);
      const fh = await this.handle;
      await fh.appendFile(text);
      await fh.datasync(); // the appended bytes and the file's new size; timestamps need not be durable
    })().finally(() => {
      if (this.writing === p) this.writing = undefined;
    });
    this.writing = p;
    return p;
  }

  /**
   * Everything journaled has settled: start empty. Skipped while anything is buffered or being
   * written; otherwise the truncation takes the writer's place, so later appends land after it.
   */
  reset(): Promise<void> {
    if (!this.file || this.buffered.length || this.writing) return Promise.resolve();
    const p = (async () => {
      this.handle ??= open(this.file!, 'a', 0o600);
      const fh = await this.handle;
      await fh.truncate(0);
      await fh.sync();
      this.size = 0;
    })().finally(() => {
      if (this.writing === p) this.writing = undefined;
    });
    this.writing = p;
    return p;
  }

  async close(): Promise<void> {
    await this.flush().catch(() => {});
    const h = this.handle;
    this.handle = undefined;
    if (h) await (await h).close();
  }
}
