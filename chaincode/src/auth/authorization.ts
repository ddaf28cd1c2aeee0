import type { AccessAction, Grant, ResourceType } from '../access/grant-types';
import { ANY_PURPOSE } from '../access/grant-types';
import type { Avatar } from '../avatar/avatar-types';
import { isPeerOrg, piiCollectionFor } from '../common/config';
import { denied } from '../common/errors';
import { isoOf } from '../common/time';
import type { DataAnchor } from '../data/data-types';
import type { DpmJob } from '../dpm/dpm-types';
import type { Federation, Platform } from '../platform/platform-types';
import type { Thing } from '../thing/thing-types';
import { type Classification, classificationLevel } from '../thing/thing-types';
import type { Transfer } from '../transfer/transfer-types';
import { type Caller, describe, type Role } from './identity';

/**
 * The one place that decides who may do what (A1, A2). Deny by default: an action not listed
 * here, a caller without a known role, or a missing fact is refused, and every refusal says why.
 *
 * Rights (A2): `user` (level 1) reaches what it owns or was granted and consents to transfers of
 * its things; `creator` (level 2) also registers things, maps avatars, anchors data, grants
 * access and requests transfers; `admin` (level 3) also runs its MSP's platforms, federations
 * and approvals. Functional roles: `auditor` reads the activity log and history, `monitor`
 * raises and resolves alerts, `dpm` acts for a DPM provider, agents act for the things or
 * avatars that list them.
 */
export type Action =
  | 'platform.register'
  | 'platform.manage'
  | 'federation.propose'
  | 'federation.accept'
  | 'federation.revoke'
  | 'registry.read'
  | 'thing.register'
  | 'thing.manage'
  | 'thing.suspend'
  | 'thing.resume'
  | 'thing.revoke'
  | 'avatar.map'
  | 'avatar.manage'
  | 'avatar.resume'
  | 'migration.manage'
  | 'migration.start'
  | 'grant.manage'
  | 'grant.read'
  | 'grant.list'
  | 'resource.access'
  | 'data.read'
  | 'pii.read'
  | 'pii.write'
  | 'pii.purge'
  | 'data.expire'
  | 'data.placement'
  | 'transfer.request'
  | 'transfer.approveSource'
  | 'transfer.approveTarget'
  | 'transfer.consent'
  | 'transfer.execute'
  | 'transfer.reject'
  | 'transfer.revoke'
  | 'transfer.expire'
  | 'transfer.read'
  | 'dpm.submit'
  | 'dpm.provider'
  | 'dpm.read'
  | 'dpm.list'
  | 'alert.raise'
  | 'alert.resolve'
  | 'alert.read'
  | 'audit.query'
  | 'bench.put';

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

/** The facts an action is decided on; contracts load them and pass what the action needs. */
export interface Facts {
  now?: number;
  platform?: Platform;
  peerPlatform?: Platform;
  federation?: Federation;
  thing?: Thing;
  owner?: string;
  avatar?: Avatar;
  metaverse?: Platform;
  target?: AccessTarget;
  accessAction?: AccessAction;
  purpose?: string;
  transfer?: Transfer;
  job?: DpmJob;
  provider?: Platform;
  inputs?: { data: DataAnchor; thing: Thing }[];
  grant?: Grant;
  targetAvatar?: Avatar;
  data?: DataAnchor;
  storage?: { placement: string; storeId: string };
  encrypted?: boolean;
  keyId?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
  grantId?: string;
}

const allow = (reason: string, grantId?: string): Decision => ({ allowed: true, reason, ...(grantId ? { grantId } : {}) });
const deny = (reason: string): Decision => ({ allowed: false, reason });

const LEVEL: Partial<Record<Role, number>> = { user: 1, creator: 2, admin: 3 };

/** Multi-level rights: the caller's role is at least `min` in user < creator < admin. */
export function hasLevel(caller: Caller, min: 'user' | 'creator' | 'admin'): boolean {
  return caller.role !== null && (LEVEL[caller.role] ?? 0) >= (LEVEL[min] ?? 99);
}

