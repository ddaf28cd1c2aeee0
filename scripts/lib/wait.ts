/** Polling with a deadline: every wait in the scripts goes through here, never a bare sleep. */
import { setTimeout as delay } from 'node:timers/promises';
import { OperatorError } from './log.js';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Extra text for the timeout error, e.g. a log tail. */
  onTimeout?: () => string;
}

/** Poll `probe` until it returns a non-undefined value; throw a clear error after the timeout. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let interval = opts.intervalMs ?? 200;
  let lastError = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof OperatorError) throw e; // the thing waited for has failed for good
      lastError = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const detail = [lastError && `last error: ${lastError}`, opts.onTimeout?.()].filter(Boolean).join('\n');
      throw new OperatorError(`timed out after ${opts.timeoutMs / 1000}s waiting for ${what}${detail ? `\n${detail}` : ''}`);
    }
    await delay(interval);
    interval = Math.min(interval * 1.5, 2000);
  }
}

/** Retry an action with backoff while it throws (e.g. right after Raft elects a leader). */
export async function retry<T>(what: string, action: () => Promise<T>, opts: WaitOptions): Promise<T> {
  // A failed command is an OperatorError, which waitFor takes as final: here it is one more try.
  return waitFor(
    what,
    async () => {
      try {
        return await action();
      } catch (e) {
        throw new Error((e as Error).message);
      }
    },
    opts,
  );
}
