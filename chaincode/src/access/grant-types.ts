import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';

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
@DataType()
export class Grantee {
  @Property('type', 'string') public type!: GranteeType;
  @Property('id', 'string') public id!: string;
  @Property('mspId', 'string') public mspId?: string;
}

/** Permission to perform actions on a thing, avatar or data anchor, for a purpose, until a time (A1, X5). */
@DataType()
export class Grant {
  @Property('docType', 'string') public docType!: 'grant';
  @Property('grantId', 'string') public grantId!: string;
  @Property('resourceType', 'string') public resourceType!: ResourceType;
  @Property('resourceId', 'string') public resourceId!: string;
  @Property('grantee', 'Grantee') public grantee!: Grantee;
  @Property('actions', 'string[]') public actions!: AccessAction[];
  @Property('purpose', 'string') public purpose!: string;
  @Property('validFrom', 'string') public validFrom!: string;
  @Property('validUntil', 'string') public validUntil!: string;
  @Property('status', 'string') public status!: GrantStatus;
  @Property('grantedBy', 'Actor') public grantedBy!: Actor;
  @Property('revokedBy', 'Actor') public revokedBy?: Actor;
  @Property('statusReason', 'string') public statusReason?: string;
  @Property('createdAt', 'string') public createdAt!: string;
  @Property('updatedAt', 'string') public updatedAt!: string;
}

/** Answer of CheckAccess. */
@DataType()
export class AccessDecision {
  @Property('allowed', 'boolean') public allowed!: boolean;
  @Property('reason', 'string') public reason!: string;
  @Property('grantId', 'string') public grantId?: string;
}
