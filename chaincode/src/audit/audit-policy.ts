import { allow, type Decision, deny, type PolicyTable } from '../auth/decision';
import { type Caller, describe } from '../auth/identity';
import { isRole } from '../auth/rights';

/** Auditors, monitors and admins read the audit trail (activity log, history, alerts). */
export function readsAuditTrail(caller: Caller): Decision {
  return isRole(caller, 'auditor', 'monitor', 'admin')
    ? allow(`role ${caller.role}`)
    : deny(`reading the audit trail needs role auditor, monitor or admin; caller is ${describe(caller)}`);
}

/** Audit queries: auditors, monitors and admins. */
export const auditPolicy = {
  'audit.query': readsAuditTrail,
} satisfies PolicyTable;
