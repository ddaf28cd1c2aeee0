/**
 * Reading signatures verified on a small pool of worker threads (issue 5: ECDSA P-256 verification
 * is 75–90 % of the CPU a reading costs). A request's readings are cut into chunks; each chunk goes to
 * the least-loaded worker, which — for every reading — encodes the canonical text as UTF-8, hashes
 * it (the Merkle leaf, SHA-256) and verifies the signature with the signer's key, synchronously, in
 * a tight loop. One message per chunk instead of one libuv job and one callback per reading; both
 * cores verify while the main thread parses the next request.
 *
 * The signature rules are those of signature.ts (`decodeSignature`, `verifyReading`): base64 or
 * base64url of the 64-byte r‖s, or of a DER signature; anything else does not verify. The unit
 * tests check the pool against `verifyReading` on the same cases.
 */
import { availableParallelism } from 'node:os';
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { readingSetText } from 'mvsec-protocol';

/** The worker: plain JavaScript (a worker thread cannot load TypeScript through tsx). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { verify, hash, createHash } = require('node:crypto');
const B64 = /^[A-Za-z0-9+/_-]+=*$/;
const sigOf = (s) => {
  if (!B64.test(s)) return undefined;
  const sig = Buffer.from(s, 'base64');
  const der = sig.length !== 64;
  if (der && !(sig.length >= 8 && sig.length <= 72 && sig[0] === 0x30)) return undefined;
  return { sig, dsaEncoding: der ? 'der' : 'ieee-p1363' };
};
const check = (key, bytes, s) => {
  const d = sigOf(s);
  if (!d) return 0;
  try {
    return verify('sha256', bytes, { key, dsaEncoding: d.dsaEncoding }, d.sig) ? 1 : 0;
  } catch {
    return 0;
  }
};
// A signed set: every leaf, their Merkle root (merkle.ts convention), one verification of the set's text.
const verifySet = ({ id, key, texts, set }) => {
  let level = texts.map((t) => hash('sha256', Buffer.from(t, 'utf8'), 'buffer'));
  const leaves = level.map((l) => l.toString('hex'));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) next.push(createHash('sha256').update(level[i]).update(level[i + 1] ?? level[i]).digest());
    level = next;
  }
  const root = level[0].toString('hex');
  const ok = new Uint8Array([check(key, Buffer.from(set.before + root + set.after, 'utf8'), set.signature)]);
  parentPort.postMessage({ id, ok, leaves, root });
};
parentPort.on('message', (m) => {
  if (m.set) return verifySet(m);
  const { id, key, texts, signatures } = m;
  const ok = new Uint8Array(texts.length);
  const leaves = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const bytes = Buffer.from(texts[i], 'utf8');
    leaves[i] = hash('sha256', bytes, 'hex');
    ok[i] = check(key, bytes, signatures[i]);
  }
  parentPort.postMessage({ id, ok, leaves });
});
`;

export interface Verified {
  /** Per reading: the signature verifies with the key. */
  ok: boolean[];
  /** Per reading: SHA-256 (hex) of its canonical bytes — its Merkle leaf. */
  leaves: string[];
}

interface Answer {
  ok: Uint8Array;
  leaves: string[];
  /** For a set: the Merkle root of its leaves. */
  root?: string;
}

interface Task {
  resolve(r: Answer): void;
  reject(e: Error): void;
  size: number;
}

interface Slot {
  worker: Worker;
  load: number;
  tasks: Map<number, Task>;
}

export class VerifyPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  /**
   * @param threads worker threads (default: the machine's available parallelism, at most 4)
   * @param chunk at most this many readings per message (a request is also cut so that every worker gets a share)
   */
  constructor(
    private readonly threads = Math.max(1, Math.min(4, availableParallelism())),
    private readonly chunk = 256,
  ) {}

  /** Verify each canonical reading text against its signature with `key`, and hash it. */
  async verify(key: KeyObject, texts: string[], signatures: string[]): Promise<Verified> {
    if (texts.length !== signatures.length) throw new Error('one signature per reading');
    if (this.closed) throw new Error('the verify pool is closed');
    const n = texts.length;
    const size = Math.max(16, Math.min(this.chunk, Math.ceil(n / this.threads)));
    const parts: Promise<Answer>[] = [];
    for (let i = 0; i < n; i += size) parts.push(this.run(key, texts.slice(i, i + size), { signatures: signatures.slice(i, i + size) }));
    const done = await Promise.all(parts);
    const ok: boolean[] = [];
    const leaves: string[] = [];
    for (const d of done) {
      for (let i = 0; i < d.ok.length; i++) ok.push(d.ok[i] === 1);
      for (const l of d.leaves) leaves.push(l);
    }
    return { ok, leaves };
  }

  /**
   * Verify one signature over a whole set of readings (canonical.ts `readingSetText`): the worker
   * hashes every reading (its leaf), computes the set's Merkle root and verifies the signature of
   * the set's text once. `ok` is that one verdict.
   */
  async verifySet(
    key: KeyObject,
    thingId: string,
    texts: string[],
    signature: string,
  ): Promise<{ ok: boolean; leaves: string[]; root: string }> {
    if (this.closed) throw new Error('the verify pool is closed');
    if (!texts.length) throw new Error('a reading set needs at least one reading');
    // The set's text around its root, so the worker writes exactly what readingSetText writes.
    const mark = '@root@';
    const text = readingSetText(thingId, mark, texts.length);
    const at = text.indexOf(mark);
    const set = { signature, before: text.slice(0, at), after: text.slice(at + mark.length) };
    const a = await this.run(key, texts, { set });
    return { ok: a.ok[0] === 1, leaves: a.leaves, root: a.root! };
  }

  private run(key: KeyObject, texts: string[], rest: { signatures: string[] } | { set: object }): Promise<Answer> {
    const slot = this.leastLoaded();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.tasks.set(id, { resolve, reject, size: texts.length });
      slot.load += texts.length;
      if (slot.tasks.size === 1) slot.worker.ref();
      slot.worker.postMessage({ id, key, texts, ...rest });
    });
  }

  private leastLoaded(): Slot {
    while (this.slots.length < this.threads) this.slots.push(this.spawn());
    let best = this.slots[0];
    for (const s of this.slots) if (s.load < best.load) best = s;
    return best;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slot: Slot = { worker, load: 0, tasks: new Map() };
    worker.unref(); // referenced only while it has work, so an idle pool never keeps the process alive
    worker.on('message', (m: Answer & { id: number }) => {
      const t = slot.tasks.get(m.id);
      if (!t) return;
      slot.tasks.delete(m.id);
      slot.load -= t.size;
      if (!slot.tasks.size) worker.unref();
      t.resolve(m);
    });
    const fail = (e: Error) => {
      // A worker that died takes its tasks with it; the next verification spawns a fresh one.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const t of slot.tasks.values()) t.reject(e);
      slot.tasks.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`signature verification worker exited (code ${code})`)));
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
