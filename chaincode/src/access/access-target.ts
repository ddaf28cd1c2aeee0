import type { Context } from 'fabric-contract-api';
import type { AccessTarget } from '../auth/access-rule';
import { type Action, authorize, type FactsOf } from '../auth/authorize';
import { type Decision, deny } from '../auth/decision';
import { inactiveParty } from '../auth/liveness';
import { loadPlatform } from '../platform/platform-store';
import type { Caller } from '../auth/identity';
import { loadAvatar } from '../avatar/avatar-store';
import { invalid } from '../common/errors';
import { holderOf } from '../data/data-holder';
import { loadData } from '../data/data-store';
import { loadThing } from '../thing/thing-store';
import { grantsOf } from './grant-store';
import type { ResourceType } from './grant-types';

/** Load the records an access decision on a thing, avatar or data anchor hangs from (grants not yet loaded). */
export async function loadAccessTarget(ctx: Context, type: ResourceType, id: string): Promise<AccessTarget> {
  switch (type) {
    case 'THING':
      return { type, id, thing: await loadThing(ctx, id), grants: [] };
    case 'AVATAR': {
      const avatar = await loadAvatar(ctx, id);
      return { type, id, avatar, thing: await loadThing(ctx, avatar.thingId), grants: [] };
    }
    case 'DATA': {
      const data = await loadData(ctx, id);
      const avatar = data.avatarId ? await loadAvatar(ctx, data.avatarId) : undefined;
      return { type, id, data, avatar, thing: await loadThing(ctx, data.thingId), grants: [] };
    }
    default:
      throw invalid(`unknown resource type ${String(type)}`);
  }
}

/**
 * The organisations a thing, avatar or data anchor belongs to (trust rule 9): a thing to its IoT
 * platform's MSP, an avatar to its metaverse's MSP, data to its holders (`data/data-holder.ts`).
 */
export function ownersOf(target: AccessTarget): string[] {
  if (target.data) return holderOf(target.data, target.avatar).mspIds;
  if (target.avatar) return [target.avatar.mspId];
  return [target.thing.mspId];
}

/** Grants on the resource and on every record it belongs to (data → avatar → thing). */
async function loadGrants(ctx: Context, target: AccessTarget): Promise<AccessTarget> {
  const grants = [...(target.data ? await grantsOf(ctx, 'DATA', target.data.dataId) : [])];
  if (target.avatar) grants.push(...(await grantsOf(ctx, 'AVATAR', target.avatar.avatarId)));
  grants.push(...(await grantsOf(ctx, 'THING', target.thing.thingId)));
  return { ...target, grants };
}

/** Actions decided on an access target, where a grant may be what allows them. */
export type GrantedAction = { [A in Action]: FactsOf<A> extends { target: AccessTarget } ? A : never }[Action];

/**
 * Decide an action that may be allowed by a grant. Grants are read only when ownership or
 * agency does not already decide, so owners pay no range read; the decision itself is always
 * the authorization module's.
 */
export async function decideWithGrants<A extends GrantedAction>(
  ctx: Context,
  caller: Caller,
  action: A,
  facts: FactsOf<A> & { target: AccessTarget },
): Promise<Decision> {
  // `authorize` typed for this one action (its facts argument is a conditional type TS cannot resolve for a generic A).
  const decide = authorize as (caller: Caller, action: A, facts: FactsOf<A>) => Decision;
  const first = decide(caller, action, facts);
  if (first.allowed) return first;
  const target = await loadGrants(ctx, facts.target);
  if (target.grants.length === 0) return first;
  const decision = decide(caller, action, { ...facts, target });
  if (decision.allowed && decision.grantId && movesData(action, facts)) {
    // Trust rule 4: a grant that moves or uses data is used only while the records it hangs from are live.
    const inactive = await inactiveAround(ctx, target);
    if (inactive) return deny(`grant ${decision.grantId} cannot be used now: ${inactive.reason}`);
  }
  return decision;
}

/** Actions that move or use data (not plain reads): a grant allowing them is re-checked against live parties. */
function movesData(action: GrantedAction, facts: object): boolean {
  if (action === 'resource.access') return (facts as { accessAction?: string }).accessAction !== 'read';
  return action === 'transfer.request' || action === 'dpm.process';
}

/** The thing, the avatar and the platforms of both (the thing's IoT platform, the avatar's metaverse) must be ACTIVE. */
async function inactiveAround(ctx: Context, target: AccessTarget): Promise<Decision | undefined> {
  const platforms = [await loadPlatform(ctx, target.thing.platformId)];
  if (target.avatar) platforms.push(await loadPlatform(ctx, target.avatar.metaverseId));
  return inactiveParty({ thing: target.thing, avatars: target.avatar ? [target.avatar] : [], platforms });
}
