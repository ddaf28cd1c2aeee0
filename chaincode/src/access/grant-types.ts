import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
export {
  ACCESS_ACTIONS,
  RESOURCE_TYPES,
  GRANTEE_TYPES,
  GRANT_STATUSES,
  ANY_PURPOSE,
  type AccessAction,
  type ResourceType,
  type GranteeType,
  type GrantStatus,
} from 'mvsec-protocol';
import { type AccessAction, type ResourceType, type GranteeType, type GrantStatus } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** Who a grant is for: a principal of an MSP, every identity of an MSP, or a role (optionally within one MSP). */
@DataType()
export class Grantee implements P.Grantee {
  @Property('type', 'string') public type!: GranteeType;
  @Property('id', 'string') public id!: string;
  @Property('mspId', 'string') public mspId?: string;
}

/** Permission to perform actions on a thing, avatar or data anchor, for a purpose, until a time (A1, X5). */
@DataType()
export class Grant implements P.Grant {
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
export class AccessDecision implements P.AccessDecision {
  @Property('allowed', 'boolean') public allowed!: boolean;
  @Property('reason', 'string') public reason!: string;
  @Property('grantId', 'string') public grantId?: string;
}
