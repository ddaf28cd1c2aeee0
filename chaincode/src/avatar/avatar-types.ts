import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
export {
  AVATAR_MODES,
  AVATAR_STATUSES,
  MIGRATION_STATUSES,
  type AvatarMode,
  type AvatarStatus,
  type MigrationStatus,
} from 'mvsec-protocol';
import { type AvatarMode, type AvatarStatus, type MigrationStatus } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** A thing mapped into a metaverse (X1): one thing, many metaverses, several avatars per metaverse. */
@DataType()
export class Avatar implements P.Avatar {
  @Property('docType', 'string') public docType!: 'avatar';
  @Property('avatarId', 'string') public avatarId!: string;
  @Property('thingId', 'string') public thingId!: string;
  @Property('metaverseId', 'string') public metaverseId!: string;
  @Property('mspId', 'string') public mspId!: string;
  @Property('mode', 'string') public mode!: AvatarMode;
  @Property('capabilityLevel', 'number') public capabilityLevel!: number;
  @Property('agents', 'string[]') public agents!: string[];
  @Property('status', 'string') public status!: AvatarStatus;
  @Property('statusReason', 'string') public statusReason?: string;
  @Property('suspendedByAlert', 'string') public suspendedByAlert?: string;
  @Property('mappedBy', 'Actor') public mappedBy!: Actor;
  @Property('approvedBy', 'Actor') public approvedBy?: Actor;
  @Property('approvedAt', 'string') public approvedAt?: string;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}

/** Data migration between two avatars of the same thing in one metaverse (X2). */
@DataType()
export class Migration implements P.Migration {
  @Property('docType', 'string') public docType!: 'migration';
  @Property('migrationId', 'string') public migrationId!: string;
  @Property('thingId', 'string') public thingId!: string;
  @Property('metaverseId', 'string') public metaverseId!: string;
  @Property('sourceAvatarId', 'string') public sourceAvatarId!: string;
  @Property('targetAvatarId', 'string') public targetAvatarId!: string;
  @Property('dataId', 'string') public dataId!: string;
  @Property('dataSha256', 'string') public dataSha256!: string;
  @Property('classification', 'string') public classification!: string;
  @Property('targetCapabilityLevel', 'number') public targetCapabilityLevel!: number;
  @Property('backupRef', 'string') public backupRef!: string;
  @Property('status', 'string') public status!: MigrationStatus;
  @Property('resultSha256', 'string') public resultSha256?: string;
  @Property('statusReason', 'string') public statusReason?: string;
  @Property('startedBy', 'Actor') public startedBy!: Actor;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}
