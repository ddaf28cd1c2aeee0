import type { Context } from 'fabric-contract-api';
import { keys, KeyType } from '../common/keys';
import { listByPartialKey, mustGet, putRecord } from '../common/state';
import type { Grant, ResourceType } from './grant-types';

/** Most grants one resource may carry (keeps access checks bounded). */
export const MAX_GRANTS_PER_RESOURCE = 64;

export async function loadGrant(ctx: Context, grantId: string): Promise<Grant> {
  return mustGet<Grant>(ctx, keys.grant(ctx.stub, grantId), `grant ${grantId}`);
}

/** The grant is stored under its id and, as a copy, under the resource index (one range read finds them all). */
export async function saveGrant(ctx: Context, grant: Grant): Promise<void> {
  await putRecord(ctx, keys.grant(ctx.stub, grant.grantId), grant);
  await putRecord(ctx, keys.grantByResource(ctx.stub, grant.resourceType, grant.resourceId, grant.grantId), grant);
}

export async function grantsOf(ctx: Context, resourceType: ResourceType, resourceId: string): Promise<Grant[]> {
  const rows = await listByPartialKey<Grant>(ctx, KeyType.grantByResource, [resourceType, resourceId], MAX_GRANTS_PER_RESOURCE + 1);
  return rows.map((r) => r.value);
}
