import type { Context } from 'fabric-contract-api';
import { TIME } from './config';
import { invalid } from './errors';

/**
 * Time on the ledger (issue "Chaincode trust rules", rule 2; docs/chaincode.md "What time means").
 *
 * State is only ever computed from the transaction timestamp, which the submitting client puts in
 * the proposal header and which is identical on every endorser. A hostile member chooses that
 * timestamp freely, so:
 * 1. every endorser refuses a proposal whose timestamp is further than `TIME.maxSkewMs` from
 *    its own clock (`assertFreshTimestamp`, run before every transaction by LedgerContract);
 * 2. every expiry or validity decision is taken on the safe side of that bound
 *    (`expiredSafely`, `notYetExpiredSafely`, `startedSafely`), so the ±skew the client may
 *    still choose never buys it an action the true time would refuse.
 */

/** The transaction timestamp in milliseconds (client-chosen, within ±skew of every endorser's clock). */
export function txMillis(ctx: Context): number {
  const ts = ctx.stub.getTxTimestamp();
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds.toString());
  return seconds * 1000 + Math.floor(ts.nanos / 1e6);
}

/** The transaction timestamp as an ISO-8601 UTC string with milliseconds (sortable). */
export function txTime(ctx: Context): string {
  return new Date(txMillis(ctx)).toISOString();
}

/** ISO string for a millisecond instant. */
export function isoOf(millis: number): string {
  return new Date(millis).toISOString();
}

/** The bound on |transaction timestamp − endorser clock|, identical on every peer (a constant of the chaincode package). */
export const MAX_SKEW_MS: number = TIME.maxSkewMs;

/** Where the endorser's own clock comes from; a LedgerContext supplies it (tests replace it). */
interface EndorserClock {
  endorserNow?: () => number;
}

/**
 * Refuse a proposal whose timestamp is more than MAX_SKEW_MS away from this endorser's clock.
 *
 * This is the one place the peer's clock (`Date.now()` in the chaincode process, which CCaaS runs
 * beside its peer) is read, and it may only *refuse*: it never reaches state, a result or an
 * event. Endorsement therefore stays deterministic for every proposal that is accepted — a
 * proposal inside the bound produces exactly the same read/write set on every peer, because
 * everything it writes is computed from the transaction timestamp alone; a proposal outside the
 * bound is refused (by the peers whose clocks say so, and a transaction then lacks the
 * endorsements its policy needs). Clocks of honest peers may differ by some seconds; a proposal
 * near the edge may then be endorsed by some and refused by others, which only ever fails the
 * transaction, never commits a different state.
 */
export function assertFreshTimestamp(ctx: Context): void {
  const c = ctx as Context & EndorserClock;
  const endorser = c.endorserNow ? c.endorserNow() : Date.now();
  const tx = txMillis(ctx);
  const skew = tx - endorser;
  if (Math.abs(skew) > MAX_SKEW_MS) {
    throw invalid(
      `transaction timestamp ${isoOf(tx)} is ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? 'behind' : 'ahead of'} ` +
        `the endorser's clock (${isoOf(endorser)}); at most ${MAX_SKEW_MS / 1000} s of clock skew is accepted`,
    );
  }
}

/**
 * Has the instant `until` passed, leaning to the side where the thing expiring *can no longer be
 * used*: true from `until − skew` on. For decisions that use or execute something valid until
 * `until` (a grant, a transfer): a client backdating its proposal by up to the skew still cannot
 * use it once it may have expired in true time.
 */
export function expiredSafely(until: number, now: number): boolean {
  return now + MAX_SKEW_MS >= until;
}

/**
 * Has `until` certainly passed: true only from `until + skew` on. For decisions that end
 * something on the ground that it expired (marking a transfer expired, deleting data whose
 * retention ended): a client forward-dating its proposal by up to the skew cannot end it early.
 */
export function certainlyPassed(until: number, now: number): boolean {
  return now - MAX_SKEW_MS >= until;
}

/** The negation of `expiredSafely`: still usable, even for a client that backdated by the full skew. */
export function notYetExpiredSafely(until: number, now: number): boolean {
  return !expiredSafely(until, now);
}

/**
 * Has something that starts at `from` certainly started: true from `from + skew` on (a grant's
 * validFrom in the future: forward-dating a proposal cannot use it early).
 */
export function startedSafely(from: number, now: number): boolean {
  return certainlyPassed(from, now);
}

/** A daily window of whole UTC hours [fromHour, toHour), wrapping past midnight when fromHour > toHour. */
export interface HourWindow {
  fromHour: number;
  toHour: number;
}

function insideHour(window: HourWindow, millis: number): boolean {
  const hour = new Date(millis).getUTCHours();
  return window.fromHour <= window.toHour
    ? hour >= window.fromHour && hour < window.toHour
    : hour >= window.fromHour || hour < window.toHour;
}

/**
 * Is `now` inside the window for every clock within the skew bound: both `now − skew` and
 * `now + skew` fall inside (a window and its gap are whole hours, longer than 2·skew, so the
 * interval between them lies inside too). Neither backdating nor forward-dating a proposal moves
 * a transmission into the window.
 */
export function insideHourWindowSafely(window: HourWindow, now: number): boolean {
  return insideHour(window, now - MAX_SKEW_MS) && insideHour(window, now + MAX_SKEW_MS);
}
