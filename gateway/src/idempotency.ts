/**
 * Idempotency keys: a retried write with the same Idempotency-Key (per caller) gets the first
 * outcome back instead of making a second transaction. A concurrent retry waits for the first.
 * A different request under the same key is refused (422). Transient failures (5xx) free the key.
 */
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { callerKey, type Caller } from './auth/principal.js';
import { ApiError } from './http/problem.js';
import type { Reply } from './http/routes.js';

interface Entry {
  fingerprint: string;
  outcome: Promise<{ reply?: Reply; error?: unknown }>;
  expiresAt: number;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  async run(req: Request, caller: Caller, exec: () => Promise<Reply>): Promise<Reply & { replayed?: boolean }> {
    const key = req.headers['idempotency-key'];
    if (key === undefined) return exec();
    if (typeof key !== 'string' || !KEY.test(key))
      throw new ApiError(400, 'Idempotency-Key must be 1–255 visible ASCII characters', 'validation');
    this.sweep();
    const id = `${callerKey(caller)}\u0000${key}`;
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.originalUrl.split('?')[0]}\n`)
      .update(JSON.stringify(req.body ?? null))
      .digest('hex');
    const existing = this.entries.get(id);
    if (existing) {
      if (existing.fingerprint !== fingerprint) {
        throw new ApiError(422, `Idempotency-Key ${key} was already used for a different request`, 'idempotency-key-reused');
      }
      const { reply, error } = await existing.outcome;
      if (error) throw error;
      return { ...reply!, replayed: true };
    }
    const outcome: Entry['outcome'] = exec().then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    );
    const entry: Entry = { fingerprint, outcome, expiresAt: this.now() + this.ttlMs };
    this.entries.set(id, entry);
    const { reply, error } = await outcome;
    if (error) {
      // Only a definite answer is kept: a 5xx or an unexpected failure may be retried.
      if (!(error instanceof ApiError) || error.status >= 500) this.entries.delete(id);
      throw error;
    }
    return reply!;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
