/**
 * SHA-256 off the main thread: a pool of hashing worker threads per process, shared by every hash
 * in flight. The encrypting stream hashes the plaintext (the ledger's fingerprint) on a worker while
 * the main thread encrypts and computes the content address (BLAKE3, ~4× cheaper than SHA-256 here),
 * so the slowest pass runs beside the others instead of after them. Bytes are copied into a shared-memory ring (memcpy is ~10× faster
 * than SHA-256) and a slot is posted only when full, so messages are few; the producer waits when
 * the ring is full, so memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const os = require('node:os');
const hashes = new Map();
// Linux: the nice value is per thread. Hashing is throughput work: two steps below the event loop and
// the I/O threads that feed it, those get a core sooner when cores are scarce (~6-13% less store time on 2 cores).
if (process.platform === 'linux') try { os.setPriority(0, Math.min(19, os.getPriority(0) + 2)); } catch {}
parentPort.on('message', (m) => {
  if (m.t === 'n') hashes.set(m.id, { h: createHash('sha256'), sab: m.sab });
  else if (m.t === 'u') {
    const x = hashes.get(m.id);
    if (x) x.h.update(new Uint8Array(x.sab, m.k * m.slot, m.n));
    parentPort.postMessage({ t: 'a', id: m.id, k: m.k });
  } else if (m.t === 'd') {
    const x = hashes.get(m.id);
    hashes.delete(m.id);
    if (x) parentPort.postMessage({ t: 'd', id: m.id, hex: x.h.digest('hex') });
  } else if (m.t === 'x') hashes.delete(m.id);
});
`;

type Msg = { t: 'a'; id: number; k: number } | { t: 'd'; id: number; hex: string };

/** Slots of the shared ring per hash: the bytes queued for a worker never exceed SLOTS × SLOT. */
const SLOT = 1024 * 1024;
const SLOTS = 4;
/** Two workers: two objects stored at once each get one (the pool is per process, two cores here). */
const POOL = 2;

interface PoolWorker {
  w: Worker;
  active: Map<number, OffThreadSha256>;
}

const pool: (PoolWorker | undefined)[] = new Array<PoolWorker | undefined>(POOL).fill(undefined);
let nextId = 1;
/**
 * Rings of finished hashes, wiped and reused: a fresh one per object cost page faults, and the idle
 * worker's rare GC kept old ones mapped (RSS). A worker still reading a discarded hash's slot only
 * spoils that discarded hash.
 */
const idleRings: SharedArrayBuffer[] = [];
const IDLE_RINGS = 2;

function spawn(i: number): PoolWorker {
  // no execArgv: the parent's loaders (tsx) and flags are not needed for a CommonJS hashing loop
  const w = new Worker(SOURCE, { eval: true, execArgv: [] });
  const p: PoolWorker = { w, active: new Map() };
  w.on('message', (m: Msg) => p.active.get(m.id)?.onMessage(m));
  const fail = (e: Error) => {
    if (pool[i] === p) pool[i] = undefined;
    for (const h of [...p.active.values()]) h.onError(e);
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`a hashing worker exited (code ${code})`)));
  w.unref();
  pool[i] = p;
  return p;
}

/** The worker with the fewest hashes in flight (spawned on first use). */
function pick(): PoolWorker {
  let best: PoolWorker | undefined;
  for (let i = 0; i < POOL; i++) {
    const p = pool[i] ?? spawn(i);
    if (!best || p.active.size < best.active.size) best = p;
  }
  return best!;
}

/** For tests: the live hashing workers and how many hashes each holds. */
export function hashWorkers(): { worker: Worker; active: number }[] {
  return pool.filter((p): p is PoolWorker => !!p).map((p) => ({ worker: p.w, active: p.active.size }));
}

/** A streaming SHA-256 that `update`s synchronously; `ready()` says when to wait before more input. */
export interface StreamHash {
  update(b: Buffer): void;
  /** undefined when more input may follow now; else a promise settled when it may (rejected if the hash failed). */
  ready(): Promise<void> | undefined;
  digest(): Promise<string>;
  /** Forget the hash (an aborted stream). */
  discard(): void;
}

/**
 * A streaming SHA-256 computed on a pooled worker. Bytes are copied into a ring of
 * SharedArrayBuffer slots (4 × 1 MiB, pages touched only as used); a slot goes to the worker when
 * full and comes back once hashed. When no slot is free the rest is queued by reference (the
 * caller must wait on `ready()` before giving more), so nothing is allocated per chunk.
 */
