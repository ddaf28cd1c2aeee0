/**
 * Where encrypted objects live. A backend stores opaque, content-addressed blobs (the address is
 * a hash of the stored bytes, content-address.ts); it never sees a key or a plaintext byte. The local filesystem
 * backend is the default; an S3-compatible backend implements the same interface (docs/storage.md).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDir } from '../durable-file.js';
import { Writable, type Readable } from 'node:stream';

export type Placement = 'ON_PLATFORM' | 'EXTERNAL';

/** The backend cannot be reached or refused the operation (not the client's fault, not tampering): 503 at the routes. */
export class StorageUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}

export interface ObjectWriter {
  /** Write the object's bytes here (through stream.pipeline). */
  stream: Writable;
  /** After the stream finished: make the object durable under `address` (atomic). */
  commit(address: string): Promise<void>;
  /** Throw the partial object away. */
  abort(): Promise<void>;
}

export interface ObjectReader {
  size: number;
  /** A fresh stream over the whole object; may be called more than once (same object version). */
  stream(): Readable;
  close(): Promise<void>;
}

export interface ObjectBackend {
  readonly storeId: string;
  readonly placement: Placement;
  /** The storage URI recorded on the ledger. */
  uri(address: string): string;
  writer(): Promise<ObjectWriter>;
  /** undefined when there is no such object. */
  open(address: string): Promise<ObjectReader | undefined>;
  /** true when something was removed. */
  remove(address: string): Promise<boolean>;
  list(): AsyncIterable<string>;
  /** Release connections, if the backend holds any. */
  close?(): void;
}

const ADDRESS = /^[0-9a-f]{64}$/;
export function assertAddress(a: string): string {
  if (!ADDRESS.test(a)) throw new Error(`not a content address: ${a}`);
  return a;
}

/** Start writing back to disk after this many bytes (fdatasync on the libuv pool, while the stream goes on). */
export const WRITEBACK_EVERY = 32 * 1024 * 1024;

/**
 * A file sink that starts the disk writeback every WRITEBACK_EVERY bytes (one fdatasync at a time,
 * not awaited), so the commit's fsync no longer waits for the whole object to reach the disk after
 * the CPU work is done. Durability is unchanged: commit still fsyncs, renames and fsyncs the directory.
 */
export class FileSink extends Writable {
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private syncError: Error | undefined;

  constructor(
    private readonly fh: Pick<FileHandle, 'writev' | 'datasync' | 'close'>,
    private readonly writebackEvery = WRITEBACK_EVERY,
  ) {
    // up to 4 MiB queued: writes are large, and the disk is not left idle while the event loop is busy
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this.writeAll(chunks.map((c) => c.chunk)).then(() => cb(), cb);
  }

  override _write(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.writeAll([chunk]).then(() => cb(), cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    Promise.resolve(this.syncing).then(() => cb(this.syncError), cb);
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    Promise.resolve(this.syncing)
      .then(() => this.fh.close())
      .then(
        () => cb(err),
        (e: Error) => cb(err ?? e),
      );
  }

  private async writeAll(bufs: Buffer[]): Promise<void> {
    if (this.syncError) throw this.syncError;
    for (;;) {
      const want = bufs.reduce((n, b) => n + b.length, 0);
      const { bytesWritten } = await this.fh.writev(bufs);
      this.unsynced += bytesWritten;
      if (bytesWritten >= want) break;
      if (bytesWritten === 0) throw new Error('the object file takes no more bytes');
      // a short write: go on with what is left
      let skip = bytesWritten;
      while (skip >= bufs[0].length) skip -= bufs.shift()!.length;
      bufs[0] = bufs[0].subarray(skip);
    }
    if (this.unsynced >= this.writebackEvery && !this.syncing) {
      this.unsynced = 0;
      this.syncing = this.fh.datasync().then(
        () => void (this.syncing = undefined),
        (e: Error) => {
          this.syncError = e;
          this.syncing = undefined;
        },
      );
    }
  }
}

/** Local filesystem: `<dir>/<aa>/<address>`, partial uploads in `<dir>/.tmp`, files mode 600. */
export class LocalBackend implements ObjectBackend {
  readonly placement: Placement = 'ON_PLATFORM';

  constructor(
    readonly dir: string,
    readonly storeId = 'local',
  ) {}

  uri(address: string): string {
    return `local://${this.storeId}/${assertAddress(address)}`;
  }

  path(address: string): string {
    assertAddress(address);
    return join(this.dir, address.slice(0, 2), address);
  }

  async writer(): Promise<ObjectWriter> {
    const tmpDir = join(this.dir, '.tmp');
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const stream = new FileSink(await open(tmp, 'wx', 0o600));
    return {
      stream,
      commit: async (address: string) => {
        const target = this.path(address);
        const fh = await open(tmp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await rename(tmp, target);
        await syncDir(dirname(target));
      },
      abort: async () => {
        stream.destroy();
        await rm(tmp, { force: true });
      },
    };
  }

  async open(address: string): Promise<ObjectReader | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.path(address), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const st: Stats = await fh.stat();
    // One descriptor for every pass: a file replaced (renamed over) between passes is not mixed in.
    return {
      size: st.size,
      stream: () => fh.createReadStream({ start: 0, autoClose: false, highWaterMark: 1024 * 1024 }),
      close: () => fh.close(),
    };
  }

  async remove(address: string): Promise<boolean> {
    try {
      await unlink(this.path(address));
      await syncDir(dirname(this.path(address))).catch(() => undefined);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  async *list(): AsyncIterable<string> {
    let shards: string[];
    try {
      shards = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const s of shards.sort()) {
      if (!/^[0-9a-f]{2}$/.test(s)) continue;
      for (const f of (await readdir(join(this.dir, s))).sort()) if (ADDRESS.test(f) && f.startsWith(s)) yield f;
    }
  }

  /** For tools and tests: a read stream over the raw stored bytes. */
  rawStream(address: string): Readable {
    return createReadStream(this.path(address));
  }

  async exists(address: string): Promise<boolean> {
    return stat(this.path(address)).then(
      () => true,
      () => false,
    );
  }
}
