/**
 * Idempotency keys: a retried write with the same Idempotency-Key (per caller) gets the first
 * outcome back instead of making a second transaction. While the first attempt still runs, a
 * retry is answered 409 `idempotency-in-progress` (Retry-After: 1) and does not transact. A
 * different request under the same key is refused (422). Transient failures (5xx) free the key.
 *
 * Durable when given a file (`<stateDir>/idempotency.jsonl`): every key is written when its first
 * attempt starts (so a reused key is still refused after a restart) and again with its outcome
 * (success, or a definite 4xx) before the reply is sent, as append-only JSON lines. Lines are
 * replayed at start, expired ones dropped; the file is rewritten (temporary file, then rename)
 * when most of its lines are dead. Ledger routes also journal their transaction as soon as it is
 * endorsed (tx id and reply, `journalEndorsed`): a retry of a key whose first attempt was cut short
 * after that point (gateway crash, orderers unreachable) asks the ledger whether the transaction
 * committed and replays it if so. A key cut short before endorsement runs again. Keys are stored
 * as SHA-256 of caller and key, never in clear.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Request } from 'express';
import { callerKey, type Caller } from '../auth/principal.js';
import type { SubmitOptions, TransactionStatus } from '../ledger/ledger.js';
import { ApiError } from './problem.js';
import type { Reply } from './routes.js';

type Outcome = { reply: Reply } | { error: SavedError };

interface SavedError {
  status: number;
  detail: string;
  kind: string;
  extra: ApiError['extra'];
}

interface Entry {
  fingerprint: string;
  expiresAt: number;
  /** Settled outcome (memory and file); undefined while the first attempt runs or after a crash cut it short. */
  outcome?: Outcome;
  /** The first attempt runs in this process now. */
  running: boolean;
  /** The reply of a transaction endorsed and sent to the orderers, before its commit was seen. */
  pending?: { txId: string; body: unknown };
}

/** One line of the journal: `o` the outcome, `p` an endorsed transaction's reply; neither = started. */
interface Line {
  k: string;
  f: string;
  e: number;
  o?: Outcome;
  p?: { txId: string; body: unknown };
}

const endorsed = new AsyncLocalStorage<(txId: string, body: unknown) => void>();

/**
 * For routes whose reply is the submission itself (`{txId, result}`): journal it as soon as the
 * proposal is endorsed, before it is sent to the orderers. After a crash, a retry then asks the
 * ledger whether that transaction committed and replays it instead of transacting again.
 */
/** Submit options that journal the submission once endorsed (the reply is the submission itself: `{txId, result}`). */
export function journaled(options: SubmitOptions = {}): SubmitOptions {
  return { ...options, onEndorsed: (txId, result) => journalEndorsed(txId, { txId, result }) };
}

export function journalEndorsed(txId: string, body: unknown): void {
  endorsed.getStore()?.(txId, body);
}

const KEY = /^[\x21-\x7e]{1,255}$/;

