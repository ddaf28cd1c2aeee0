import { ANY_PURPOSE, type Grant, type Grantee } from '../access/grant-types';
import { type AccessTarget, grantMatchesCaller } from '../auth/access-rule';
import { thingControl, thingUsable } from '../auth/control';
import { allow, deny, need, type PolicyTable } from '../auth/decision';
import { type Actor, type Caller, describe, ROLES, type Role } from '../auth/identity';
import { isRole } from '../auth/rights';
import { isoOf } from '../common/time';
import type { DataHolder } from '../data/data-holder';
import type { DataAnchor } from '../data/data-types';
import type { Platform } from '../platform/platform-types';
import type { Thing } from '../thing/thing-types';
import type { RoleIssuers } from '../governance/governance-types';
import { roleRefusal } from '../governance/role-issuers';
import type { DpmJob } from './dpm-types';

/**
 * The identity recorded as `actor`, as a caller (role and principal as its certificate carried them).
 * With `setting` (trust rule 1), a role its MSP may no longer issue counts as no role.
 */
export function callerOfActor(actor: Actor, setting?: RoleIssuers): Caller {
  const role = (ROLES as readonly string[]).includes(actor.role) ? (actor.role as Role) : null;
  const caller: Caller = { mspId: actor.mspId, role, principal: actor.principal || null, id: '' };
  const refusal = role && setting ? roleRefusal(setting, role, actor.mspId) : undefined;
  return role && refusal ? { ...caller, role: null, unrecognised: { role, reason: refusal } } : caller;
}

/** The grantee naming exactly `caller` (its principal, or its role within its MSP when it has none). */
export function granteeOf(caller: Caller): Grantee {
  return caller.principal
    ? { type: 'PRINCIPAL', id: caller.principal, mspId: caller.mspId }
    : { type: 'ROLE', id: caller.role ?? '', mspId: caller.mspId };
}

const granteeText = (g: Grantee) => (g.type === 'MSP' ? `MSP ${g.id}` : `${g.type.toLowerCase()} ${g.id}${g.mspId ? `@${g.mspId}` : ''}`);

/**
 * DPM jobs:
 * - an admin, creator or avatar-agent of the requesting metaverse's MSP submits a job when every
 *   input is live and its thing's policy allows the metaverse, the provider and the purpose;
 * - and, per input (trust rule 5), when the caller has a right to have it processed: it controls
 *   the thing, or holds an ACTIVE `process` grant for the job's purpose issued by a controller of
 *   the thing (its owner, agent or admin — not a grant a metaverse issued on its own avatar);
 *   and no other metaverse holds the input (data anchored at another metaverse's avatar, or
 *   anchored there by another organisation, is that organisation's to send);
 * - the provider accepts a job only while that still holds for the submitter and the thing, its
 *   avatars and both platforms are ACTIVE (re-checked at acceptance, rule 4);
 * - only the provider itself (role dpm, principal = provider id, of the provider's MSP) acts on
 *   a job;
 * - auditors, monitors, members of the provider MSP and whom every input's process right names
 *   (`outputReaders`) read a job and its receipt;
 * - auditors, monitors and members of the provider's MSP list its jobs.
 */
