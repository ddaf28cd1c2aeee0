import { denied } from '../common/errors';
import type { Caller } from './identity';

/** What a rule answers: allowed or not, and always why. */
export interface Decision {
  allowed: boolean;
  reason: string;
  grantId?: string;
}

export const allow = (reason: string, grantId?: string): Decision => ({ allowed: true, reason, ...(grantId ? { grantId } : {}) });
export const deny = (reason: string): Decision => ({ allowed: false, reason });

/**
 * A domain's policy: action name → rule. A rule takes the caller and the facts its action is
 * decided on (typed per action; rules that need none take only the caller).
 */
export type PolicyTable = Record<string, (caller: Caller, facts: never) => Decision>;

/** A fact the rule needs but the record it comes from may lack: refuse with DENIED. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw denied(`authorization needs ${what}`);
  return value;
}

/** Throw DENIED with the reason unless allowed. */
export function enforce(decision: Decision): Decision {
  if (!decision.allowed) throw denied(decision.reason);
  return decision;
}
