import { avatarControl, thingUsable } from '../auth/control';
import { allow, type Decision, deny, type PolicyTable } from '../auth/decision';
import { type Caller, describe } from '../auth/identity';
import { hasLevel, isAdminOf, isPrincipal, isRole } from '../auth/rights';
import type { DataAnchor } from '../data/data-types';
import type { Platform } from '../platform/platform-types';
import { type Classification, classificationLevel, type Thing } from '../thing/thing-types';
import type { Avatar } from './avatar-types';

/**
 * Avatars and migrations:
 * - an admin, creator or avatar-agent of the metaverse's MSP proposes an avatar of an ACTIVE thing
 *   whose policy allows that metaverse (an avatar agent names no agents); the avatar is PENDING
 *   until the thing's owner or a thing agent it lists approves it (trust rule 8), or rejects it;
 * - the thing's owner, a listed avatar agent or an admin of the avatar's MSP manages the avatar;
 * - only an admin of the avatar's MSP resumes it;
 * - whoever manages the source avatar of an ACTIVE thing manages or starts a migration; the
 *   target avatar must be cleared for the data's classification (X2).
 */
/** The thing is ACTIVE and its policy allows the metaverse, else the refusal. */
function thingAllows(thing: Thing, metaverse: Platform): Decision | undefined {
  const unusable = thingUsable(thing);
  if (unusable) return unusable;
  if (!thing.policy.allowedMetaverses.includes(metaverse.platformId))
    return deny(`thing ${thing.thingId}'s policy does not allow metaverse ${metaverse.platformId}`);
  return undefined;
}

/**
 * Trust rule 8: who agrees for the thing to a mapping — its owner (the principal bound at
 * registration) or a thing agent it lists; not an admin, whose CA could name anyone.
 */
function thingSideOf(caller: Caller, thing: Thing, verb: string): Decision {
  if (isPrincipal(caller, thing.mspId, thing.owner) && hasLevel(caller, 'user')) return allow(`caller owns thing ${thing.thingId}`);
  if (caller.role === 'thing-agent' && caller.mspId === thing.mspId && caller.principal && thing.agents.includes(caller.principal))
    return allow(`caller is an agent of thing ${thing.thingId}`);
  return deny(
    `only the owner of thing ${thing.thingId} (${thing.owner}@${thing.mspId}) or a thing agent it lists may ${verb} a mapping; caller is ${describe(caller)}`,
  );
}

export const avatarPolicy = {
  'avatar.map': (caller, f: { metaverse: Platform; thing: Thing; agents: readonly string[] }) => {
    const { metaverse, thing } = f;
    if (caller.mspId !== metaverse.mspId)
      return deny(`metaverse ${metaverse.platformId} belongs to ${metaverse.mspId}, caller is of ${caller.mspId}`);
    if (!isRole(caller, 'admin', 'creator', 'avatar-agent'))
      return deny(`mapping an avatar needs role admin, creator or avatar-agent; caller is ${describe(caller)}`);
    // Trust rule 8: mapping does not make an avatar agent the avatar's controller; agents are named by the metaverse's admin or creator.
    if (caller.role === 'avatar-agent' && f.agents.length > 0)
      return deny(`an avatar agent maps avatars without naming agents; an admin or creator of ${metaverse.mspId} names them`);
    return thingAllows(thing, metaverse) ?? allow(`${caller.role} of ${metaverse.mspId}; thing policy allows ${metaverse.platformId}`);
  },
  'avatar.approve': (caller, f: { avatar: Avatar; thing: Thing; metaverse: Platform }) => {
    const thingSide = thingSideOf(caller, f.thing, 'approve');
    if (!thingSide.allowed) return thingSide;
    return thingAllows(f.thing, f.metaverse) ?? thingSide;
  },
  'avatar.reject': (caller, f: { avatar: Avatar; thing: Thing }) => thingSideOf(caller, f.thing, 'reject'),
  'avatar.manage': (caller, f: { avatar: Avatar; thing: Thing }) => avatarControl(caller, f.avatar, f.thing),
  'avatar.resume': (caller, f: { avatar: Avatar }) => {
    const { avatar } = f;
    return isAdminOf(caller, avatar.mspId)
      ? allow(`admin of ${avatar.mspId}`)
      : deny(`resuming avatar ${avatar.avatarId} needs an admin of ${avatar.mspId}; caller is ${describe(caller)}`);
  },
  'migration.manage': (caller, f: { avatar: Avatar; thing: Thing }) => {
    const unusable = thingUsable(f.thing);
    if (unusable) return unusable;
    return avatarControl(caller, f.avatar, f.thing);
  },
  'migration.start': (caller, f: { avatar: Avatar; targetAvatar: Avatar; thing: Thing; data: DataAnchor }) => {
    const { avatar: source, targetAvatar: target, thing, data } = f;
    const unusable = thingUsable(thing);
    if (unusable) return unusable;
    const control = avatarControl(caller, source, thing);
    if (!control.allowed) return control;
    for (const a of [source, target]) if (a.status !== 'ACTIVE') return deny(`avatar ${a.avatarId} is ${a.status}`);
    // X2 security capability assessment: the target must be cleared for the data's classification.
    const needed = classificationLevel(data.classification as Classification);
    if (target.capabilityLevel < needed) {
      return deny(
        `target avatar ${target.avatarId} has capability level ${target.capabilityLevel}, data ${data.dataId} is ${data.classification} (needs ${needed})`,
      );
    }
    return allow(`${control.reason}; target ${target.avatarId} is cleared for ${data.classification}`);
  },
} satisfies PolicyTable;
