import type { Context } from 'fabric-contract-api';

/**
 * Time comes only from the transaction timestamp (set by the client in the proposal header and
 * identical on every endorser); never from the peer's clock.
 */
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
