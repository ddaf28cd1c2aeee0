import type { Actor } from './actor';

export const ACCESS_ACTIONS = ['read', 'write', 'share', 'process', 'delete'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];
export const RESOURCE_TYPES = ['THING', 'AVATAR', 'DATA'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];
export const GRANTEE_TYPES = ['PRINCIPAL', 'MSP', 'ROLE'] as const;
export type GranteeType = (typeof GRANTEE_TYPES)[number];
export const GRANT_STATUSES = ['ACTIVE', 'REVOKED'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];
/** Purpose value that matches any purpose. */
export const ANY_PURPOSE = '*';

/** Who a grant is for: a principal of an MSP, every identity of an MSP, or a role (optionally within one MSP). */
export interface Grantee {
  type: GranteeType;
  id: string;
  mspId?: string;
}

/** Permission to perform actions on a thing, avatar or data anchor, for a purpose, until a time (A1, X5). */
export interface Grant {
  docType: 'grant';
  grantId: string;
  resourceType: ResourceType;
  resourceId: string;
  grantee: Grantee;
  actions: AccessAction[];
  purpose: string;
  validFrom: string;
  validUntil: string;
  status: GrantStatus;
  grantedBy: Actor;
  revokedBy?: Actor;
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
}

/** Answer of CheckAccess. */
export interface AccessDecision {
  allowed: boolean;
  reason: string;
  grantId?: string;
}
