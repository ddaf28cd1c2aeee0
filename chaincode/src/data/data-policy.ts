import { ANY_PURPOSE } from '../access/grant-types';
import { type AccessTarget, decideAccess } from '../auth/access-rule';
import { allow, deny, need, type PolicyTable } from '../auth/decision';
import { describe } from '../auth/identity';
import { isAdminOf, isRole } from '../auth/rights';
import { isPeerOrg, piiCollectionFor } from '../common/config';
import type { Thing } from '../thing/thing-types';
import type { DataAnchor } from './data-types';

/**
 * Data anchors and PII:
 * - auditors and monitors read anchors; others by the access rule ('read');
 * - PII is read by members of the collection holding it, by the access rule ('read');
 * - any peer organisation writes PII (into its own collection);
 * - an admin of a member of the collection holding it purges PII;
 * - a storage agent or admin of the owning MSP expires data (X7; the contract checks the time);
 * - storage placement and protection follow the thing's policy (X5).
 */
export const dataPolicy = {
  'data.read': (caller, f: { target: AccessTarget; now: number; purpose?: string }) => {
    if (isRole(caller, 'auditor', 'monitor')) return allow(`role ${caller.role} reads anchors for audit`);
    return decideAccess(caller, f.target, 'read', f.purpose ?? ANY_PURPOSE, f.now);
  },
  'pii.read': (caller, f: { target: AccessTarget; now: number; purpose?: string }) => {
    const data = need(f.target.data, 'the data anchor');
    if (!data.piiCollection) return deny(`data ${data.dataId} has no PII`);
    if (data.piiCollection !== piiCollectionFor(caller.mspId))
      return deny(`PII of ${data.dataId} is held in ${data.piiCollection}; ${caller.mspId} is not a member`);
    return decideAccess(caller, f.target, 'read', f.purpose ?? ANY_PURPOSE, f.now);
  },
  'pii.write': (caller) =>
    isPeerOrg(caller.mspId)
      ? allow(`PII goes to ${piiCollectionFor(caller.mspId)}`)
      : deny(`${caller.mspId} has no peer and therefore no PII collection`),
  'pii.purge': (caller, f: { data: DataAnchor }) => {
    const { data } = f;
    if (!data.piiCollection) return deny(`data ${data.dataId} has no PII`);
    if (data.piiCollection !== piiCollectionFor(caller.mspId))
      return deny(`PII of ${data.dataId} is held in ${data.piiCollection}; ${caller.mspId} is not a member`);
    return isAdminOf(caller, caller.mspId)
      ? allow(`admin of ${caller.mspId}`)
      : deny(`purging PII needs an admin of ${caller.mspId}; caller is ${describe(caller)}`);
  },
  'data.expire': (caller, f: { data: DataAnchor }) => {
    const { data } = f;
    if (caller.mspId !== data.ownerMspId)
      return deny(`expiring data of ${data.ownerMspId} needs its storage agent or admin; caller is ${describe(caller)}`);
    return isRole(caller, 'storage-agent', 'admin')
      ? allow(`${caller.role} of ${caller.mspId}`)
      : deny(`expiring data needs role storage-agent or admin of ${data.ownerMspId}; caller is ${describe(caller)}`);
  },
  'data.placement': (
    _caller,
    f: { thing: Thing; storage: { placement: string; storeId: string }; encrypted: boolean; keyId: string | undefined },
  ) => {
    const { thing, storage, encrypted, keyId } = f;
    const policy = thing.policy;
    if (policy.storage !== 'ANY' && policy.storage !== storage.placement)
      return deny(`thing ${thing.thingId}'s policy stores data ${policy.storage}, not ${storage.placement}`);
    if (storage.placement === 'EXTERNAL' && policy.storageIds.length > 0 && !policy.storageIds.includes(storage.storeId)) {
      return deny(`thing ${thing.thingId}'s policy does not allow store ${storage.storeId}`);
    }
    if (policy.encryptionRequired && (!encrypted || !keyId))
      return deny(`thing ${thing.thingId}'s policy requires encrypted data with a keyId`);
    return allow(`placement ${storage.placement} follows thing ${thing.thingId}'s policy`);
  },
} satisfies PolicyTable;
