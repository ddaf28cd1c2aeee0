/**
 * The retention rule of a thing's data-flow policy (X7, `retentionDays`), one place for the
 * gateway: data anchored at `at` is kept `days` days. The chaincode applies the same rule to
 * stored objects (data:ExpireData); the telemetry batch log and the storage pass apply it here.
 */

/** The chaincode's default `retentionDays` (thing-store.ts CLOSED_POLICY), when none is known. */
export const DEFAULT_RETENTION_DAYS = 365;
const DAY_MS = 86_400_000;

/** When data anchored at `at` (ms) and kept `days` days is due for removal. */
export const expiresAt = (at: number, days: number) => at + days * DAY_MS;
