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
 * when most of its lines are dead. A key whose first attempt was cut short by a crash (started,
 * no outcome) runs again on retry: the chaincode's own uniqueness rules (ids, state machines)
 * then refuse a second effect. Keys are stored as SHA-256 of caller and key, never in clear.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Request } from 'express';
import { callerKey, type Caller } from './auth/principal.js';
import { ApiError } from './http/problem.js';
import type { Reply } from './http/routes.js';

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
}

/** One line of the journal: `o` absent = started. */
interface Line {
  k: string;
  f: string;
  e: number;
  o?: Outcome;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

export interface IdempotencyOptions {
  /** Most keys kept; the oldest are forgotten beyond it. */
  maxEntries?: number;
  /** Journal file; undefined: memory only. */
  file?: string;
}

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly file?: string;
  private lines = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    options: IdempotencyOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.file = options.file;
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
      // Started before a restart, outcome unknown: run it again (the ledger refuses a second effect).
    }
    const entry: Entry = { fingerprint, expiresAt: this.now() + this.ttlMs, running: true };
    this.entries.delete(id);
    this.entries.set(id, entry);
    this.append({ k: id, f: fingerprint, e: entry.expiresAt });
    let reply: Reply;
    try {
      reply = await exec();
    } catch (error) {
      entry.running = false;
      // Only a definite answer is kept: a 5xx or an unexpected failure may be retried.
      if (!(error instanceof ApiError) || error.status >= 500) {
        if (this.entries.get(id) === entry) this.entries.delete(id);
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
      live.push(JSON.stringify({ k, f: e.fingerprint, e: e.expiresAt, ...(e.outcome ? { o: e.outcome } : {}) } satisfies Line));
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