export const dpmPolicy = {
  'dpm.submit': (caller, f: { metaverse: Platform; provider: Platform; purpose: string; inputs: { data: DataAnchor; thing: Thing }[] }) => {
    const { metaverse, provider, purpose } = f;
    if (caller.mspId !== metaverse.mspId)
      return deny(`metaverse ${metaverse.platformId} belongs to ${metaverse.mspId}, caller is of ${caller.mspId}`);
    if (!isRole(caller, 'admin', 'creator', 'avatar-agent'))
      return deny(`submitting a DPM job needs role admin, creator or avatar-agent; caller is ${describe(caller)}`);
    for (const { data, thing } of f.inputs) {
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
  },
  'dpm.process': (caller, f: { target: AccessTarget; holder: DataHolder; metaverse: Platform; purpose: string; now: number }) => {
    const { target, holder, metaverse, purpose, now } = f;
    const data = need(target.data, 'the data anchor');
    const { thing, avatar } = target;
    const unusable = thingUsable(thing);
    if (unusable) return deny(`input ${data.dataId}: ${unusable.reason}`);
    if (avatar && avatar.status !== 'ACTIVE') return deny(`input ${data.dataId}: avatar ${avatar.avatarId} is ${avatar.status}`);
    if (data.stage === 'DELETED') return deny(`input ${data.dataId} is deleted`);
    if (holder.keeperMspId && holder.keeperMspId !== metaverse.mspId) {
      return deny(
        `input ${data.dataId} is held by ${holder.text}; ${metaverse.mspId} cannot send another organisation's data for processing`,
      );
    }
    const control = thingControl(caller, thing);
    if (control.allowed) return allow(`input ${data.dataId}: ${control.reason}`);
    const misses: string[] = [];
    for (const grant of target.grants) {
      if (!grantMatchesCaller(grant, caller)) continue;
      const by = grant.grantedBy;
      if (grant.status !== 'ACTIVE') misses.push(`grant ${grant.grantId} is ${grant.status}`);
      else if (!grant.actions.includes('process')) misses.push(`grant ${grant.grantId} does not include 'process'`);
      else if (grant.purpose !== ANY_PURPOSE && grant.purpose !== purpose)
        misses.push(`grant ${grant.grantId} is for purpose '${grant.purpose}', not '${purpose}'`);
      else if (Date.parse(grant.validFrom) > now) misses.push(`grant ${grant.grantId} is valid from ${grant.validFrom}`);
      else if (Date.parse(grant.validUntil) <= now) misses.push(`grant ${grant.grantId} expired at ${grant.validUntil}`);
      else if (!thingControl(callerOfActor(by), thing).allowed)
        misses.push(`grant ${grant.grantId} was issued by ${by.principal}@${by.mspId}, who does not control thing ${thing.thingId}`);
      else return allow(`input ${data.dataId}: grant ${grant.grantId} gives 'process' for '${grant.purpose}'`, grant.grantId);
    }
    const base = `input ${data.dataId}: ${describe(caller)} has no right to have it processed: no 'process' grant from thing ${thing.thingId}'s owner for purpose '${purpose}' at ${isoOf(now)}`;
    return deny(misses.length ? `${base}: ${misses.join('; ')}` : base);
  },
  'dpm.provider': (caller, f: { job: DpmJob }) => {
    const { job } = f;
    if (caller.mspId !== job.providerMspId)
      return deny(`job ${job.jobId} is for provider ${job.providerId} of ${job.providerMspId}; caller is of ${caller.mspId}`);
    if (caller.role !== 'dpm') return deny(`acting for DPM provider ${job.providerId} needs role dpm; caller is ${describe(caller)}`);
    if (caller.principal !== job.providerId)
      return deny(`caller principal ${caller.principal ?? '<none>'} is not provider ${job.providerId}`);
    return allow(`caller is provider ${job.providerId}`);
  },
  'dpm.read': (caller, f: { job: DpmJob }) => {
    const { job } = f;
    if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
    if (caller.mspId === job.providerMspId) return allow('member of the provider');
    // Trust rule 5: the job and its output reach only whom its process rights name.
    const readers = job.outputReaders ?? [granteeOf(callerOfActor(job.submittedBy))];
    if (readers.every((grantee) => grantMatchesCaller({ grantee } as Grant, caller)))
      return allow('named by every process right of the job');
    return deny(
      `job ${job.jobId} and its output reach only whom its process rights name (${readers.map(granteeText).join(' and ')}); caller is ${describe(caller)}`,
    );
  },
  'dpm.list': (caller, f: { provider: Platform }) => {
    const { provider } = f;
    if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role}`);
    if (caller.mspId === provider.mspId) return allow(`member of provider ${provider.platformId}'s MSP`);
    return deny(
      `listing jobs of ${provider.platformId} needs its MSP ${provider.mspId}, an auditor or a monitor; caller is ${describe(caller)}`,
    );
  },
} satisfies PolicyTable;
