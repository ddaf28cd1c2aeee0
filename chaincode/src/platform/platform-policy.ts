import { allow, type Decision, deny, type PolicyTable } from '../auth/decision';
import { type Caller, describe } from '../auth/identity';
import { isAdminOf } from '../auth/rights';
import { isPeerOrg } from '../common/config';
import type { Federation, Platform } from './platform-types';

/** Proposing or accepting a federation: an admin of the caller-side platform's MSP. */
const federationSide =
  (verb: 'proposing' | 'accepting') =>
  (caller: Caller, f: { platform: Platform; peer: Platform }): Decision => {
    const { platform, peer } = f;
    if (!isAdminOf(caller, platform.mspId)) {
      return deny(`${verb} federation for ${platform.platformId} needs an admin of ${platform.mspId}; caller is ${describe(caller)}`);
    }
    const distinct = distinctOrganisations(
      'federation',
      { id: platform.platformId, mspId: platform.mspId },
      { id: peer.platformId, mspId: peer.mspId },
    );
    if (!distinct.allowed) return distinct;
    return allow(`admin of ${platform.mspId}`);
  };

/**
 * Rule 6 (distinct parties): double verification (X3) is only real between two organisations.
 * Two platforms (or the two sides of a transfer) of one MSP are refused.
 */
export function distinctOrganisations(what: string, a: { id: string; mspId: string }, b: { id: string; mspId: string }): Decision {
  return a.mspId === b.mspId
    ? deny(`${what} needs two different organisations (double verification, X3): ${a.id} and ${b.id} both belong to ${a.mspId}`)
    : allow(`${a.id} (${a.mspId}) and ${b.id} (${b.mspId}) are of different organisations`);
}

/**
 * Rule 6: an MSP runs one ACTIVE metaverse platform. `current` is the one it registered last
 * (absent if none); a suspended one may be replaced, and is then not resumed while the new one is
 * active.
 */
function oneMetaversePerMsp(platform: Platform, current: Platform | undefined): Decision | undefined {
  if (platform.type !== 'METAVERSE' || !current || current.platformId === platform.platformId || current.status !== 'ACTIVE')
    return undefined;
  return deny(
    `${platform.mspId} already runs metaverse platform ${current.platformId} (ACTIVE); an organisation runs one metaverse platform, ` +
      `so that double verification (X3) always involves two organisations (suspend ${current.platformId} to replace it)`,
  );
}

/**
 * Platforms and federations:
 * - any admin registers a platform; a metaverse only if its MSP runs a peer and has no other
 *   ACTIVE metaverse platform (rule 6; `current` is the MSP's registered metaverse, if any);
 * - only admins of the platform's MSP change it; a metaverse is resumed only while its MSP runs
 *   no other ACTIVE metaverse (rule 6);
 * - an admin of the caller-side platform's MSP proposes or accepts a federation, and only with a
 *   platform of another MSP (rule 6);
 * - an admin of either federated MSP revokes it;
 * - every member with a role reads the registry (platforms, things, avatars, data anchors).
 */
export const platformPolicy = {
  'platform.register': (caller, f: { platform: Platform; current: Platform | undefined }) => {
    if (caller.role !== 'admin') return deny(`registering a platform needs role admin; caller is ${describe(caller)}`);
    if (f.platform.type === 'METAVERSE' && !isPeerOrg(caller.mspId)) {
      return deny(`a metaverse platform must be run by a peer organisation; ${caller.mspId} runs no peer`);
    }
    return oneMetaversePerMsp(f.platform, f.current) ?? allow(`admin of ${caller.mspId}`);
  },
  'platform.resume': (caller, f: { platform: Platform; current: Platform | undefined }) => {
    const { platform } = f;
    if (!isAdminOf(caller, platform.mspId))
      return deny(
        `platform ${platform.platformId} belongs to ${platform.mspId}; only its admins may change it, caller is ${describe(caller)}`,
      );
    return oneMetaversePerMsp(platform, f.current) ?? allow(`admin of ${platform.mspId}, which registered ${platform.platformId}`);
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
