import type { Avatar } from '../avatar/avatar-types';
import type { Thing } from '../thing/thing-types';
import { allow, type Decision, deny } from './decision';
import { type Caller, describe } from './identity';
import { hasLevel, isAdminOf, isPrincipal } from './rights';

/** Owner, listed thing agent, or admin of the thing's MSP. */
export function thingControl(caller: Caller, thing: Thing): Decision {
  if (isAdminOf(caller, thing.mspId)) return allow(`caller is an admin of ${thing.mspId}, which registered thing ${thing.thingId}`);
  if (isPrincipal(caller, thing.mspId, thing.owner) && hasLevel(caller, 'user')) return allow(`caller owns thing ${thing.thingId}`);
  if (caller.role === 'thing-agent' && caller.mspId === thing.mspId && caller.principal && thing.agents.includes(caller.principal)) {
    return allow(`caller is an agent of thing ${thing.thingId}`);
  }
  return deny(`${describe(caller)} is not the owner, an agent or an ${thing.mspId} admin of thing ${thing.thingId}`);
}

/** Thing owner, listed avatar agent, or admin of the avatar's metaverse MSP. */
export function avatarControl(caller: Caller, avatar: Avatar, thing: Thing): Decision {
  if (isAdminOf(caller, avatar.mspId)) return allow(`caller is an admin of ${avatar.mspId}, which hosts avatar ${avatar.avatarId}`);
  if (isPrincipal(caller, thing.mspId, thing.owner) && hasLevel(caller, 'user'))
    return allow(`caller owns thing ${thing.thingId} of avatar ${avatar.avatarId}`);
  if (caller.role === 'avatar-agent' && caller.mspId === avatar.mspId && caller.principal && avatar.agents.includes(caller.principal)) {
    return allow(`caller is an agent of avatar ${avatar.avatarId}`);
  }
  return deny(`${describe(caller)} is not the owner, an agent or an ${avatar.mspId} admin of avatar ${avatar.avatarId}`);
}

/** A refusal when the thing is not ACTIVE, else undefined. */
export function thingUsable(thing: Thing): Decision | undefined {
  if (thing.status !== 'ACTIVE') {
    return deny(`thing ${thing.thingId} is ${thing.status}${thing.statusReason ? ` (${thing.statusReason})` : ''}`);
  }
  return undefined;
}
