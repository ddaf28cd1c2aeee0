/**
 * Trust rule 1 at the gateway: an account may carry only a role its organisation may issue, as the
 * ledger's role-issuer setting says (governance:GetRoleIssuers). The chaincode refuses such a role
 * anyway; refusing the account says so at once instead of creating an account that can do nothing.
 */
import type { RoleName } from './schemas.js';
import type { Caller } from './principal.js';
import { ApiError } from '../http/problem.js';
import type { LedgerClient } from '../ledger/client.js';

export async function assertRoleIssuable(ledger: LedgerClient, caller: Caller, mspId: string, role: RoleName): Promise<void> {
  const setting = await ledger.governance.roleIssuers(caller);
  const entry = Array.isArray(setting?.issuers) ? setting.issuers.find((i) => i.role === role) : undefined;
  if (!entry) throw new ApiError(502, `the ledger's role-issuer setting names no role ${role}`, 'bad-ledger-answer');
  if (entry.anyMember || entry.mspIds.includes(mspId)) return;
  throw new ApiError(
    403,
    `role ${role} cannot be issued by ${mspId}: only ${entry.mspIds.join(', ') || 'no organisation'} may issue ${role} (ledger setting role issuers, version ${setting.version})`,
    'role-not-issuable',
  );
}
