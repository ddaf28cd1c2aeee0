import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
export { DATA_STAGES, PLACEMENTS, type DataStage, type Placement } from 'mvsec-protocol';
import { type DataStage, type Placement } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** Where the encrypted off-chain object lives (R2, S2). */
@DataType()
export class StorageLocation implements P.StorageLocation {
  @Property('placement', 'string') public placement!: Placement;
  @Property('storeId', 'string') public storeId!: string;
  @Property('uri', 'string') public uri!: string;
}

/** One lifecycle step of a data object (M1). */
@DataType()
export class LifecycleStep implements P.LifecycleStep {
  @Property('stage', 'string') public stage!: DataStage;
  @Property('at', 'string') public at!: string;
  @Property('by', 'Actor') public by!: Actor;
  @Property('note', 'string') public note?: string;
}

/** Fingerprint of an off-chain object bound to the ledger (F2, S1, C3). */
@DataType()
export class DataAnchor implements P.DataAnchor {
  @Property('docType', 'string') public docType!: 'data';
  @Property('dataId', 'string') public dataId!: string;
  @Property('thingId', 'string') public thingId!: string;
  @Property('avatarId', 'string') public avatarId?: string;
  @Property('sha256', 'string') public sha256!: string;
  @Property('size', 'number') public size!: number;
  @Property('category', 'string') public category!: string;
  @Property('classification', 'string') public classification!: string;
  @Property('owner', 'string') public owner!: string;
  @Property('ownerMspId', 'string') public ownerMspId!: string;
  @Property('storage', 'StorageLocation') public storage!: StorageLocation;
  @Property('keyId', 'string') public keyId?: string;
  @Property('encrypted', 'boolean') public encrypted!: boolean;
  @Property('stage', 'string') public stage!: DataStage;
  @Property('lifecycle', 'LifecycleStep[]') public lifecycle!: LifecycleStep[];
  @Property('piiHash', 'string') public piiHash?: string;
  @Property('piiCollection', 'string') public piiCollection?: string;
  @Property('anchoredBy', 'Actor') public anchoredBy!: Actor;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}

/** Merkle root of a batch of readings (C3). */
@DataType()
export class BatchAnchor implements P.BatchAnchor {
  @Property('docType', 'string') public docType!: 'batch';
  @Property('batchId', 'string') public batchId!: string;
  @Property('thingId', 'string') public thingId!: string;
  @Property('merkleRoot', 'string') public merkleRoot!: string;
  @Property('leafCount', 'number') public leafCount!: number;
  @Property('firstReadingAt', 'string') public firstReadingAt!: string;
  @Property('lastReadingAt', 'string') public lastReadingAt!: string;
  @Property('storage', 'StorageLocation') public storage?: StorageLocation;
  @Property('anchoredBy', 'Actor') public anchoredBy!: Actor;
  @Property('createdAt', 'string') public createdAt!: string;
}

/** PII kept only in the private data collection of the writer's organisation (X7). */
@DataType()
export class PiiRecord implements P.PiiRecord {
  @Property('dataId', 'string') public dataId!: string;
  @Property('thingId', 'string') public thingId?: string;
  @Property('salt', 'string') public salt!: string;
  @Property('details', 'string') public details!: string;
  @Property('collection', 'string') public collection!: string;
}

/**
 * Answer of StorePII: the PII is in `piiCollection`, its public fingerprint is `piiHash`
 * (HMAC-SHA256 under the thing's secret in that collection); anchor it with AnchorData {piiHash}.
 */
@DataType()
export class PiiStaged {
  @Property('dataId', 'string') public dataId!: string;
  @Property('thingId', 'string') public thingId!: string;
  @Property('piiCollection', 'string') public piiCollection!: string;
  @Property('piiHash', 'string') public piiHash!: string;
  /** true when this call created the thing's secret from the supplied key material */
  @Property('keyCreated', 'boolean') public keyCreated!: boolean;
}

/** Answer of VerifyData / VerifyInclusion. */
@DataType()
export class Verification implements P.Verification {
  @Property('valid', 'boolean') public valid!: boolean;
  @Property('reason', 'string') public reason!: string;
}

@DataType()
export class DataAnchorPage implements P.DataAnchorPage {
  @Property('items', 'DataAnchor[]') public items!: DataAnchor[];
  @Property('bookmark', 'string') public bookmark!: string;
}
