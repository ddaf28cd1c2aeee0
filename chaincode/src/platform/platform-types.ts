import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
export {
  PLATFORM_TYPES,
  PLATFORM_STATUSES,
  FEDERATION_STATUSES,
  MAX_CAPABILITY_LEVEL,
  federationIdOf,
  type PlatformType,
  type PlatformStatus,
  type FederationStatus,
} from 'mvsec-protocol';
import { type PlatformType, type PlatformStatus, type FederationStatus } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** A metaverse, IoT, DPM or storage platform, bound to the MSP that registered it (R5). */
@DataType()
export class Platform implements P.Platform {
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
export class Federation implements P.Federation {
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
