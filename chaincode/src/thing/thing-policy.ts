import { thingControl } from '../auth/control';
import { allow, deny, type PolicyTable } from '../auth/decision';
import { describe } from '../auth/identity';
import { isAdminOf, isPrincipal, isRole } from '../auth/rights';
import type { Platform } from '../platform/platform-types';
import type { Thing } from './thing-types';

/**
 * Things:
 * - an admin, creator or thing-agent of the IoT platform's MSP registers a thing (a creator only
 *   things it owns); the owner is always a principal of that MSP (the thing records it as
 *   `mspId`), and a thing-agent names only itself or an owner the ledger already knows in its
 *   MSP — one who owns a thing there (`ownerKnown`, rule 6). A first thing of a principal is
 *   registered by that principal (creator) or vouched for by an admin of its MSP;
 * - the owner, a listed thing agent or an admin of the thing's MSP changes or suspends it;
 * - only an admin of the thing's MSP resumes it;
 * - the owner or an admin of the thing's MSP revokes it.
 */
export const thingPolicy = {
  'thing.register': (caller, f: { platform: Platform; owner: string; ownerKnown: boolean }) => {
    const { platform, owner } = f;
    if (caller.mspId !== platform.mspId)
      return deny(`IoT platform ${platform.platformId} belongs to ${platform.mspId}, caller is of ${caller.mspId}`);
    if (!isRole(caller, 'admin', 'creator', 'thing-agent'))
      return deny(`registering a thing needs role admin, creator or thing-agent; caller is ${describe(caller)}`);
    if (caller.role === 'creator' && caller.principal !== owner)
      return deny(`a creator registers only things it owns; owner ${owner} is not caller ${describe(caller)}`);
    if (caller.role === 'thing-agent' && caller.principal !== owner && !f.ownerKnown)
      return deny(
        `a thing agent registers things only for owners of its own organisation known on the ledger; ${owner} owns no thing in ${platform.mspId} (caller is ${describe(caller)})`,
      );
    return allow(`${caller.role} of ${platform.mspId}`);
  },
  'thing.manage': (caller, f: { thing: Thing }) => thingControl(caller, f.thing),
  'thing.suspend': (caller, f: { thing: Thing }) => thingControl(caller, f.thing),
  'thing.resume': (caller, f: { thing: Thing }) => {
    const { thing } = f;
    return isAdminOf(caller, thing.mspId)
      ? allow(`admin of ${thing.mspId}`)
      : deny(`resuming thing ${thing.thingId} needs an admin of ${thing.mspId}; caller is ${describe(caller)}`);
  },
  'thing.revoke': (caller, f: { thing: Thing }) => {
    const { thing } = f;
    if (isAdminOf(caller, thing.mspId) || isPrincipal(caller, thing.mspId, thing.owner)) return allow('owner or admin of the thing');
    return deny(`revoking thing ${thing.thingId} needs its owner or an admin of ${thing.mspId}; caller is ${describe(caller)}`);
  },
} satisfies PolicyTable;
