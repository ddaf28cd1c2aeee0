import { DataType, Property } from '../common/decorators';
import type { Context } from 'fabric-contract-api';
import { assertId } from '../common/validation';
import type { RoleIssuers } from '../governance/governance-types';
import { roleRefusal } from '../governance/role-issuers';

/** Roles carried in the `role` attribute of the caller's X.509 certificate (one list: mvsec-protocol). */
export { ROLES, type Role } from 'mvsec-protocol';
import { ROLES, type Role } from 'mvsec-protocol';

/** Who submitted the transaction: MSP id plus the `role` and `principal` certificate attributes. */
@DataType()
export class Actor {
  @Property('mspId', 'string') public mspId!: string;
  @Property('principal', 'string') public principal!: string;
  @Property('role', 'string') public role!: string;
}

export interface Caller {
  mspId: string;
  /** null when the certificate carries no known role */
  role: Role | null;
  /** null when the certificate carries no (valid) principal attribute */
  principal: string | null;
  /** the certificate's subject and issuer as Fabric prints them */
  id: string;
  /**
   * Trust rule 1: the role the certificate carries when its MSP may not issue it (then `role` is
   * null), and why.
   */
  unrecognised?: { role: Role; reason: string };
  /**
   * Trust rule 8: the principal the certificate carries when its key is not the one bound to that
   * principal (then `principal` is null), and why.
   */
  unbound?: { principal: string; reason: string };
}

/** What a transaction context caches, read once per transaction (LedgerContract.beforeTransaction). */
export interface RoleIssuersOnContext {
  /** trust rule 1: which organisations may issue which roles */
  roleIssuers?: RoleIssuers;
  /** trust rule 8: `{ refusal }` once the certificate's principal was checked against its bound key (refusal: why it may not act) */
  principalCheck?: { refusal?: string };
}

/** The certificate's `principal` attribute when it is a valid id, else null. */
export function certificatePrincipal(ctx: Context): string | null {
  const raw = ctx.clientIdentity.getAttributeValue('principal');
  if (!raw) return null;
  try {
    return assertId('principal attribute', raw);
  } catch {
    return null;
  }
}

/** The certificate's role when it is a known one. */
export function certificateRole(ctx: Context): Role | null {
  const rawRole = ctx.clientIdentity.getAttributeValue('role');
  return rawRole && (ROLES as readonly string[]).includes(rawRole) ? (rawRole as Role) : null;
}

/**
 * The transaction creator's identity, read only from the certificate. Trust rule 1: a role its
 * MSP may not issue (ledger setting role issuers, cached on the context) counts as no role.
 */
export function callerOf(ctx: Context): Caller {
  const cid = ctx.clientIdentity;
  const mspId = cid.getMSPID();
  const role = certificateRole(ctx);
  let principal = certificatePrincipal(ctx);
  let unbound: Caller['unbound'];
  if (principal !== null) {
    // Trust rule 8: a principal whose bound key did not sign counts as no principal.
    const check = (ctx as RoleIssuersOnContext).principalCheck;
    const refusal = check ? check.refusal : `principal ${principal} cannot be recognised: its key binding was not read in this transaction`;
    if (refusal) [unbound, principal] = [{ principal, reason: refusal }, null];
  }
  const caller: Caller = { mspId, role, principal, id: cid.getID(), ...(unbound ? { unbound } : {}) };
  if (role === null) return caller;
  const setting = (ctx as RoleIssuersOnContext).roleIssuers;
  const refusal = setting
    ? roleRefusal(setting, role, mspId)
    : `role ${role} from ${mspId} cannot be recognised: the role issuers were not read in this transaction`;
  return refusal ? { ...caller, role: null, unrecognised: { role, reason: refusal } } : caller;
}

/** The caller as stored in records (principal and role as given, '' when absent). */
export function actorOf(caller: Caller): Actor {
  return { mspId: caller.mspId, principal: caller.principal ?? '', role: caller.role ?? '' };
}

/** Human-readable caller for reasons: principal@MSP (role). */
export function describe(caller: Caller): string {
  const role = caller.role ?? (caller.unrecognised ? `none: ${caller.unrecognised.role} not recognised from ${caller.mspId}` : 'none');
  const principal = caller.principal ?? (caller.unbound ? `<${caller.unbound.principal}: not its bound key>` : '<no principal>');
  return `${principal}@${caller.mspId} (role ${role})`;
}
