import type { Caller, Role } from './identity';

/**
 * Rights (A2): `user` (level 1) reaches what it owns or was granted and consents to transfers of
 * its things; `creator` (level 2) also registers things, maps avatars, anchors data, grants
 * access and requests transfers; `admin` (level 3) also runs its MSP's platforms, federations
 * and approvals. Functional roles: `auditor` reads the activity log and history, `monitor`
 * raises and resolves alerts, `dpm` acts for a DPM provider, agents act for the things or
 * avatars that list them.
 */
const LEVEL: Partial<Record<Role, number>> = { user: 1, creator: 2, admin: 3 };

/** Multi-level rights: the caller's role is at least `min` in user < creator < admin. */
export function hasLevel(caller: Caller, min: 'user' | 'creator' | 'admin'): boolean {
  return caller.role !== null && (LEVEL[caller.role] ?? 0) >= (LEVEL[min] ?? 99);
}

/** The caller has one of `roles`. */
export function isRole(caller: Caller, ...roles: Role[]): boolean {
  return caller.role !== null && roles.includes(caller.role);
}

/** The caller is an admin of `mspId`. */
export function isAdminOf(caller: Caller, mspId: string): boolean {
  return caller.role === 'admin' && caller.mspId === mspId;
}

/** The caller is `principal` of `mspId` (whatever its role). */
export function isPrincipal(caller: Caller, mspId: string, principal: string): boolean {
  return caller.mspId === mspId && caller.principal !== null && caller.principal === principal;
}
