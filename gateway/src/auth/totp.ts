/** TOTP (RFC 6238, SHA-1, 6 digits, 30 s) through otplib, with replay protection by time step. */
import { generate, generateSecret, generateURI, verify } from 'otplib';

export const newTotpSecret = (): string => generateSecret();

export function totpUri(secret: string, account: string, issuer = 'mvsec'): string {
  return generateURI({ issuer, label: account, secret });
}

/** The current code (for tests and enrolment checks). */
export function totpCode(secret: string, nowMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000) });
}

/**
 * Check `token`; accepts the previous step too (clock skew). Returns the matched time step,
 * which must be greater than `afterTimeStep` (a code is used once).
 */
export async function checkTotp(secret: string, token: string, nowMs: number, afterTimeStep?: number): Promise<number | undefined> {
  try {
    const r = await verify({
      secret,
      token,
      epoch: Math.floor(nowMs / 1000),
      epochTolerance: [30, 0],
      ...(afterTimeStep !== undefined ? { afterTimeStep } : {}),
    });
    return r.valid ? ((r as { timeStep?: number }).timeStep ?? Math.floor(nowMs / 30_000)) : undefined;
  } catch {
    return undefined;
  }
}