function isRole(caller: Caller, ...roles: Role[]): boolean {
  return caller.role !== null && roles.includes(caller.role);
}

function isAdminOf(caller: Caller, mspId: string): boolean {
  return caller.role === 'admin' && caller.mspId === mspId;
}

function isPrincipal(caller: Caller, mspId: string, principal: string): boolean {
  return caller.mspId === mspId && caller.principal !== null && caller.principal === principal;
}

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

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw denied(`authorization needs ${what}`);
  return value;
}

function thingUsable(thing: Thing): Decision | undefined {
  if (thing.status !== 'ACTIVE') {
    return deny(`thing ${thing.thingId} is ${thing.status}${thing.statusReason ? ` (${thing.statusReason})` : ''}`);
  }
  return undefined;
}

function grantMatchesCaller(grant: Grant, caller: Caller): boolean {
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
    } else if (Date.parse(grant.validFrom) > now) {
      misses.push(`grant ${grant.grantId} is valid from ${grant.validFrom}`);
    } else if (Date.parse(grant.validUntil) <= now) {
      misses.push(`grant ${grant.grantId} expired at ${grant.validUntil}`);
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

/** Decide `action` for `caller` on `facts`. Deny by default. */
export function authorize(caller: Caller, action: Action, facts: Facts = {}): Decision {
  if (caller.role === null) {
    return deny(`the certificate of ${caller.mspId} caller has no known 'role' attribute; ask your CA admin to issue one`);
  }
  switch (action) {
    case 'platform.register': {
      if (caller.role !== 'admin') return deny(`registering a platform needs role admin; caller is ${describe(caller)}`);
      const platform = facts.platform;
      if (platform?.type === 'METAVERSE' && !isPeerOrg(caller.mspId)) {
        return deny(`a metaverse platform must be run by a peer organisation; ${caller.mspId} runs no peer`);
      }
      return allow(`admin of ${caller.mspId}`);
    }
    case 'platform.manage': {
      const platform = need(facts.platform, 'the platform');
      return isAdminOf(caller, platform.mspId)
        ? allow(`admin of ${platform.mspId}, which registered ${platform.platformId}`)
        : deny(
            `platform ${platform.platformId} belongs to ${platform.mspId}; only its admins may change it, caller is ${describe(caller)}`,
          );
    }
    case 'federation.propose':
    case 'federation.accept': {
      const platform = need(facts.platform, 'the caller-side platform');
      if (!isAdminOf(caller, platform.mspId)) {
        return deny(
          `${action === 'federation.propose' ? 'proposing' : 'accepting'} federation for ${platform.platformId} needs an admin of ${platform.mspId}; caller is ${describe(caller)}`,
        );
      }
      return allow(`admin of ${platform.mspId}`);
    }
    case 'federation.revoke': {
      const fed = need(facts.federation, 'the federation');
      if (isAdminOf(caller, fed.proposerMspId) || isAdminOf(caller, fed.accepterMspId)) return allow(`admin of a federated platform's MSP`);
      return deny(
        `revoking federation ${fed.federationId} needs an admin of ${fed.proposerMspId} or ${fed.accepterMspId}; caller is ${describe(caller)}`,
      );
    }
    case 'registry.read':
      return allow('platforms, things and avatars are readable by every member with a role');
    case 'thing.register': {
      const platform = need(facts.platform, 'the IoT platform');
      const owner = need(facts.owner, 'the owner');
      if (caller.mspId !== platform.mspId)
        return deny(`IoT platform ${platform.platformId} belongs to ${platform.mspId}, caller is of ${caller.mspId}`);
      if (!isRole(caller, 'admin', 'creator', 'thing-agent'))
        return deny(`registering a thing needs role admin, creator or thing-agent; caller is ${describe(caller)}`);
      if (caller.role === 'creator' && caller.principal !== owner)
        return deny(`a creator registers only things it owns; owner ${owner} is not caller ${describe(caller)}`);
      return allow(`${caller.role} of ${platform.mspId}`);
    }
    case 'thing.manage':
    case 'thing.suspend':
      return thingControl(caller, need(facts.thing, 'the thing'));
    case 'thing.resume': {
      const thing = need(facts.thing, 'the thing');
      return isAdminOf(caller, thing.mspId)
        ? allow(`admin of ${thing.mspId}`)
        : deny(`resuming thing ${thing.thingId} needs an admin of ${thing.mspId}; caller is ${describe(caller)}`);
    }
    case 'thing.revoke': {
      const thing = need(facts.thing, 'the thing');
      if (isAdminOf(caller, thing.mspId) || isPrincipal(caller, thing.mspId, thing.owner)) return allow('owner or admin of the thing');
      return deny(`revoking thing ${thing.thingId} needs its owner or an admin of ${thing.mspId}; caller is ${describe(caller)}`);
    }
    case 'avatar.map': {
      const metaverse = need(facts.metaverse, 'the metaverse');
      const thing = need(facts.thing, 'the thing');
      if (caller.mspId !== metaverse.mspId)
        return deny(`metaverse ${metaverse.platformId} belongs to ${metaverse.mspId}, caller is of ${caller.mspId}`);
      if (!isRole(caller, 'admin', 'creator', 'avatar-agent'))
        return deny(`mapping an avatar needs role admin, creator or avatar-agent; caller is ${describe(caller)}`);
      const unusable = thingUsable(thing);
      if (unusable) return unusable;
      if (!thing.policy.allowedMetaverses.includes(metaverse.platformId)) {
        return deny(`thing ${thing.thingId}'s policy does not allow metaverse ${metaverse.platformId}`);
      }
      return allow(`${caller.role} of ${metaverse.mspId}; thing policy allows ${metaverse.platformId}`);
    }
    case 'avatar.manage':
      return avatarControl(caller, need(facts.avatar, 'the avatar'), need(facts.thing, 'the thing'));
    case 'avatar.resume': {
      const avatar = need(facts.avatar, 'the avatar');
      return isAdminOf(caller, avatar.mspId)
        ? allow(`admin of ${avatar.mspId}`)
        : deny(`resuming avatar ${avatar.avatarId} needs an admin of ${avatar.mspId}; caller is ${describe(caller)}`);
    }
    case 'migration.manage': {
      const avatar = need(facts.avatar, 'the source avatar');
      const thing = need(facts.thing, 'the thing');
      const unusable = thingUsable(thing);
      if (unusable) return unusable;
      return avatarControl(caller, avatar, thing);
    }
    case 'migration.start': {
      const source = need(facts.avatar, 'the source avatar');
      const target = need(facts.targetAvatar, 'the target avatar');
      const thing = need(facts.thing, 'the thing');
      const data = need(facts.data, 'the data');
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
    }
    case 'grant.list': {
      if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
      return authorize(caller, 'grant.manage', facts);
    }
    case 'grant.manage': {
      const target = need(facts.target, 'the resource');
      if (facts.grant && isPrincipal(caller, facts.grant.grantedBy.mspId, facts.grant.grantedBy.principal))
        return allow('caller issued the grant');
      if (!hasLevel(caller, 'creator') && !isRole(caller, 'thing-agent', 'avatar-agent')) {
        return deny(`managing grants needs role creator, admin or an agent role; caller is ${describe(caller)}`);
      }
      const control = thingControl(caller, target.thing);
      if (control.allowed) return control;
      if (target.avatar) {
        const viaAvatar = avatarControl(caller, target.avatar, target.thing);
        if (viaAvatar.allowed) return viaAvatar;
      }
      if (target.data && isPrincipal(caller, target.data.ownerMspId, target.data.owner))
        return allow(`caller owns data ${target.data.dataId}`);
      return deny(`${describe(caller)} does not control ${target.type} ${target.id}`);
    }
    case 'grant.read': {
      const grant = need(facts.grant, 'the grant');
      if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
      if (isPrincipal(caller, grant.grantedBy.mspId, grant.grantedBy.principal) || grantMatchesCaller(grant, caller))
        return allow('grantor or grantee');
      if (facts.target && thingControl(caller, facts.target.thing).allowed) return allow('controller of the resource');
      return deny(`${describe(caller)} is neither grantor, grantee nor controller of grant ${grant.grantId}`);
    }
    case 'resource.access':
      return decideAccess(
        caller,
        need(facts.target, 'the resource'),
        need(facts.accessAction, 'the action'),
        facts.purpose ?? ANY_PURPOSE,
        need(facts.now, 'the time'),
      );
    case 'data.read': {
      if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role} reads anchors for audit`);
      return decideAccess(caller, need(facts.target, 'the data'), 'read', facts.purpose ?? ANY_PURPOSE, need(facts.now, 'the time'));
    }
    case 'pii.read': {
      const target = need(facts.target, 'the data');
      const data = need(target.data, 'the data anchor');
      if (!data.piiCollection) return deny(`data ${data.dataId} has no PII`);
      if (data.piiCollection !== piiCollectionFor(caller.mspId))
        return deny(`PII of ${data.dataId} is held in ${data.piiCollection}; ${caller.mspId} is not a member`);
      return decideAccess(caller, target, 'read', facts.purpose ?? ANY_PURPOSE, need(facts.now, 'the time'));
    }
    case 'pii.write':
      return isPeerOrg(caller.mspId)
        ? allow(`PII goes to ${piiCollectionFor(caller.mspId)}`)
        : deny(`${caller.mspId} has no peer and therefore no PII collection`);
    case 'pii.purge': {
      const data = need(facts.data, 'the data');
      if (!data.piiCollection) return deny(`data ${data.dataId} has no PII`);
      if (data.piiCollection !== piiCollectionFor(caller.mspId))
        return deny(`PII of ${data.dataId} is held in ${data.piiCollection}; ${caller.mspId} is not a member`);
      return isAdminOf(caller, caller.mspId)
        ? allow(`admin of ${caller.mspId}`)
        : deny(`purging PII needs an admin of ${caller.mspId}; caller is ${describe(caller)}`);
    }
    case 'data.expire': {
      // X7 retention: the organisation holding the data deletes it when its policy says so (the time is checked by the contract).
      const data = need(facts.data, 'the data');
      if (caller.mspId !== data.ownerMspId)
        return deny(`expiring data of ${data.ownerMspId} needs its storage agent or admin; caller is ${describe(caller)}`);
      return isRole(caller, 'storage-agent', 'admin')
        ? allow(`${caller.role} of ${caller.mspId}`)
        : deny(`expiring data needs role storage-agent or admin of ${data.ownerMspId}; caller is ${describe(caller)}`);
    }
    case 'data.placement': {
      // X5: storage placement and protection follow the thing's policy.
      const thing = need(facts.thing, 'the thing');
      const storage = need(facts.storage, 'the storage location');
      const policy = thing.policy;
      if (policy.storage !== 'ANY' && policy.storage !== storage.placement)
        return deny(`thing ${thing.thingId}'s policy stores data ${policy.storage}, not ${storage.placement}`);
      if (storage.placement === 'EXTERNAL' && policy.storageIds.length > 0 && !policy.storageIds.includes(storage.storeId)) {
        return deny(`thing ${thing.thingId}'s policy does not allow store ${storage.storeId}`);
      }
      if (policy.encryptionRequired && (!facts.encrypted || !facts.keyId))
        return deny(`thing ${thing.thingId}'s policy requires encrypted data with a keyId`);
      return allow(`placement ${storage.placement} follows thing ${thing.thingId}'s policy`);
    }
    case 'transfer.request': {
      const fed = facts.federation;
      if (!fed || fed.status !== 'ACTIVE') {
        return deny(
          `metaverses are not federated${fed ? ` (federation ${fed.federationId} is ${fed.status})` : ''}; both platforms must authorize each other first (X3)`,
        );
      }
      const target = need(facts.target, 'the data');
      const metaverse = need(facts.metaverse, 'the target metaverse');
      if (!target.thing.policy.allowedMetaverses.includes(metaverse.platformId)) {
        return deny(`thing ${target.thing.thingId}'s policy does not allow metaverse ${metaverse.platformId}`);
      }
      return decideAccess(caller, target, 'share', need(facts.purpose, 'the purpose'), need(facts.now, 'the time'));
    }
    case 'transfer.approveSource':
    case 'transfer.approveTarget': {
      const t = need(facts.transfer, 'the transfer');
      const [msp, side] = action === 'transfer.approveSource' ? [t.sourceMspId, 'source'] : [t.targetMspId, 'target'];
      return isAdminOf(caller, msp)
        ? allow(`admin of the ${side} platform's MSP ${msp}`)
        : deny(`approving transfer ${t.transferId} as ${side} needs an admin of ${msp}; caller is ${describe(caller)}`);
    }
    case 'transfer.consent': {
      const t = need(facts.transfer, 'the transfer');
      return isPrincipal(caller, t.ownerMspId, t.owner) && hasLevel(caller, 'user')
        ? allow(`caller owns thing ${t.thingId}`)
        : deny(`only owner ${t.owner}@${t.ownerMspId} may consent to transfer ${t.transferId}; caller is ${describe(caller)}`);
    }
    case 'transfer.execute': {
      const t = need(facts.transfer, 'the transfer');
      const thing = need(facts.thing, 'the thing');
      if (!isRole(caller, 'admin', 'avatar-agent') || (caller.mspId !== t.sourceMspId && caller.mspId !== t.targetMspId)) {
        return deny(
          `executing transfer ${t.transferId} needs an admin or avatar-agent of ${t.sourceMspId} or ${t.targetMspId}; caller is ${describe(caller)}`,
        );
      }
      const unusable = thingUsable(thing);
      if (unusable) return unusable;
      // The policy may have narrowed since the request: execution re-checks it (X3, X5).
      if (!thing.policy.allowedMetaverses.includes(t.targetMetaverseId)) {
        return deny(`thing ${thing.thingId}'s policy no longer allows metaverse ${t.targetMetaverseId}`);
      }
      const window = thing.policy.transmitWindow;
      if (window) {
        const hour = new Date(need(facts.now, 'the time')).getUTCHours();
        const inside =
          window.fromHour <= window.toHour
            ? hour >= window.fromHour && hour < window.toHour
            : hour >= window.fromHour || hour < window.toHour;
        if (!inside) return deny(`thing ${thing.thingId} allows transmission only from ${window.fromHour}:00 to ${window.toHour}:00 UTC`);
      }
      return allow(`${caller.role} of ${caller.mspId}`);
    }
    case 'transfer.reject': {
      const t = need(facts.transfer, 'the transfer');
      if (isAdminOf(caller, t.sourceMspId) || isAdminOf(caller, t.targetMspId) || isPrincipal(caller, t.ownerMspId, t.owner))
        return allow('a party to the transfer');
      return deny(
        `rejecting transfer ${t.transferId} needs an admin of ${t.sourceMspId} or ${t.targetMspId} or the owner; caller is ${describe(caller)}`,
      );
    }
    case 'transfer.revoke': {
      const t = need(facts.transfer, 'the transfer');
      if (isPrincipal(caller, t.requestedBy.mspId, t.requestedBy.principal) || isPrincipal(caller, t.ownerMspId, t.owner))
        return allow('requester or owner');
      return deny(`revoking transfer ${t.transferId} needs its requester or the owner; caller is ${describe(caller)}`);
    }
    case 'transfer.expire':
      return isRole(caller, 'admin', 'monitor')
        ? allow(`role ${caller.role}`)
        : deny(`marking a transfer expired needs role admin or monitor; caller is ${describe(caller)}`);
    case 'transfer.read': {
      const t = need(facts.transfer, 'the transfer');
      if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
      if ([t.sourceMspId, t.targetMspId, t.ownerMspId].includes(caller.mspId)) return allow('member of a party to the transfer');
      return deny(`${describe(caller)} is not a party to transfer ${t.transferId}`);
    }
    case 'dpm.submit': {
      const metaverse = need(facts.metaverse, 'the requesting metaverse');
      const provider = need(facts.provider, 'the provider');
      const purpose = need(facts.purpose, 'the purpose');
      if (caller.mspId !== metaverse.mspId)
        return deny(`metaverse ${metaverse.platformId} belongs to ${metaverse.mspId}, caller is of ${caller.mspId}`);
      if (!isRole(caller, 'admin', 'creator', 'avatar-agent'))
        return deny(`submitting a DPM job needs role admin, creator or avatar-agent; caller is ${describe(caller)}`);
      for (const { data, thing } of need(facts.inputs, 'the inputs')) {
        const unusable = thingUsable(thing);
        if (unusable) return deny(`input ${data.dataId}: ${unusable.reason}`);
        if (data.stage === 'DELETED') return deny(`input ${data.dataId} is deleted`);
        const p = thing.policy;
        if (!p.allowedMetaverses.includes(metaverse.platformId))
          return deny(`input ${data.dataId}: thing ${thing.thingId}'s policy does not allow metaverse ${metaverse.platformId}`);
        if (!p.allowedDpmProviders.includes(provider.platformId))
          return deny(`input ${data.dataId}: thing ${thing.thingId}'s policy does not allow DPM provider ${provider.platformId}`);
        if (!p.purposes.includes(purpose))
          return deny(`input ${data.dataId}: thing ${thing.thingId}'s policy does not allow purpose '${purpose}'`);
      }
      return allow(`every input's policy allows provider ${provider.platformId} and purpose '${purpose}'`);
    }
    case 'dpm.provider': {
      const job = need(facts.job, 'the job');
      if (caller.mspId !== job.providerMspId)
        return deny(`job ${job.jobId} is for provider ${job.providerId} of ${job.providerMspId}; caller is of ${caller.mspId}`);
      if (caller.role !== 'dpm') return deny(`acting for DPM provider ${job.providerId} needs role dpm; caller is ${describe(caller)}`);
      if (caller.principal !== job.providerId)
        return deny(`caller principal ${caller.principal ?? '<none>'} is not provider ${job.providerId}`);
      return allow(`caller is provider ${job.providerId}`);
    }
    case 'dpm.read': {
      const job = need(facts.job, 'the job');
      if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
      if (caller.mspId === job.requesterMspId || caller.mspId === job.providerMspId)
        return allow('member of the requester or the provider');
      return deny(`${describe(caller)} is neither requester nor provider of job ${job.jobId}`);
    }
    case 'dpm.list': {
      const provider = need(facts.provider, 'the provider');
      if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
      if (caller.mspId === provider.mspId) return allow(`member of provider ${provider.platformId}'s MSP`);
      return deny(
        `listing jobs of ${provider.platformId} needs its MSP ${provider.mspId}, an auditor or a monitor; caller is ${describe(caller)}`,
      );
    }
    case 'alert.raise':
    case 'alert.resolve':
      return caller.role === 'monitor'
        ? allow('role monitor')
        : deny(`${action === 'alert.raise' ? 'raising' : 'resolving'} alerts needs role monitor; caller is ${describe(caller)}`);
    case 'alert.read':
    case 'audit.query':
      return isRole(caller, 'auditor', 'monitor', 'admin')
        ? allow(`role ${caller.role}`)
        : deny(`reading the audit trail needs role auditor, monitor or admin; caller is ${describe(caller)}`);
    case 'bench.put':
      return caller.role === 'admin' ? allow('role admin') : deny(`the benchmark function needs role admin; caller is ${describe(caller)}`);
    default:
      return deny(`action ${String(action)} is not defined`);
  }
}

/** Throw DENIED with the reason unless allowed. */
export function enforce(decision: Decision): Decision {
  if (!decision.allowed) throw denied(decision.reason);
  return decision;
}
