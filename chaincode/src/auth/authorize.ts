import { accessPolicy } from '../access/access-policy';
import { alertPolicy } from '../alert/alert-policy';
import { auditPolicy } from '../audit/audit-policy';
import { avatarPolicy } from '../avatar/avatar-policy';
import { benchPolicy } from '../bench/bench-policy';
import { dataPolicy } from '../data/data-policy';
import { dpmPolicy } from '../dpm/dpm-policy';
import { governancePolicy } from '../governance/governance-policy';
import { identityPolicy } from '../identity/identity-policy';
import { platformPolicy } from '../platform/platform-policy';
import { thingPolicy } from '../thing/thing-policy';
import { transferPolicy } from '../transfer/transfer-policy';
import { type Decision, deny } from './decision';
import type { Caller } from './identity';

/**
 * The one entry point that decides who may do what (A1, A2). Deny by default: an action no
 * domain policy lists, or a caller without a known role, is refused, and every refusal says why.
 * Each domain's table (beside its contract) says who may do what and which facts it needs.
 */
export const POLICIES = {
  platform: platformPolicy,
  thing: thingPolicy,
  avatar: avatarPolicy,
  access: accessPolicy,
  data: dataPolicy,
  transfer: transferPolicy,
  dpm: dpmPolicy,
  alert: alertPolicy,
  audit: auditPolicy,
  bench: benchPolicy,
  governance: governancePolicy,
  identity: identityPolicy,
} as const;

const RULES = {
  ...platformPolicy,
  ...thingPolicy,
  ...avatarPolicy,
  ...accessPolicy,
  ...dataPolicy,
  ...transferPolicy,
  ...dpmPolicy,
  ...alertPolicy,
  ...auditPolicy,
  ...benchPolicy,
  ...governancePolicy,
  ...identityPolicy,
};
type Rules = typeof RULES;

/** Every action some domain policy decides. */
export type Action = keyof Rules;

/** What an action without facts takes: nothing (or an empty object). */
type NoFacts = Record<string, never>;

/** Facts of each action: the second parameter of its rule, or none. */
export type FactsByAction = { [A in Action]: Parameters<Rules[A]> extends [Caller, infer F] ? F : NoFacts };

/** Facts `action` is decided on; for a union of actions, facts that satisfy every one of them. */
export type FactsOf<A extends Action> = { [K in A]: (facts: FactsByAction[K]) => void }[A] extends (facts: infer F) => void ? F : never;

/** The facts argument: optional for actions that need none (and for `never`, an action no table lists). */
export type FactsArg<A extends Action> = [A] extends [never]
  ? [facts?: NoFacts]
  : [FactsOf<A>] extends [NoFacts]
    ? [facts?: NoFacts]
    : [facts: FactsOf<A>];

/** Decide `action` for `caller` on `facts`. Deny by default. */
export function authorize<A extends Action>(caller: Caller, action: A, ...[facts]: FactsArg<A>): Decision {
  if (caller.role === null) {
    // Trust rule 1: a role from a CA whose organisation may not issue it is no role.
    if (caller.unrecognised) return deny(caller.unrecognised.reason);
    return deny(`the certificate of ${caller.mspId} caller has no known 'role' attribute; ask your CA admin to issue one`);
  }
  // Own properties only: 'toString' or '__proto__' are not actions.
  if (!Object.prototype.hasOwnProperty.call(RULES, action)) return deny(`action ${String(action)} is not defined`);
  const rule = RULES[action] as (caller: Caller, facts: FactsOf<A> | NoFacts) => Decision;
  return rule(caller, facts ?? {});
}
