import { type AccessTarget, decideAccess, grantMatchesCaller } from '../auth/access-rule';
import { avatarControl, thingControl } from '../auth/control';
import { allow, type Decision, deny, type PolicyTable } from '../auth/decision';
import { type Caller, describe } from '../auth/identity';
import { hasLevel, isPrincipal, isRole } from '../auth/rights';
import type { AccessAction, Grant } from './grant-types';

/** The grant's issuer, or a creator, admin or agent who controls the resource (thing, avatar or data). */
function manageGrants(caller: Caller, f: { target: AccessTarget; grant?: Grant }): Decision {
  const { target, grant } = f;
  if (grant && isPrincipal(caller, grant.grantedBy.mspId, grant.grantedBy.principal)) return allow('caller issued the grant');
  if (!hasLevel(caller, 'creator') && !isRole(caller, 'thing-agent', 'avatar-agent')) {
    return deny(`managing grants needs role creator, admin or an agent role; caller is ${describe(caller)}`);
  }
  const control = thingControl(caller, target.thing);
  if (control.allowed) return control;
  if (target.avatar) {
    const viaAvatar = avatarControl(caller, target.avatar, target.thing);
    if (viaAvatar.allowed) return viaAvatar;
  }
  if (target.data && isPrincipal(caller, target.data.ownerMspId, target.data.owner)) return allow(`caller owns data ${target.data.dataId}`);
  return deny(`${describe(caller)} does not control ${target.type} ${target.id}`);
}

/**
 * Grants and access:
 * - the issuer of a grant, or a creator, admin or agent controlling the resource, creates and
 *   revokes grants (`grant` is absent when the grant is being created);
 * - auditors and monitors list grants, and so do those who may manage them;
 * - auditors, monitors, the grantor, the grantee and the resource's controllers read a grant;
 * - access to a resource follows the shared access rule (owner, agents, F4 self or gateway
 *   access, then grants for the action and purpose at the transaction time).
 */
export const accessPolicy = {
  'grant.manage': manageGrants,
  'grant.list': (caller, f: { target: AccessTarget }) => {
    if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
    return manageGrants(caller, f);
  },
  'grant.read': (caller, f: { grant: Grant; target: AccessTarget }) => {
    const { grant, target } = f;
    if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
    if (isPrincipal(caller, grant.grantedBy.mspId, grant.grantedBy.principal) || grantMatchesCaller(grant, caller))
      return allow('grantor or grantee');
    if (thingControl(caller, target.thing).allowed) return allow('controller of the resource');
    return deny(`${describe(caller)} is neither grantor, grantee nor controller of grant ${grant.grantId}`);
  },
  'resource.access': (caller, f: { target: AccessTarget; accessAction: AccessAction; purpose: string; now: number }) =>
    decideAccess(caller, f.target, f.accessAction, f.purpose, f.now),
} satisfies PolicyTable;
