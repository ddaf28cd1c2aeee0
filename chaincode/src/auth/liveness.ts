import type { Avatar } from '../avatar/avatar-types';
import type { Federation, Platform } from '../platform/platform-types';
import type { Thing } from '../thing/thing-types';
import { type Decision, deny } from './decision';

/**
 * The parties a data movement depends on, read at the moment it happens (trust rule 4): the thing,
 * the avatars involved (source, and target if named), the platforms involved (both metaverses, or
 * metaverse and DPM provider) and, for a cross-metaverse movement, their federation (`null` when
 * it was required but never existed).
 */
export interface Parties {
  thing: Thing;
  avatars: Avatar[];
  platforms: Platform[];
  federation?: Federation | null;
}

/** A refusal naming the first party that is not ACTIVE (suspended, revoked, unmapped), else undefined. */
export function inactiveParty(p: Parties): Decision | undefined {
  const { thing } = p;
  if (thing.status !== 'ACTIVE') {
    return deny(`thing ${thing.thingId} is ${thing.status}${thing.statusReason ? ` (${thing.statusReason})` : ''}`);
  }
  for (const a of p.avatars) {
    if (a.status !== 'ACTIVE') return deny(`avatar ${a.avatarId} is ${a.status}${a.statusReason ? ` (${a.statusReason})` : ''}`);
  }
  for (const pl of p.platforms) {
    if (pl.status !== 'ACTIVE') {
      return deny(`platform ${pl.platformId} is ${pl.status}${pl.statusReason ? ` (${pl.statusReason})` : ''}`);
    }
  }
  if (p.federation === null) return deny('the metaverses are not federated');
  if (p.federation && p.federation.status !== 'ACTIVE') {
    return deny(`federation ${p.federation.federationId} is ${p.federation.status}`);
  }
  return undefined;
}
