import type { Context } from 'fabric-contract-api';
import { invalid } from '../common/errors';
import { keys } from '../common/keys';
import { mustGet, putRecord } from '../common/state';
import { assertBool, assertEnum, assertIdList, assertInt, assertOnlyFields, assertText } from '../common/validation';
import { DataFlowPolicy, STORAGE_PLACEMENTS, Thing, TransmitWindow } from './thing-types';

export async function loadThing(ctx: Context, thingId: string): Promise<Thing> {
  return mustGet<Thing>(ctx, keys.thing(ctx.stub, thingId), `thing ${thingId}`);
}

export async function saveThing(ctx: Context, thing: Thing): Promise<void> {
  await putRecord(ctx, keys.thing(ctx.stub, thing.thingId), thing);
}

/** The default policy is closed: on-platform storage, no receivers, encryption required. */
export const CLOSED_POLICY: DataFlowPolicy = {
  storage: 'ON_PLATFORM',
  storageIds: [],
  allowedMetaverses: [],
  allowedDpmProviders: [],
  purposes: [],
  retentionDays: 365,
  encryptionRequired: true,
};

/** Validate a data-flow policy object (X5). */
export function parsePolicy(value: unknown): DataFlowPolicy {
  if (value === undefined) return { ...CLOSED_POLICY };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('policy must be an object');
  const p = value as Record<string, unknown>;
  assertOnlyFields('policy', p, [
    'storage',
    'storageIds',
    'allowedMetaverses',
    'allowedDpmProviders',
    'purposes',
    'retentionDays',
    'encryptionRequired',
    'transmitWindow',
  ]);
  let transmitWindow: TransmitWindow | undefined;
  if (p.transmitWindow !== undefined && p.transmitWindow !== null) {
    const w = p.transmitWindow as Record<string, unknown>;
    if (typeof w !== 'object') throw invalid('policy.transmitWindow must be {fromHour, toHour}');
    assertOnlyFields('policy.transmitWindow', w, ['fromHour', 'toHour']);
    transmitWindow = {
      fromHour: assertInt('policy.transmitWindow.fromHour', w.fromHour, 0, 23),
      toHour: assertInt('policy.transmitWindow.toHour', w.toHour, 0, 24),
    };
    if (transmitWindow.fromHour === transmitWindow.toHour) throw invalid('policy.transmitWindow is empty (fromHour equals toHour)');
  }
  const purposes = assertIdList('policy.purposes', p.purposes);
  purposes.forEach((purpose, i) => assertText(`policy.purposes[${i}]`, purpose, 64));
  return {
    storage: p.storage === undefined ? CLOSED_POLICY.storage : assertEnum('policy.storage', p.storage, STORAGE_PLACEMENTS),
    storageIds: assertIdList('policy.storageIds', p.storageIds),
    allowedMetaverses: assertIdList('policy.allowedMetaverses', p.allowedMetaverses),
    allowedDpmProviders: assertIdList('policy.allowedDpmProviders', p.allowedDpmProviders),
    purposes,
    retentionDays:
      p.retentionDays === undefined ? CLOSED_POLICY.retentionDays : assertInt('policy.retentionDays', p.retentionDays, 1, 36500),
    encryptionRequired: assertBool('policy.encryptionRequired', p.encryptionRequired, true),
    transmitWindow,
  };
}
