import type { Context } from 'fabric-contract-api';
import { keys } from '../common/keys';
import { mustGet, putRecord } from '../common/state';
import type { DataAnchor } from './data-types';

export async function loadData(ctx: Context, dataId: string): Promise<DataAnchor> {
  return mustGet<DataAnchor>(ctx, keys.data(ctx.stub, dataId), `data ${dataId}`);
}

export async function saveData(ctx: Context, data: DataAnchor): Promise<void> {
  await putRecord(ctx, keys.data(ctx.stub, data.dataId), data);
}
