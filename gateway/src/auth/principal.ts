import type { RoleName } from './schemas.js';

/** Who is calling: the principal id within its MSP, its role, and how it was authenticated. */
export interface Caller {
  principal: string;
  mspId: string;
  role: RoleName;
  /** 'gateway' (built-in login) or the OIDC issuer URL. */
  issuer: string;
  /** Authentication methods (pwd, otp, …). */
  amr: string[];
  /** The built-in account name, for principals that signed in with a password. */
  username?: string;
}

/** Roles whose sign-in must include a second factor (A3). */
export const MFA_ROLES: readonly RoleName[] = ['admin', 'auditor'];

export const callerKey = (c: Pick<Caller, 'principal' | 'mspId' | 'role'>) => `${c.mspId}\u0000${c.principal}\u0000${c.role}`;
