import { type AccessTarget, decideAccess } from '../auth/access-rule';
import { thingUsable } from '../auth/control';
import { allow, type Decision, deny, type PolicyTable } from '../auth/decision';
import { type Caller, describe } from '../auth/identity';
import { hasLevel, isAdminOf, isPrincipal, isRole } from '../auth/rights';
import type { Avatar } from '../avatar/avatar-types';
import type { DataHolder } from '../data/data-holder';
import { inactiveParty, type Parties } from '../auth/liveness';
import { insideHourWindowSafely } from '../common/time';
import { distinctOrganisations } from '../platform/platform-policy';
import type { Federation, Platform } from '../platform/platform-types';
import type { Thing } from '../thing/thing-types';
import type { Transfer } from './transfer-types';

/** Approving a transfer for one side: an admin of that side's platform MSP. */
const approveAs =
  (side: 'source' | 'target') =>
  (caller: Caller, f: { transfer: Transfer }): Decision => {
    const t = f.transfer;
    const msp = side === 'source' ? t.sourceMspId : t.targetMspId;
    // Rule 6: one organisation approving both sides is no double verification.
    const distinct = distinctOrganisations(
      `transfer ${t.transferId}`,
      { id: t.sourceMetaverseId, mspId: t.sourceMspId },
      { id: t.targetMetaverseId, mspId: t.targetMspId },
    );
    if (!distinct.allowed) return distinct;
    return isAdminOf(caller, msp)
      ? allow(`admin of the ${side} platform's MSP ${msp}`)
      : deny(`approving transfer ${t.transferId} as ${side} needs an admin of ${msp}; caller is ${describe(caller)}`);
  };

/**
 * Cross-metaverse transfers (X3):
 * - whoever may share the data by the access rule requests a transfer, once both metaverses are
 *   federated and the thing's policy allows the target metaverse (`federation` is absent when
 *   the metaverses never federated);
 *   the source avatar must be the data's holder (`data/data-holder.ts`, trust rule 3);
 * - source and target metaverse belong to different MSPs (rule 6), checked at request and at
 *   each approval;
 * - an admin of the source (target) platform's MSP approves as source (target);
 * - only the thing's owner consents: the principal and MSP the ledger bound to the thing at its
 *   registration (copied from the thing record at request, never from the requester's input);
 * - an admin or avatar-agent of either side executes, while the thing, both avatars, both
 *   platforms and their federation are ACTIVE (rule 4) and its policy still allows the target
 *   metaverse and the hour;
 * - an admin of either side or the owner rejects; the requester or the owner revokes;
 * - an admin of the source, target or owner MSP, or a monitor (of an organisation designated to
 *   issue monitors, trust rule 1), marks a transfer expired (the contract checks the time);
 * - auditors, monitors and members of the source, target or owner MSP read a transfer.
 */
