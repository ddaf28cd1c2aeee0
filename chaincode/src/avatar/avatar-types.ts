import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';

export const AVATAR_MODES = ['ACTIVE', 'PASSIVE'] as const;
export type AvatarMode = (typeof AVATAR_MODES)[number];
export const AVATAR_STATUSES = ['ACTIVE', 'SUSPENDED', 'UNMAPPED'] as const;
export type AvatarStatus = (typeof AVATAR_STATUSES)[number];
export const MIGRATION_STATUSES = ['IN_PROGRESS', 'COMPLETED', 'ROLLED_BACK'] as const;
export type MigrationStatus = (typeof MIGRATION_STATUSES)[number];

/** A thing mapped into a metaverse (X1): one thing, many metaverses, several avatars per metaverse. */
@DataType()
export class Avatar {
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
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}

/** Data migration between two avatars of the same thing in one metaverse (X2). */
@DataType()
export class Migration {
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
