import { allow, type Decision, deny, type PolicyTable } from '../auth/decision';
import { type Caller, describe } from '../auth/identity';
import { isAdminOf } from '../auth/rights';
import { isPeerOrg } from '../common/config';
import type { Federation, Platform } from './platform-types';

/** Proposing or accepting a federation: an admin of the caller-side platform's MSP. */
const federationSide =
  (verb: 'proposing' | 'accepting') =>
  (caller: Caller, f: { platform: Platform }): Decision => {
    const { platform } = f;
    if (!isAdminOf(caller, platform.mspId)) {
      return deny(`${verb} federation for ${platform.platformId} needs an admin of ${platform.mspId}; caller is ${describe(caller)}`);
    }
    return allow(`admin of ${platform.mspId}`);
  };

/**
 * Platforms and federations:
 * - any admin registers a platform; a metaverse only if its MSP runs a peer;
 * - only admins of the platform's MSP change it;
 * - an admin of the caller-side platform's MSP proposes or accepts a federation;
 * - an admin of either federated MSP revokes it;
 * - every member with a role reads the registry (platforms, things, avatars, data anchors).
 */
export const platformPolicy = {
  'platform.register': (caller, f: { platform: Platform }) => {
    if (caller.role !== 'admin') return deny(`registering a platform needs role admin; caller is ${describe(caller)}`);
    if (f.platform.type === 'METAVERSE' && !isPeerOrg(caller.mspId)) {
      return deny(`a metaverse platform must be run by a peer organisation; ${caller.mspId} runs no peer`);
    }
    return allow(`admin of ${caller.mspId}`);
  },
  'platform.manage': (caller, f: { platform: Platform }) => {
    const { platform } = f;
    return isAdminOf(caller, platform.mspId)
      ? allow(`admin of ${platform.mspId}, which registered ${platform.platformId}`)
      : deny(`platform ${platform.platformId} belongs to ${platform.mspId}; only its admins may change it, caller is ${describe(caller)}`);
  },
  'federation.propose': federationSide('proposing'),
  'federation.accept': federationSide('accepting'),
  'federation.revoke': (caller, f: { federation: Federation }) => {
    const fed = f.federation;
    if (isAdminOf(caller, fed.proposerMspId) || isAdminOf(caller, fed.accepterMspId)) return allow(`admin of a federated platform's MSP`);
    return deny(
      `revoking federation ${fed.federationId} needs an admin of ${fed.proposerMspId} or ${fed.accepterMspId}; caller is ${describe(caller)}`,
    );
  },
  'registry.read': () => allow('platforms, things and avatars are readable by every member with a role'),
} satisfies PolicyTable;
