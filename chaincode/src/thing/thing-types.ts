import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
export {
  THING_KINDS,
  ACCESS_MODES,
  THING_STATUSES,
  CLASSIFICATIONS,
  STORAGE_PLACEMENTS,
  classificationLevel,
  type ThingKind,
  type AccessMode,
  type ThingStatus,
  type Classification,
  type StoragePlacement,
} from 'mvsec-protocol';
import { type ThingKind, type AccessMode, type ThingStatus, type Classification, type StoragePlacement } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** Hours of the day (UTC, by transaction time) when the thing's data may be transmitted: [fromHour, toHour). */
@DataType()
export class TransmitWindow implements P.TransmitWindow {
  @Property('fromHour', 'number') public fromHour!: number;
  @Property('toHour', 'number') public toHour!: number;
}

/** Where a thing's data may be stored, who may receive it, for what, for how long (X5). */
@DataType()
export class DataFlowPolicy implements P.DataFlowPolicy {
  @Property('storage', 'string') public storage!: StoragePlacement;
  @Property('storageIds', 'string[]') public storageIds!: string[];
  @Property('allowedMetaverses', 'string[]') public allowedMetaverses!: string[];
  @Property('allowedDpmProviders', 'string[]') public allowedDpmProviders!: string[];
  @Property('purposes', 'string[]') public purposes!: string[];
  @Property('retentionDays', 'number') public retentionDays!: number;
  @Property('encryptionRequired', 'boolean') public encryptionRequired!: boolean;
  @Property('transmitWindow', 'TransmitWindow') public transmitWindow?: TransmitWindow;
}

/** A sensor, device, IoT system or IoT gateway registered by an IoT platform (F4, X5). */
@DataType()
export class Thing implements P.Thing {
  @Property('docType', 'string') public docType!: 'thing';
  @Property('thingId', 'string') public thingId!: string;
  @Property('name', 'string') public name!: string;
  @Property('kind', 'string') public kind!: ThingKind;
  @Property('platformId', 'string') public platformId!: string;
  @Property('mspId', 'string') public mspId!: string;
  @Property('accessMode', 'string') public accessMode!: AccessMode;
  @Property('gatewayId', 'string') public gatewayId?: string;
  @Property('publicKey', 'string') public publicKey!: string;
  @Property('owner', 'string') public owner!: string;
  @Property('classification', 'string') public classification!: Classification;
  @Property('agents', 'string[]') public agents!: string[];
  @Property('status', 'string') public status!: ThingStatus;
  @Property('statusReason', 'string') public statusReason?: string;
  @Property('suspendedByAlert', 'string') public suspendedByAlert?: string;
  @Property('policy', 'DataFlowPolicy') public policy!: DataFlowPolicy;
  @Property('registeredBy', 'Actor') public registeredBy!: Actor;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}
