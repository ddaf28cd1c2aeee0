import type { Context } from 'fabric-contract-api';
import { keys } from '../common/keys';
import { mustGet, putRecord } from '../common/state';
import type { Avatar } from './avatar-types';

export async function loadAvatar(ctx: Context, avatarId: string): Promise<Avatar> {
  return mustGet<Avatar>(ctx, keys.avatar(ctx.stub, avatarId), `avatar ${avatarId}`);
}

export async function saveAvatar(ctx: Context, avatar: Avatar): Promise<void> {
  await putRecord(ctx, keys.avatar(ctx.stub, avatar.avatarId), avatar);
}
