import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
export { TRANSFER_KINDS, TRANSFER_STATUSES, TERMINAL_TRANSFER_STATUSES, type TransferKind, type TransferStatus } from 'mvsec-protocol';
import { type TransferKind, type TransferStatus } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** One step of a transfer's life. */
@DataType()
export class TransferStep implements P.TransferStep {
  @Property('status', 'string') public status!: TransferStatus;
  @Property('at', 'string') public at!: string;
  @Property('by', 'Actor') public by!: Actor;
  @Property('txId', 'string') public txId!: string;
  @Property('reason', 'string') public reason?: string;
}

@DataType()
export class Transfer implements P.Transfer {
  @Property('docType', 'string') public docType!: 'transfer';
  @Property('transferId', 'string') public transferId!: string;
  @Property('kind', 'string') public kind!: TransferKind;
  @Property('thingId', 'string') public thingId!: string;
  @Property('sourceAvatarId', 'string') public sourceAvatarId!: string;
  @Property('sourceMetaverseId', 'string') public sourceMetaverseId!: string;
  @Property('sourceMspId', 'string') public sourceMspId!: string;
  @Property('targetMetaverseId', 'string') public targetMetaverseId!: string;
  @Property('targetMspId', 'string') public targetMspId!: string;
  @Property('targetAvatarId', 'string') public targetAvatarId?: string;
  @Property('dataId', 'string') public dataId!: string;
  @Property('dataSha256', 'string') public dataSha256!: string;
  @Property('items', 'string[]') public items!: string[];
  @Property('purpose', 'string') public purpose!: string;
  @Property('owner', 'string') public owner!: string;
  @Property('ownerMspId', 'string') public ownerMspId!: string;
  @Property('status', 'string') public status!: TransferStatus;
  @Property('expiresAt', 'string') public expiresAt!: string;
  @Property('endorsingMsps', 'string[]') public endorsingMsps!: string[];
  @Property('requestedBy', 'Actor') public requestedBy!: Actor;
  @Property('steps', 'TransferStep[]') public steps!: TransferStep[];
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}