export interface IdempotencyOptions {
  /** Most keys kept; the oldest are forgotten beyond it. */
  maxEntries?: number;
  /** Journal file; undefined: memory only. */
  file?: string;
  /** The ledger's verdict on a transaction id (to settle a key whose first attempt was cut short after endorsement). */
  verify?: (caller: Caller, txId: string) => Promise<TransactionStatus>;
}

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly file?: string;
  private readonly verify?: IdempotencyOptions['verify'];
  private lines = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    options: IdempotencyOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.file = options.file;
    this.verify = options.verify;
    if (this.file) this.load(this.file);
  }

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  async run(req: Request, caller: Caller, exec: () => Promise<Reply>): Promise<Reply & { replayed?: boolean }> {
    const key = req.headers['idempotency-key'];
    if (key === undefined) return exec();
    if (typeof key !== 'string' || !KEY.test(key))
      throw new ApiError(400, 'Idempotency-Key must be 1–255 visible ASCII characters', 'validation');
    this.sweep();
    const id = createHash('sha256')
      .update(`${callerKey(caller)}\u0000${key}`)
      .digest('hex');
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.originalUrl.split('?')[0]}\n`)
      .update(JSON.stringify(req.body ?? null))
      .digest('hex');
    const existing = this.entries.get(id);
    if (existing) {
      if (existing.fingerprint !== fingerprint) {
        throw new ApiError(422, `Idempotency-Key ${key} was already used for a different request`, 'idempotency-key-reused');
      }
      if (existing.running) {
        throw new ApiError(
          409,
          `the first request with Idempotency-Key ${key} is still in progress; retry shortly`,
          'idempotency-in-progress',
          {
            headers: { 'Retry-After': '1' },
          },
        );
      }
      if (existing.outcome) {
        if ('error' in existing.outcome) throw toError(existing.outcome.error);
        return { ...existing.outcome.reply, replayed: true };
      }
      if (existing.pending && this.verify) {
        const replay = await this.settlePending(id, existing, caller);
        if (replay) return replay;
      }
      // Started before a restart and not committed (or never endorsed): run it again.
    }
    const entry: Entry = { fingerprint, expiresAt: this.now() + this.ttlMs, running: true };
    this.entries.delete(id);
    this.entries.set(id, entry);
    this.append({ k: id, f: fingerprint, e: entry.expiresAt });
    let reply: Reply;
    try {
      reply = await endorsed.run((txId, body) => {
        entry.pending = { txId, body };
        this.append({ k: id, f: fingerprint, e: entry.expiresAt, p: entry.pending });
      }, exec);
    } catch (error) {
      entry.running = false;
      // Only a definite answer is kept: a 5xx or an unexpected failure may be retried.
      if (!(error instanceof ApiError) || error.status >= 500) {
        // Sent to the orderers but unconfirmed (e.g. the ordering service was unreachable): keep the
        // key so that the retry asks the ledger about that transaction before making another.
        if (this.entries.get(id) === entry && !(entry.pending && this.verify)) this.entries.delete(id);
      } else {
        entry.outcome = { error: { status: error.status, detail: error.detail, kind: error.kind, extra: error.extra } };
        this.append({ k: id, f: fingerprint, e: entry.expiresAt, o: entry.outcome });
      }
      throw error;
    }
    entry.running = false;
    entry.outcome = { reply: { ...(reply.status !== undefined ? { status: reply.status } : {}), body: reply.body } };
    this.append({ k: id, f: fingerprint, e: entry.expiresAt, o: entry.outcome });
    return reply;
  }

  /**
   * A key whose transaction was endorsed and sent before a crash: if the ledger committed it
   * (VALID), that is the outcome, replayed; if it was invalidated or never arrived, undefined (run again).
   */
  private async settlePending(id: string, entry: Entry, caller: Caller): Promise<(Reply & { replayed: true }) | undefined> {
    const { txId, body } = entry.pending!;
    entry.running = true;
    try {
      let status: TransactionStatus = 'UNKNOWN';
      // A transaction sent just before the crash may still be in ordering: ask a few times.
      for (let i = 0; i < 4; i++) {
        status = await this.verify!(caller, txId);
        if (status !== 'UNKNOWN') break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (status !== 'VALID') {
        entry.pending = undefined;
        return undefined;
      }
      entry.outcome = { reply: { body } };
      this.append({ k: id, f: entry.fingerprint, e: entry.expiresAt, o: entry.outcome });
      return { body, replayed: true };
    } finally {
      entry.running = false;
    }
  }

  /** Forget expired keys (entries are in expiry order: stop at the first live one) and the oldest beyond the cap. */
  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (e.expiresAt > now) break;
      if (!e.running) this.entries.delete(k);
    }
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    if (this.file && this.lines > 1000 && this.lines > 4 * this.entries.size) this.compact(this.file);
  }

  private append(line: Line): void {
    if (!this.file) return;
    appendFileSync(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
    this.lines++;
  }

  private load(file: string): void {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const now = this.now();
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      this.lines++;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // a torn last line after a crash: that key's outcome is unknown, as if it had not finished
      }
      if (typeof line.k !== 'string' || typeof line.f !== 'string' || typeof line.e !== 'number' || line.e <= now) continue;
      const prev = this.entries.get(line.k);
      if (line.p && prev && !line.o) {
        prev.pending = line.p;
        continue;
      }
      this.entries.delete(line.k);
      this.entries.set(line.k, { fingerprint: line.f, expiresAt: line.e, running: false, ...(line.o ? { outcome: line.o } : {}) });
    }
    this.sweep();
    this.compact(file);
  }

  /** Rewrite the journal with the live keys only. */
  private compact(file: string): void {
    const now = this.now();
    const live: string[] = [];
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now || e.running) continue;
      live.push(
        JSON.stringify({
          k,
          f: e.fingerprint,
          e: e.expiresAt,
          ...(e.outcome ? { o: e.outcome } : e.pending ? { p: e.pending } : {}),
        } satisfies Line),
      );
    }
    // Keys whose first attempt runs now are journalled again by their own completion; keep their start too.
    for (const [k, e] of this.entries) if (e.running) live.push(JSON.stringify({ k, f: e.fingerprint, e: e.expiresAt } satisfies Line));
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, live.length ? `${live.join('\n')}\n` : '', { mode: 0o600 });
    renameSync(tmp, file);
    this.lines = live.length;
  }
}

function toError(e: SavedError): ApiError {
  return new ApiError(e.status, e.detail, e.kind, e.extra);
}
