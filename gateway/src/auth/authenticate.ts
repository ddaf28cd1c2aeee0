/** Bearer authentication: the gateway's own JWTs or OIDC tokens of configured issuers. */
import type { Request } from 'express';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ApiError } from '../http/problem.js';
import { GATEWAY_ISSUER, type LoginService } from './login.js';
import type { OidcVerifier } from './oidc.js';
import type { Caller } from './principal.js';

const challenge = { headers: { 'WWW-Authenticate': 'Bearer realm="mvsec"' } };

export function authenticator(login: LoginService, oidc: OidcVerifier) {
  return async (req: Request, required: boolean): Promise<Caller | undefined> => {
    const h = req.headers.authorization;
    if (!h) {
      if (required) throw new ApiError(401, 'a bearer token is required', 'unauthenticated', challenge);
      return undefined;
    }
    const m = /^Bearer ([A-Za-z0-9_\-.~+/]+=*)$/.exec(h);
    if (!m) throw new ApiError(401, 'Authorization must be "Bearer <token>"', 'invalid-token', challenge);
    const token = m[1];
    let iss: unknown;
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') throw new Error('unsigned tokens (alg none) are refused');
      iss = decodeJwt(token).iss;
    } catch (e) {
      throw new ApiError(401, `bearer token rejected: ${(e as Error).message}`, 'invalid-token', challenge);
    }
    if (iss === GATEWAY_ISSUER) return login.verifyAccessToken(token);
    if (typeof iss === 'string' && oidc.handles(iss)) return oidc.verify(token, iss);
    throw new ApiError(401, `bearer token from an untrusted issuer (${String(iss)})`, 'invalid-token', challenge);
  };
}

/** Refuse unless the caller has one of `roles` (403, naming the role it has). */
export function requireRole(caller: Caller, roles: readonly string[], what: string): void {
  if (!roles.includes(caller.role))
    throw new ApiError(
      403,
      `${what} needs role ${roles.join(' or ')}; caller ${caller.principal}@${caller.mspId} has role ${caller.role}`,
      'forbidden',
    );
}