export const transferPolicy = {
  'transfer.request': (
    caller,
    f: {
      target: AccessTarget;
      source: Avatar;
      holder: DataHolder;
      federation: Federation | undefined;
      sourcePlatform: Platform;
      metaverse: Platform;
      purpose: string;
      now: number;
    },
  ) => {
    // Rule 6: source and target metaverse must be run by different organisations.
    const distinct = distinctOrganisations(
      'a transfer',
      { id: f.sourcePlatform.platformId, mspId: f.sourcePlatform.mspId },
      { id: f.metaverse.platformId, mspId: f.metaverse.mspId },
    );
    if (!distinct.allowed) return distinct;
    // Trust rule 3: the source is the data's holder on the ledger, so the source platform that approves is the holder's.
    const { source, holder } = f;
    if (holder.avatar ? source.avatarId !== holder.avatar.avatarId : !holder.mspIds.includes(source.mspId)) {
      return deny(
        `data ${f.target.id} is held by ${holder.text}; a transfer's source must be its holder, not avatar ${source.avatarId} of ${source.metaverseId} (${source.mspId})`,
      );
    }
    const fed = f.federation;
    if (!fed || fed.status !== 'ACTIVE') {
      return deny(
        `metaverses are not federated${fed ? ` (federation ${fed.federationId} is ${fed.status})` : ''}; both platforms must authorize each other first (X3)`,
      );
    }
    const { target, metaverse } = f;
    if (!target.thing.policy.allowedMetaverses.includes(metaverse.platformId)) {
      return deny(`thing ${target.thing.thingId}'s policy does not allow metaverse ${metaverse.platformId}`);
    }
    return decideAccess(caller, target, 'share', f.purpose, f.now);
  },
  'transfer.approveSource': approveAs('source'),
  'transfer.approveTarget': approveAs('target'),
  'transfer.consent': (caller, f: { transfer: Transfer }) => {
    const t = f.transfer;
    return isPrincipal(caller, t.ownerMspId, t.owner) && hasLevel(caller, 'user')
      ? allow(`caller owns thing ${t.thingId}`)
      : deny(`only owner ${t.owner}@${t.ownerMspId} may consent to transfer ${t.transferId}; caller is ${describe(caller)}`);
  },
  'transfer.execute': (caller, f: { transfer: Transfer; thing: Thing; parties: Parties; now: number }) => {
    const { transfer: t, thing } = f;
    if (!isRole(caller, 'admin', 'avatar-agent') || (caller.mspId !== t.sourceMspId && caller.mspId !== t.targetMspId)) {
      return deny(
        `executing transfer ${t.transferId} needs an admin or avatar-agent of ${t.sourceMspId} or ${t.targetMspId}; caller is ${describe(caller)}`,
      );
    }
    const unusable = thingUsable(thing);
    if (unusable) return unusable;
    // Trust rule 4: the avatars, both platforms and their federation are still ACTIVE at execution.
    const inactive = inactiveParty(f.parties);
    if (inactive) return deny(`transfer ${t.transferId} cannot execute now: ${inactive.reason}`);
    // The policy may have narrowed since the request: execution re-checks it (X3, X5).
    if (!thing.policy.allowedMetaverses.includes(t.targetMetaverseId)) {
      return deny(`thing ${thing.thingId}'s policy no longer allows metaverse ${t.targetMetaverseId}`);
    }
    const window = thing.policy.transmitWindow;
    if (window) {
      // Rule 2: inside the window for every clock within the skew bound.
      const inside = insideHourWindowSafely(window, f.now);
      if (!inside) return deny(`thing ${thing.thingId} allows transmission only from ${window.fromHour}:00 to ${window.toHour}:00 UTC`);
    }
    return allow(`${caller.role} of ${caller.mspId}`);
  },
  'transfer.reject': (caller, f: { transfer: Transfer }) => {
    const t = f.transfer;
    if (isAdminOf(caller, t.sourceMspId) || isAdminOf(caller, t.targetMspId) || isPrincipal(caller, t.ownerMspId, t.owner))
      return allow('a party to the transfer');
    return deny(
      `rejecting transfer ${t.transferId} needs an admin of ${t.sourceMspId} or ${t.targetMspId} or the owner; caller is ${describe(caller)}`,
    );
  },
  'transfer.revoke': (caller, f: { transfer: Transfer }) => {
    const t = f.transfer;
    if (isPrincipal(caller, t.requestedBy.mspId, t.requestedBy.principal) || isPrincipal(caller, t.ownerMspId, t.owner))
      return allow('requester or owner');
    return deny(`revoking transfer ${t.transferId} needs its requester or the owner; caller is ${describe(caller)}`);
  },
  'transfer.expire': (caller, f: { transfer: Transfer }) => {
    const t = f.transfer;
    // Trust rule 1: a monitor is recognised only from an organisation designated to issue monitors (role issuers).
    if (caller.role === 'monitor') return allow(`monitor of ${caller.mspId}, designated to issue monitors`);
    const parties = [...new Set([t.sourceMspId, t.targetMspId, t.ownerMspId])];
    if (parties.some((msp) => isAdminOf(caller, msp))) return allow(`admin of ${caller.mspId}, a party to transfer ${t.transferId}`);
    return deny(
      `marking transfer ${t.transferId} expired needs an admin of ${parties.join(', ')} (its source, target or owner organisation) or a monitor of a designated organisation; caller is ${describe(caller)}`,
    );
  },
  'transfer.read': (caller, f: { transfer: Transfer }) => {
    const t = f.transfer;
    if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
    if ([t.sourceMspId, t.targetMspId, t.ownerMspId].includes(caller.mspId)) return allow('member of a party to the transfer');
    return deny(`${describe(caller)} is not a party to transfer ${t.transferId}`);
  },
} satisfies PolicyTable;
