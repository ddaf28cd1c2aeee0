import type { AccessAction, Grant, ResourceType } from '../access/grant-types';
import { ANY_PURPOSE } from '../access/grant-types';
import type { Avatar } from '../avatar/avatar-types';
import { expiredSafely, isoOf, MAX_SKEW_MS, startedSafely } from '../common/time';
import type { DataAnchor } from '../data/data-types';
import type { Thing } from '../thing/thing-types';
import { avatarControl, thingControl, thingUsable } from './control';
import { allow, type Decision, deny } from './decision';
import { type Caller, describe } from './identity';
import { hasLevel, isPrincipal } from './rights';

/** A resource an access decision is about, with the records it hangs from. */
export interface AccessTarget {
  type: ResourceType;
  id: string;
  thing: Thing;
  avatar?: Avatar;
  data?: DataAnchor;
  /** grants on the resource and on the records it belongs to (data → avatar → thing) */
  grants: Grant[];
}

/** The grant names the caller as grantee (principal, MSP or role). */
export function grantMatchesCaller(grant: Grant, caller: Caller): boolean {
  const g = grant.grantee;
  switch (g.type) {
    case 'PRINCIPAL':
      return caller.principal === g.id && caller.mspId === g.mspId;
    case 'MSP':
      return caller.mspId === g.id;
    case 'ROLE':
      return caller.role === g.id && (!g.mspId || caller.mspId === g.mspId);
    default:
      return false;
  }
}

/**
 * Rule 2 (time): a grant whose validFrom is later than its creation starts on the safe side,
 * `validFrom + skew` (a forward-dated proposal cannot use it early); one valid from its
 * creation did not exist before, so it starts at validFrom. Its expiry is refused from
 * `validUntil − skew` (a backdated proposal cannot use it late).
 */
function grantStarted(grant: Grant, now: number): boolean {
  const from = Date.parse(grant.validFrom);
  return from > Date.parse(grant.createdAt) ? startedSafely(from, now) : from <= now;
}

/** The access rule shared by CheckAccess and every write function that moves or uses data. */
export function decideAccess(caller: Caller, target: AccessTarget, action: AccessAction, purpose: string, now: number): Decision {
  const { thing, avatar, data } = target;
  const unusable = thingUsable(thing);
  if (unusable) return unusable;
  if (avatar && avatar.status !== 'ACTIVE') return deny(`avatar ${avatar.avatarId} is ${avatar.status}`);
  if (data && data.stage === 'DELETED') return deny(`data ${data.dataId} is deleted`);

  const control = thingControl(caller, thing);
  if (control.allowed) return control;
  if (avatar) {
    const viaAvatar = avatarControl(caller, avatar, thing);
    if (viaAvatar.allowed) return viaAvatar;
  }
  if (data && isPrincipal(caller, data.ownerMspId, data.owner) && hasLevel(caller, 'user')) {
    return allow(`caller owns data ${data.dataId}`);
  }
  // F4: an autonomous thing signs for itself; a constrained thing's IoT gateway signs for it.
  if ((action === 'write' || action === 'read') && target.type !== 'AVATAR' && caller.mspId === thing.mspId) {
    if (thing.accessMode === 'AUTONOMOUS' && caller.principal === thing.thingId)
      return allow(`caller is thing ${thing.thingId} itself (autonomous access)`);
    if (thing.accessMode === 'GATEWAY' && caller.principal === thing.gatewayId)
      return allow(`caller is gateway ${thing.gatewayId} of thing ${thing.thingId}`);
  }

  const misses: string[] = [];
  for (const grant of target.grants) {
    if (!grantMatchesCaller(grant, caller)) continue;
    if (grant.status !== 'ACTIVE') {
      misses.push(`grant ${grant.grantId} is ${grant.status}`);
    } else if (!grant.actions.includes(action)) {
      misses.push(`grant ${grant.grantId} does not include '${action}'`);
    } else if (grant.purpose !== ANY_PURPOSE && grant.purpose !== purpose) {
      misses.push(`grant ${grant.grantId} is for purpose '${grant.purpose}', not '${purpose}'`);
    } else if (!grantStarted(grant, now)) {
      misses.push(
        `grant ${grant.grantId} is valid from ${grant.validFrom} (usable from ${isoOf(Date.parse(grant.validFrom) + MAX_SKEW_MS)})`,
      );
    } else if (expiredSafely(Date.parse(grant.validUntil), now)) {
      misses.push(
        Date.parse(grant.validUntil) <= now
          ? `grant ${grant.grantId} expired at ${grant.validUntil}`
          : `grant ${grant.grantId} expires at ${grant.validUntil}: refused from ${isoOf(Date.parse(grant.validUntil) - MAX_SKEW_MS)} (clock skew bound ${MAX_SKEW_MS / 1000} s)`,
      );
    } else {
      return allow(
        `grant ${grant.grantId} gives '${action}' on ${grant.resourceType} ${grant.resourceId} for '${grant.purpose}'`,
        grant.grantId,
      );
    }
  }
  const base = `no grant gives ${describe(caller)} '${action}' on ${target.type} ${target.id} for purpose '${purpose}' at ${isoOf(now)}`;
  return deny(misses.length ? `${base}: ${misses.join('; ')}` : base);
}
