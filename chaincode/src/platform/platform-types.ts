import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';

export const PLATFORM_TYPES = ['METAVERSE', 'IOT', 'DPM', 'STORAGE'] as const;
export type PlatformType = (typeof PLATFORM_TYPES)[number];
export const PLATFORM_STATUSES = ['ACTIVE', 'SUSPENDED'] as const;
export type PlatformStatus = (typeof PLATFORM_STATUSES)[number];
export const FEDERATION_STATUSES = ['PROPOSED', 'ACTIVE', 'REVOKED'] as const;
export type FederationStatus = (typeof FEDERATION_STATUSES)[number];

/**
 * Security capability levels: the highest data classification a platform (or avatar) may hold.
 * 0 PUBLIC, 1 INTERNAL, 2 CONFIDENTIAL, 3 RESTRICTED.
 */
export const MAX_CAPABILITY_LEVEL = 3;

/** A metaverse, IoT, DPM or storage platform, bound to the MSP that registered it (R5). */
@DataType()
export class Platform {
  @Property('docType', 'string') public docType!: 'platform';
  @Property('platformId', 'string') public platformId!: string;
  @Property('type', 'string') public type!: PlatformType;
  @Property('name', 'string') public name!: string;
  @Property('mspId', 'string') public mspId!: string;
  @Property('capabilityLevel', 'number') public capabilityLevel!: number;
  @Property('endpoint', 'string') public endpoint?: string;
  @Property('status', 'string') public status!: PlatformStatus;
  @Property('statusReason', 'string') public statusReason?: string;
  @Property('registeredBy', 'Actor') public registeredBy!: Actor;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}

/** Mutual authorization of two metaverse platforms; ACTIVE only after both sides signed (R5, X3). */
@DataType()
export class Federation {
  @Property('docType', 'string') public docType!: 'federation';
  @Property('federationId', 'string') public federationId!: string;
  @Property('proposerPlatformId', 'string') public proposerPlatformId!: string;
  @Property('proposerMspId', 'string') public proposerMspId!: string;
  @Property('accepterPlatformId', 'string') public accepterPlatformId!: string;
  @Property('accepterMspId', 'string') public accepterMspId!: string;
  @Property('terms', 'string') public terms!: string;
  @Property('status', 'string') public status!: FederationStatus;
  @Property('proposedBy', 'Actor') public proposedBy!: Actor;
  @Property('acceptedBy', 'Actor') public acceptedBy?: Actor;
  @Property('revokedBy', 'Actor') public revokedBy?: Actor;
  @Property('statusReason', 'string') public statusReason?: string;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}

/** The federation id names both platforms in sorted order: "<a>|<b>". */
export function federationIdOf(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
