import type { Context } from 'fabric-contract-api';
import { invalid } from '../common/errors';
import { keys, KeyType } from '../common/keys';
import { listByPartialKey, mustGet, putIndex, putRecord } from '../common/state';
import type { inputs } from 'mvsec-protocol';
import { DataFlowPolicy, Thing } from './thing-types';

export async function loadThing(ctx: Context, thingId: string): Promise<Thing> {
  return mustGet<Thing>(ctx, keys.thing(ctx.stub, thingId), `thing ${thingId}`);
}

export async function saveThing(ctx: Context, thing: Thing): Promise<void> {
  await putRecord(ctx, keys.thing(ctx.stub, thing.thingId), thing);
}

/** Index a new thing under its owner, within the owner's (= the thing's) organisation. */
export async function indexThingOwner(ctx: Context, thing: Thing): Promise<void> {
  await putIndex(ctx, keys.thingByOwner(ctx.stub, thing.mspId, thing.owner, thing.thingId));
}

/**
 * Is `owner` a known principal of `mspId` on the ledger (rule 6): does it already own a thing
 * registered in that organisation? One index entry is enough.
 */
export async function ownsAThing(ctx: Context, mspId: string, owner: string): Promise<boolean> {
  return (await listByPartialKey(ctx, KeyType.thingByOwner, [mspId, owner], 1)).length > 0;
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

/**
 * The stored policy of a data-flow policy input the protocol schema accepted (X5): missing fields
 * take the closed default; a transmit window must not be empty.
 */
export function policyOf(p: inputs.DataFlowPolicyInput | undefined): DataFlowPolicy {
  if (p === undefined) return { ...CLOSED_POLICY };
  const w = p.transmitWindow;
  if (w && w.fromHour === w.toHour) throw invalid('policy.transmitWindow is empty (fromHour equals toHour)');
  return {
    storage: p.storage ?? CLOSED_POLICY.storage,
    storageIds: p.storageIds ?? [],
    allowedMetaverses: p.allowedMetaverses ?? [],
    allowedDpmProviders: p.allowedDpmProviders ?? [],
    purposes: p.purposes ?? [],
    retentionDays: p.retentionDays ?? CLOSED_POLICY.retentionDays,
    encryptionRequired: p.encryptionRequired ?? CLOSED_POLICY.encryptionRequired,
    ...(w ? { transmitWindow: { fromHour: w.fromHour, toHour: w.toHour } } : {}),
  };
}
