/**
 * The replay rule's memory (C2): per thing, the highest accepted `seq`. A reading is accepted
 * only if its seq is greater. The map is written to `<dir>/seq.json` (a temporary file, fsync,
 * rename, fsync of the directory). The telemetry service acknowledges a submission once its
 * readings are in the accepted journal (which carries their seqs, so neither a restart nor a crash
 * reopens the window) and writes this file before the journal is emptied; without a journal it
 * flushes this file before each acknowledgement. Concurrent flushes share writes: while one runs,
 * every change made meanwhile waits for exactly one more. Without a directory it lives in memory
 * only (tests).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../durable-file.js';

export class SeqStore {
  private readonly high = new Map<string, number>();
  private readonly file?: string;
  private writing?: Promise<void>;
  private dirty = false;
  private next?: Promise<void>;

  constructor(dir?: string) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'seq.json');
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, number>)) this.high.set(k, v);
  }

  /** Highest accepted seq of the thing, -1 when none. */
  get(thingId: string): number {
    return this.high.get(thingId) ?? -1;
  }

  /** Record a new high-water mark (callers check it is higher, synchronously, before calling). */
  advance(thingId: string, seq: number): void {
    if (seq <= this.get(thingId)) throw new Error(`seq ${seq} of ${thingId} is not above ${this.get(thingId)}`);
    this.high.set(thingId, seq);
    this.dirty = true;
  }

  /** Resolves once a write that includes every change made so far is on disk. */
  flush(): Promise<void> {
    if (!this.file || !this.dirty) return this.writing ?? Promise.resolve();
    if (!this.writing) return this.write();
    // A write is running and does not include the latest change: chain exactly one more.
    this.next ??= this.writing.then(() => {
      this.next = undefined;
      return this.write();
    });
    return this.next;
  }

  /** The same, synchronously (at start, before the journal is rewritten). */
  flushSync(): void {
    if (!this.file || !this.dirty) return;
    this.dirty = false;
    writeFileAtomicSync(this.file, JSON.stringify(Object.fromEntries(this.high)));
  }

  private write(): Promise<void> {
    this.dirty = false;
    const snapshot = JSON.stringify(Object.fromEntries(this.high));
    const p = writeFileAtomic(this.file!, snapshot).finally(() => {
      if (this.writing === p) this.writing = undefined;
    });
    this.writing = p;
    return p;
  }
}
