import { DataType, Property } from '../common/decorators';
import type { Context } from 'fabric-contract-api';
import { assertId } from '../common/validation';

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
}

/** The transaction creator's identity, read only from the certificate. */
export function callerOf(ctx: Context): Caller {
  const cid = ctx.clientIdentity;
  const rawRole = cid.getAttributeValue('role');
  const role = rawRole && (ROLES as readonly string[]).includes(rawRole) ? (rawRole as Role) : null;
  const rawPrincipal = cid.getAttributeValue('principal');
  let principal: string | null = null;
  if (rawPrincipal) {
    try {
      principal = assertId('principal attribute', rawPrincipal);
    } catch {
      principal = null;
    }
  }
  return { mspId: cid.getMSPID(), role, principal, id: cid.getID() };
}

/** The caller as stored in records (principal and role as given, '' when absent). */
export function actorOf(caller: Caller): Actor {
  return { mspId: caller.mspId, principal: caller.principal ?? '', role: caller.role ?? '' };
}

/** Human-readable caller for reasons: principal@MSP (role). */
export function describe(caller: Caller): string {
  return `${caller.principal ?? '<no principal>'}@${caller.mspId} (role ${caller.role ?? 'none'})`;
}
