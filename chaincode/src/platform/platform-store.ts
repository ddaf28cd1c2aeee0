import type { Context } from 'fabric-contract-api';
import { conflict } from '../common/errors';
import { keys } from '../common/keys';
import { mustGet } from '../common/state';
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
