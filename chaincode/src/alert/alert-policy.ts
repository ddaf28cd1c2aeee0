import { allow, deny, type PolicyTable } from '../auth/decision';
import { describe } from '../auth/identity';
import { readsAuditTrail } from '../audit/audit-policy';

/**
 * Alerts: only monitors raise and resolve them; auditors, monitors and admins read them (the
 * audit-trail rule).
 */
export const alertPolicy = {
  'alert.raise': (caller) =>
    caller.role === 'monitor' ? allow('role monitor') : deny(`raising alerts needs role monitor; caller is ${describe(caller)}`),
  'alert.resolve': (caller) =>
    caller.role === 'monitor' ? allow('role monitor') : deny(`resolving alerts needs role monitor; caller is ${describe(caller)}`),
  'alert.read': readsAuditTrail,
} satisfies PolicyTable;
