/**
 * Sliding one-minute windows per key (a client address, a principal). Memory stays bounded: the
 * map is kept in order of last hit, so idle keys are pruned from its front.
 */
import { ApiError } from '../http/problem.js';

const WINDOW_MS = 60_000;

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  /** `perMinute` 0 means unlimited. */
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Count a hit of `key`; over the limit, throw 429 with Retry-After (the refused hit is not counted). */
  take(key: string, what: string): void {
    if (this.perMinute <= 0) return;
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
    this.hits.delete(key);
    if (recent.length >= this.perMinute) {
      this.hits.set(key, recent);
      const retry = Math.max(1, Math.ceil((recent[0] + WINDOW_MS - now) / 1000));
      throw new ApiError(429, `too many ${what}; retry in ${retry} s`, 'rate-limited', { headers: { 'Retry-After': String(retry) } });
    }
    recent.push(now);
    this.hits.set(key, recent);
    this.prune(now);
  }

  /** Keys currently tracked (for tests of the bound). */
  get size(): number {
    return this.hits.size;
  }

  private prune(now: number): void {
    for (const [key, times] of this.hits) {
      const idle = now - times[times.length - 1] >= WINDOW_MS;
      if (!idle && this.hits.size <= this.maxKeys) return;
      this.hits.delete(key);
    }
  }
}
