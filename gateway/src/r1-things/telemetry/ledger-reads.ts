/**
 * Telemetry's ledger reads, as the caller's own Fabric identity and cached `cacheTtlMs`: thing
 * records (GetThing) and the caller's write right (CheckAccess). Failures answer problems: the
 * ledger's refusal, or 503 ledger-unavailable when the ledger did not answer.
 */
import type { Thing } from 'mvsec-protocol';
import { callerKey, type Caller } from '../../auth/principal.js';
import { ledgerProblem } from '../../http/ledger-errors.js';
import { ApiError } from '../../http/problem.js';
import type { LedgerClient } from '../../ledger/client.js';

export interface Decision {
  allowed: boolean;
  reason: string;
}

interface Cached<T> {
  at: number;
  value: T;
}

/** A failed ledger read as a problem. */
export const ledgerError = (e: unknown): ApiError => {
  if (e instanceof ApiError) return e;
  return ledgerProblem(e) ?? new ApiError(503, `the ledger did not answer: ${(e as Error)?.message ?? String(e)}`, 'ledger-unavailable');
};

export class TelemetryReads {
  private readonly things = new Map<string, Cached<Thing>>();
  private readonly access = new Map<string, Cached<Decision>>();

  constructor(
    readonly ledger: LedgerClient,
    readonly ttl: number,
    private readonly now: () => number,
  ) {}

  async thing(caller: Caller, thingId: string, fresh = false): Promise<Thing> {
    const c = this.things.get(thingId);
    if (!fresh && c && this.now() - c.at < this.ttl) return c.value;
    let t: Thing;
    try {
      t = await this.ledger.things.get(caller, thingId);
    } catch (e) {
      throw ledgerError(e);
    }
    this.things.set(thingId, { at: this.now(), value: t });
    return t;
  }

  /** Drop the cached record (the ledger refused something about the thing). */
  forget(thingId: string): void {
    this.things.delete(thingId);
  }

  /** The thing's retentionDays by the latest record this gateway has seen (any age), if any. */
  currentRetention(thingId: string): number | undefined {
    return this.things.get(thingId)?.value.policy?.retentionDays;
  }

  async mayWrite(caller: Caller, thingId: string): Promise<Decision> {
    const k = `${callerKey(caller)}\u0000${thingId}`;
    const c = this.access.get(k);
    if (c && this.now() - c.at < this.ttl) return c.value;
    const value = await this.check(caller, 'THING', thingId, 'write');
    this.access.set(k, { at: this.now(), value });
    return value;
  }

  /** CheckAccess as the caller, uncached; failures as problems. */
  async check(caller: Caller, type: 'THING' | 'AVATAR', id: string, action: 'read' | 'write'): Promise<Decision> {
    try {
      return await this.decide(caller, type, id, action);
    } catch (e) {
      throw ledgerError(e);
    }
  }

  /** CheckAccess as the caller, uncached; failures as the ledger layer throws them. */
  async decide(caller: Caller, type: 'THING' | 'AVATAR', id: string, action: 'read' | 'write'): Promise<Decision> {
    const d = await this.ledger.access.check(caller, { resourceType: type, resourceId: id, action, purpose: '*' });
    return { allowed: d?.allowed === true, reason: d?.reason ?? 'access denied' };
  }
}
