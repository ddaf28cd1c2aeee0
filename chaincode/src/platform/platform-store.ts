import type { Context } from 'fabric-contract-api';
import { conflict } from '../common/errors';
import { keys } from '../common/keys';
import { getRecord, mustGet, putRecord } from '../common/state';
import type { Platform, PlatformType } from './platform-types';

export async function loadPlatform(ctx: Context, platformId: string): Promise<Platform> {
  return mustGet<Platform>(ctx, keys.platform(ctx.stub, platformId), `platform ${platformId}`);
}

/** A platform of the given type that is ACTIVE; CONFLICT otherwise. */
export async function loadActivePlatform(ctx: Context, platformId: string, type: PlatformType): Promise<Platform> {
  const platform = await loadPlatform(ctx, platformId);
  if (platform.type !== type) throw conflict(`platform ${platformId} is a ${platform.type} platform, not ${type}`);
  if (platform.status !== 'ACTIVE') throw conflict(`platform ${platformId} is ${platform.status}`);
  return platform;
}

/** The metaverse platform `mspId` runs (rule 6: one per MSP), if it registered one. */
export async function metaverseOfMsp(ctx: Context, mspId: string): Promise<Platform | undefined> {
  const entry = await getRecord<{ platformId: string }>(ctx, keys.metaverseOfMsp(ctx.stub, mspId));
  return entry ? loadPlatform(ctx, entry.platformId) : undefined;
}

/** Record `platform` as the metaverse platform its MSP runs. */
export async function bindMetaverseToMsp(ctx: Context, platform: Platform): Promise<void> {
  await putRecord(ctx, keys.metaverseOfMsp(ctx.stub, platform.mspId), { platformId: platform.platformId });
}
