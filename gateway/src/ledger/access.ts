/** R4 grants and access decisions (access contract). */
import type { AccessAction, AccessDecision, Grant, ResourceType } from 'mvsec-protocol';
import type { CreateGrantInput } from 'mvsec-protocol/inputs';
import type { Caller } from '../auth/principal.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

/** What CheckAccess is asked: may the caller perform `action` on the resource, for `purpose` ('*' any). */
export interface AccessQuestion {
  resourceType: ResourceType;
  resourceId: string;
  action: AccessAction;
  purpose: string;
}

export class AccessLedger {
  constructor(private readonly tx: Transactions) {}

  /** The ledger's decision for the caller (as the chaincode answers it; a double may answer less). */
  check(caller: Caller, q: AccessQuestion): Promise<AccessDecision> {
    return this.tx.evaluate(caller, 'access:CheckAccess', [q.resourceType, q.resourceId, q.action, q.purpose]);
  }
  getGrant(caller: Caller, grantId: string): Promise<Grant> {
    return this.tx.evaluate(caller, 'access:GetGrant', [grantId]);
  }
  createGrant(caller: Caller, input: CreateGrantInput, o?: SubmitOptions): Promise<Committed<Grant>> {
    return this.tx.submit(caller, 'access:CreateGrant', [json(input)], o);
  }
  revokeGrant(caller: Caller, grantId: string, reason: string, o?: SubmitOptions): Promise<Committed<Grant>> {
    return this.tx.submit(caller, 'access:RevokeGrant', [grantId, reason], o);
  }
}
