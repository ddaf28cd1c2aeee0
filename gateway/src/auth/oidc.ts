/**
 * P3: OpenID Connect / OAuth 2.0 bearer tokens from configured issuers, verified against the
 * issuer's published keys (JWKS, found through discovery unless configured) with `jose`.
 * Only asymmetric algorithms are accepted; issuer, audience, expiry and signature must hold.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { ApiError } from '../http/problem.js';
import { Role } from 'mvsec-protocol/inputs';
import type { RoleName } from './schemas.js';
import { MFA_ROLES, type Caller } from './principal.js';

export interface OidcIssuerConfig {
  issuer: string;
  audience: string;
  /** MSP the issuer's principals belong to (an issuer speaks for one organisation). */
  mspId: string;
  jwksUri?: string;
  principalClaim?: string;
  roleClaim?: string;
  /** Roles this issuer may assert; anything else is refused (403). */
  allowedRoles: RoleName[];
  defaultRole?: RoleName;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const unauthorized = (detail: string) =>
  new ApiError(401, detail, 'invalid-token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });

export class OidcVerifier {
  private readonly jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly issuers: OidcIssuerConfig[],
    private readonly now: () => number,
  ) {}

  handles(issuer: string): boolean {
    return this.issuers.some((i) => i.issuer === issuer);
  }

  private async keysOf(cfg: OidcIssuerConfig) {
    let set = this.jwks.get(cfg.issuer);
    if (!set) {
      let uri = cfg.jwksUri;
      if (!uri) {
        const res = await fetch(`${cfg.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new ApiError(503, `OIDC discovery for ${cfg.issuer} answered ${res.status}`, 'issuer-unavailable');
        uri = ((await res.json()) as { jwks_uri?: string }).jwks_uri;
        if (!uri) throw new ApiError(503, `OIDC discovery for ${cfg.issuer} has no jwks_uri`, 'issuer-unavailable');
      }
      set = createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      this.jwks.set(cfg.issuer, set);
    }
    return set;
  }

  async verify(token: string, issuer: string): Promise<Caller> {
    const cfg = this.issuers.find((i) => i.issuer === issuer);
    if (!cfg) throw unauthorized(`issuer ${issuer} is not trusted`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keysOf(cfg), {
        issuer: cfg.issuer,
        audience: cfg.audience,
        algorithms: ALGORITHMS,
        currentDate: new Date(this.now()),
        clockTolerance: 5,
        requiredClaims: ['exp', 'iat'],
      }));
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw unauthorized(`OIDC token rejected: ${(e as Error).message}`);
    }
    const principal = payload[cfg.principalClaim ?? 'sub'];
    // eslint-disable-next-line no-control-regex -- refusing control characters in principals
    if (typeof principal !== 'string' || principal.length === 0 || principal.length > 128 || /[\u0000-\u001f]/.test(principal)) {
      throw unauthorized(`OIDC token has no usable ${cfg.principalClaim ?? 'sub'} claim`);
    }
    const claimed = payload[cfg.roleClaim ?? 'mvsec_role'] ?? cfg.defaultRole ?? 'user';
    const role = Role.safeParse(claimed);
    if (!role.success) throw new ApiError(403, `role ${String(claimed)} is not a role of this system`, 'role-not-allowed');
    if (!cfg.allowedRoles.includes(role.data)) {
      throw new ApiError(
        403,
        `issuer ${cfg.issuer} may not assert role ${role.data} (allowed: ${cfg.allowedRoles.join(', ')})`,
        'role-not-allowed',
      );
    }
    const amr = Array.isArray(payload.amr) ? payload.amr.map(String) : [];
    if (MFA_ROLES.includes(role.data) && !amr.some((m) => ['mfa', 'otp', 'hwk'].includes(m))) {
      throw new ApiError(403, `role ${role.data} requires multi-factor authentication (amr claim)`, 'mfa-required');
    }
    return { principal, mspId: cfg.mspId, role: role.data, issuer: cfg.issuer, amr };
  }
}