export class OffThreadSha256 implements StreamHash {
  private readonly id = nextId++;
  private readonly p: PoolWorker;
  private readonly ring: SharedArrayBuffer;
  private readonly view: Buffer;
  /** Bytes of the ring written so far (wiped on release). */
  private used = 0;
  private readonly free: number[] = [];
  /** The slot being filled (-1: none) and its fill. */
  private cur = -1;
  private fill = 0;
  /** Bytes not copied yet: no free slot. */
  private pending: Buffer[] = [];
  private error: Error | undefined;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private digested: { resolve: (hex: string) => void; reject: (e: Error) => void } | undefined;

  constructor() {
    const ring = (this.ring = idleRings.pop() ?? new SharedArrayBuffer(SLOTS * SLOT));
    this.view = Buffer.from(ring);
    for (let k = SLOTS - 1; k >= 0; k--) this.free.push(k);
    this.p = pick();
    if (this.p.active.size === 0) this.p.w.ref(); // keep the process alive while a hash is pending
    this.p.active.set(this.id, this);
    this.p.w.postMessage({ t: 'n', id: this.id, sab: ring });
  }

  update(b: Buffer): void {
    if (this.error) throw this.error;
    if (this.pending.length) this.pending.push(b);
    else this.copyIn(b);
  }

  ready(): Promise<void> | undefined {
    if (this.error) return Promise.reject(this.error);
    if (!this.pending.length) return undefined;
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The hex digest, after every byte given. */
  async digest(): Promise<string> {
    await this.ready();
    if (this.cur >= 0 && this.fill > 0) this.post();
    return new Promise<string>((resolve, reject) => {
      if (this.error) return reject(this.error);
      this.digested = { resolve, reject };
      this.p.w.postMessage({ t: 'd', id: this.id });
    });
  }

  discard(): void {
    if (!this.p.active.has(this.id)) return;
    this.p.w.postMessage({ t: 'x', id: this.id });
    this.pending = [];
    this.release();
  }

  /** Copy as much as the free slots take; queue the rest. */
  private copyIn(b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      if (this.cur < 0) {
        const k = this.free.pop();
        if (k === undefined) {
          this.pending.push(off ? b.subarray(off) : b);
          return;
        }
        this.cur = k;
        this.fill = 0;
      }
      const n = Math.min(b.length - off, SLOT - this.fill);
      const at = this.cur * SLOT + this.fill;
      // fill() with a buffer of exactly the range's length is one native memcpy; copy()/set() into
      // shared memory is V8's word-by-word relaxed copy, which cost 2× the AES-GCM on the main thread
      this.view.fill(b.subarray(off, off + n), at, at + n);
      this.used = Math.max(this.used, at + n);
      this.fill += n;
      off += n;
      if (this.fill === SLOT) this.post();
    }
  }

  private post(): void {
    this.p.w.postMessage({ t: 'u', id: this.id, k: this.cur, n: this.fill, slot: SLOT });
    this.cur = -1;
    this.fill = 0;
  }

  /** @internal */
  onMessage(m: Msg): void {
    if (m.t === 'a') {
      this.free.push(m.k);
      const q = this.pending;
      this.pending = [];
      for (const b of q) this.update(b);
      if (this.pending.length) return;
      const w = this.waiters;
      this.waiters = [];
      for (const x of w) x.resolve();
    } else {
      this.release();
      this.digested?.resolve(m.hex);
    }
  }

  /** @internal */
  onError(e: Error): void {
    this.error = e;
    this.pending = [];
    this.release();
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(e);
    this.digested?.reject(e);
  }

  private release(): void {
    if (!this.p.active.delete(this.id)) return;
    if (this.p.active.size === 0) this.p.w.unref();
    this.view.fill(0, 0, this.used); // no plaintext left behind
    if (idleRings.length < IDLE_RINGS) idleRings.push(this.ring);
  }
}

/** The same interface on the calling thread (`hashOffThread: false`). */
export class LocalSha256 implements StreamHash {
  private readonly h = createHash('sha256');
  update(b: Buffer): void {
    this.h.update(b);
  }
  ready(): undefined {
    return undefined;
  }
  digest(): Promise<string> {
    return Promise.resolve(this.h.digest('hex'));
  }
  discard(): void {}
}
