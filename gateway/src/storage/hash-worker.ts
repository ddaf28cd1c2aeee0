/**
 * SHA-256 on a second core: one worker thread per process, shared by every hash in flight. The
 * encrypting stream hashes the plaintext here while it encrypts and hashes the ciphertext on the
 * main thread, so the three cryptographic passes over each byte run on two cores instead of one.
 * Chunks are copied into shared memory (memcpy is ~10× faster than SHA-256); the producer waits
 * when the ring is full, so memory stays bounded.
 */
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'n') hashes.set(m.id, { h: createHash('sha256'), sab: m.sab });
  else if (m.t === 'u') {
    const x = hashes.get(m.id);
    if (!x) return;
    x.h.update(new Uint8Array(x.sab, m.k * m.slot, m.n));
    parentPort.postMessage({ t: 'a', id: m.id, k: m.k });
  } else if (m.t === 'd') {
    const x = hashes.get(m.id);
    hashes.delete(m.id);
    if (x) parentPort.postMessage({ t: 'd', id: m.id, hex: x.h.digest('hex') });
  } else if (m.t === 'x') hashes.delete(m.id);
});
`;

type Msg = { t: 'a'; id: number; k: number } | { t: 'd'; id: number; hex: string };

/** Slots of the shared ring per hash: the bytes queued for the worker never exceed SLOTS × SLOT. */
const SLOT = 1024 * 1024;
const SLOTS = 4;

let worker: Worker | undefined;
let nextId = 1;
const active = new Map<number, OffThreadSha256>();

function theWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(SOURCE, { eval: true });
  w.on('message', (m: Msg) => active.get(m.id)?.onMessage(m));
  const fail = (e: Error) => {
    worker = undefined;
    for (const h of [...active.values()]) h.onError(e);
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the hashing worker exited (code ${code})`)));
  w.unref();
  worker = w;
  return w;
}

/**
 * A streaming SHA-256 computed on the hashing worker. Chunks are copied into a ring of
 * SharedArrayBuffer slots (4 × 1 MiB, pages touched only as used) that the worker hashes in place
 * and hands back: no allocation per chunk, and nothing queued beyond the ring.
 */
export class OffThreadSha256 {
  private readonly id = nextId++;
  private readonly ring = new SharedArrayBuffer(SLOTS * SLOT);
  private readonly view = Buffer.from(this.ring);
  private readonly free: number[] = [];
  private error: Error | undefined;
  private slotFreed: (() => void) | undefined;
  private digested: { resolve: (hex: string) => void; reject: (e: Error) => void } | undefined;

  constructor() {
    for (let k = SLOTS - 1; k >= 0; k--) this.free.push(k);
    const w = theWorker();
    if (active.size === 0) w.ref(); // keep the process alive while a hash is pending
    active.set(this.id, this);
    w.postMessage({ t: 'n', id: this.id, sab: this.ring });
  }

  /** Queue a chunk (copied into the ring). undefined when queued at once; a promise when it waited for a free slot. */
  update(chunk: Buffer): Promise<void> | undefined {
    let off = 0;
    const step = (): Promise<void> | undefined => {
      while (off < chunk.length) {
        if (this.error) throw this.error;
        const k = this.free.pop();
        if (k === undefined)
          return new Promise<void>((resolve) => (this.slotFreed = resolve)).then(() => {
            if (this.error) throw this.error;
            return step();
          });
        const n = Math.min(SLOT, chunk.length - off);
        chunk.copy(this.view, k * SLOT, off, off + n);
        off += n;
        worker!.postMessage({ t: 'u', id: this.id, k, n, slot: SLOT });
      }
      return undefined;
    };
    return step();
  }

  /** The hex digest, after every queued chunk. */
  digest(): Promise<string> {
    if (this.error) return Promise.reject(this.error);
    return new Promise<string>((resolve, reject) => {
      this.digested = { resolve, reject };
      theWorker().postMessage({ t: 'd', id: this.id });
    });
  }

  /** Forget this hash (an aborted stream). */
  discard(): void {
    if (!active.has(this.id)) return;
    worker?.postMessage({ t: 'x', id: this.id });
    this.release();
  }

  /** @internal */
  onMessage(m: Msg): void {
    if (m.t === 'a') {
      this.free.push(m.k);
      const f = this.slotFreed;
      this.slotFreed = undefined;
      f?.();
    } else {
      this.release();
      this.digested?.resolve(m.hex);
    }
  }

  /** @internal */
  onError(e: Error): void {
    this.error = e;
    this.release();
    const f = this.slotFreed;
    this.slotFreed = undefined;
    f?.();
    this.digested?.reject(e);
  }

  private release(): void {
    active.delete(this.id);
    if (active.size === 0) worker?.unref();
  }
}
