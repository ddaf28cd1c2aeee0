/**
 * The replay rule's memory (C2): per thing, the highest accepted `seq`. A reading is accepted
 * only if its seq is greater. The map is written to `<dir>/seq.json` (a temporary file, fsync,
 * rename, fsync of the directory) before a submission is acknowledged, so neither a gateway restart
 * nor a crash of the machine reopens the window. Concurrent submissions share writes: while one
 * runs, every change made meanwhile waits for exactly one more. Without a directory it lives in
 * memory only (tests).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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

  private write(): Promise<void> {
    this.dirty = false;
    const snapshot = JSON.stringify(Object.fromEntries(this.high));
    const p = durableReplace(this.file!, snapshot).finally(() => {
      if (this.writing === p) this.writing = undefined;
    });
    this.writing = p;
    return p;
  }
}

/** Replace `file` with `text` so that, once resolved, the new content survives a crash (old or new, never torn). */
async function durableReplace(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
