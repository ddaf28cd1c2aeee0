import type { Actor } from './actor';

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
export interface Platform {
  docType: 'platform';
  platformId: string;
  type: PlatformType;
  name: string;
  mspId: string;
  capabilityLevel: number;
  endpoint?: string;
  status: PlatformStatus;
  statusReason?: string;
  registeredBy: Actor;
  createdAt: string;
  updatedAt: string;
}

/** Mutual authorization of two metaverse platforms; ACTIVE only after both sides signed (R5, X3). */
export interface Federation {
  docType: 'federation';
  federationId: string;
  proposerPlatformId: string;
  proposerMspId: string;
  accepterPlatformId: string;
  accepterMspId: string;
  terms: string;
  status: FederationStatus;
  proposedBy: Actor;
  acceptedBy?: Actor;
  revokedBy?: Actor;
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
}

/** The federation id names both platforms in sorted order: "<a>|<b>". */
export function federationIdOf(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
