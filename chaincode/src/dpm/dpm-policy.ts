import { thingUsable } from '../auth/control';
import { allow, deny, type PolicyTable } from '../auth/decision';
import { describe } from '../auth/identity';
import { isRole } from '../auth/rights';
import type { DataAnchor } from '../data/data-types';
import type { Platform } from '../platform/platform-types';
import type { Thing } from '../thing/thing-types';
import type { DpmJob } from './dpm-types';

/**
 * DPM jobs:
 * - an admin, creator or avatar-agent of the requesting metaverse's MSP submits a job when every
 *   input is live and its thing's policy allows the metaverse, the provider and the purpose;
 * - only the provider itself (role dpm, principal = provider id, of the provider's MSP) acts on
 *   a job;
 * - auditors, monitors and members of the requester or provider MSP read a job;
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
    if (caller.mspId === job.requesterMspId || caller.mspId === job.providerMspId) return allow('member of the requester or the provider');
    return deny(`${describe(caller)} is neither requester nor provider of job ${job.jobId}`);
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
