import type { Actor } from './actor';

export const AVATAR_MODES = ['ACTIVE', 'PASSIVE'] as const;
export type AvatarMode = (typeof AVATAR_MODES)[number];
/** PENDING: mapped by the metaverse, awaiting the thing owner's (or its controller's) approval (trust rule 8). */
export const AVATAR_STATUSES = ['PENDING', 'ACTIVE', 'SUSPENDED', 'UNMAPPED'] as const;
export type AvatarStatus = (typeof AVATAR_STATUSES)[number];
export const MIGRATION_STATUSES = ['IN_PROGRESS', 'COMPLETED', 'ROLLED_BACK'] as const;
export type MigrationStatus = (typeof MIGRATION_STATUSES)[number];

/** A thing mapped into a metaverse (X1): one thing, many metaverses, several avatars per metaverse. */
export interface Avatar {
  docType: 'avatar';
  avatarId: string;
  thingId: string;
  metaverseId: string;
  mspId: string;
  mode: AvatarMode;
  capabilityLevel: number;
  agents: string[];
  status: AvatarStatus;
  statusReason?: string;
  suspendedByAlert?: string;
  mappedBy: Actor;
  /** who agreed for the thing's side (its owner or a listed thing agent), when (trust rule 8) */
  approvedBy?: Actor;
  approvedAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** Data migration between two avatars of the same thing in one metaverse (X2). */
export interface Migration {
  docType: 'migration';
  migrationId: string;
  thingId: string;
  metaverseId: string;
  sourceAvatarId: string;
  targetAvatarId: string;
  dataId: string;
  dataSha256: string;
  classification: string;
  targetCapabilityLevel: number;
  backupRef: string;
  status: MigrationStatus;
  resultSha256?: string;
  statusReason?: string;
  startedBy: Actor;
  createdAt: string;
  updatedAt: string;
}
