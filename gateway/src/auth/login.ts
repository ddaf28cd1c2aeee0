/**
 * Built-in sign-in (A3): password + TOTP, short-lived JWT access tokens (jsonwebtoken, HS256)
 * and rotating refresh tokens (a reused refresh token revokes its whole family). Every access
 * token names its session (`sid`): logout revokes the session's access tokens at once, not only
 * its refresh token; disabling an account or resetting its credentials revokes all its tokens.
 *
 * Lockout cannot be used to keep a known user out: failures count per account AND per client
 * (address, or the address a trusted proxy reports), so an attacker's failures lock only the
 * attacker's own attempts on that account, with a delay doubling per lockout (capped at an hour);
 * a per-client rate limit bounds guessing across accounts; an admin of the organisation unlocks.
 */
import { createHash, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ApiError } from '../http/problem.js';
import type { RoleName } from './schemas.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import { MFA_ROLES, type Caller } from './principal.js';
import { checkTotp, newTotpSecret, totpUri } from './totp.js';
import type { User, UserStore } from './users.js';
import { RateLimiter } from './rate-limit.js';

export const GATEWAY_ISSUER = 'mvsec-gateway';

export interface LoginConfig {
  jwtSecret: Buffer;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  maxFailedAttempts: number;
  lockoutSeconds: number;
  /** Login attempts per client address per minute. */
  attemptsPerMinute: number;
}

export interface Tokens {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
}

interface RefreshEntry {
  username: string;
  family: string;
  expiresAt: number;
  used: boolean;
}

/** Failed sign-ins of one account from one client. */
interface Failures {
  count: number;
  lockouts: number;
  lockedUntil?: number;
}

const MAX_LOCKOUT_MS = 3600_000;

export class LoginService {
  private readonly refresh = new Map<string, RefreshEntry>();
  private readonly revokedFamilies = new Set<string>();
  /** Sign-in attempts per client (its address, or the one a trusted proxy forwards). */
  private readonly clients: RateLimiter;
  /** `<username>\n<client>` → failures; bounded by the per-client rate limit (and cleared on unlock). */
  private readonly failures = new Map<string, Failures>();
  /**
   * The HS256 key as a KeyObject: given a Buffer, jsonwebtoken first tries it as a public key and
   * catches the failure — ~1 ms per request, 5 % of the main thread under telemetry load.
   */
  private readonly jwtKey: KeyObject;

  constructor(
    private readonly users: UserStore,
    private readonly cfg: LoginConfig,
    private readonly now: () => number,
  ) {
    this.jwtKey = createSecretKey(cfg.jwtSecret);
    this.clients = new RateLimiter(cfg.attemptsPerMinute, now);
  }

  /** Create an account. MFA roles get a TOTP secret at once (returned once, to be enrolled). */
  async createUser(input: {
    username: string;
    password: string;
    mspId: string;
    role: RoleName;
    principal?: string;
  }): Promise<{ user: User; totp?: { secret: string; uri: string } }> {
    if (this.users.has(input.username)) throw new ApiError(409, `user ${input.username} exists`);
    const principal = input.principal ?? input.username;
    // One principal, one account: a principal's rights and consents on the ledger are its own, so a
    // second account carrying an existing principal of the organisation would act as that person (trust rule 6).
    const holder = this.users.list().find((u) => u.mspId === input.mspId && u.principal === principal);
    if (holder)
      throw new ApiError(
        409,
        `principal ${principal} of ${input.mspId} already has an account (${holder.username}); one principal has one account`,
        'principal-taken',
      );
    const user: User = {
      username: input.username,
      mspId: input.mspId,
      principal,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      failedAttempts: 0,
    };
    let totp: { secret: string; uri: string } | undefined;
    if (MFA_ROLES.includes(input.role)) {
      user.totpSecret = newTotpSecret();
      totp = { secret: user.totpSecret, uri: totpUri(user.totpSecret, `${user.principal}@${user.mspId}`) };
    }
    this.users.put(user);
    return { user, totp };
  }

  async login(client: string, username: string, password: string, totp: string | undefined): Promise<Tokens> {
    this.clients.take(client, 'sign-in attempts from this client');
    const user = this.users.get(username);
    const now = this.now();
    const key = `${username}\n${client}`;
    const f = this.failures.get(key);
    if (f?.lockedUntil && f.lockedUntil > now) {
      const retry = Math.ceil((f.lockedUntil - now) / 1000);
      throw new ApiError(
        423,
        `sign-in to ${username} from this client is locked after ${this.cfg.maxFailedAttempts} failures; retry in ${retry} s (other clients are not affected; an admin can unlock)`,
        'account-locked',
        { headers: { 'Retry-After': String(retry) } },
      );
    }
    const passwordOk = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !passwordOk || user.disabled) {
      if (user) this.fail(key);
      // A disabled account answers like a wrong password: no probing which accounts exist or are disabled.
      throw new ApiError(401, 'wrong username or password', 'invalid-credentials');
    }
    const amr = ['pwd'];
    const mfaRequired = MFA_ROLES.includes(user.role) || user.totpSecret !== undefined;
    if (mfaRequired) {
      if (!user.totpSecret)
        throw new ApiError(403, `role ${user.role} requires TOTP; no TOTP secret is enrolled for ${username}`, 'mfa-enrolment-required');
      if (!totp) throw new ApiError(401, 'a TOTP code is required for this account', 'mfa-required');
      const step = await checkTotp(user.totpSecret, totp, now, user.lastTotpStep);
      if (step === undefined) {
        this.fail(key);
        throw new ApiError(401, 'wrong or already used TOTP code', 'invalid-credentials');
      }
      this.users.update(username, (u) => (u.lastTotpStep = step));
      amr.push('otp', 'mfa');
    }
    this.failures.delete(key);
    if (user.failedAttempts || user.lockedUntil)
      this.users.update(username, (u) => {
        u.failedAttempts = 0;
        delete u.lockedUntil;
      });
    return this.issue(user, amr, randomUUID());
  }

  private fail(key: string): void {
    const f = this.failures.get(key) ?? { count: 0, lockouts: 0 };
    f.count += 1;
    if (f.count >= this.cfg.maxFailedAttempts) {
      f.lockedUntil = this.now() + Math.min(MAX_LOCKOUT_MS, this.cfg.lockoutSeconds * 1000 * 2 ** f.lockouts);
      f.lockouts += 1;
      f.count = 0;
    }
    this.failures.set(key, f);
  }

  // ------------------------------------------------------------------ account administration

  /** The accounts of `mspId` as an admin sees them (no secrets). */
  accountsOf(mspId: string): AccountView[] {
    return this.users
      .list()
      .filter((u) => u.mspId === mspId)
      .sort((a, b) => (a.username < b.username ? -1 : 1))
      .map((u) => this.view(u));
  }

  view(u: User): AccountView {
    const now = this.now();
    const locks = [...this.failures]
      .filter(([k, f]) => k.startsWith(`${u.username}\n`) && f.lockedUntil && f.lockedUntil > now)
      .map(([, f]) => f.lockedUntil!);
    return {
      username: u.username,
      principal: u.principal,
      mspId: u.mspId,
      role: u.role,
      disabled: u.disabled === true,
      totpEnrolled: u.totpSecret !== undefined,
      lockedClients: locks.length,
      ...(locks.length ? { lockedUntil: new Date(Math.max(...locks)).toISOString() } : {}),
    };
  }

  /** The account `username` of `mspId` (404 for another organisation's: no probing across organisations). */
  account(mspId: string, username: string): User {
    const u = this.users.get(username);
    if (!u || u.mspId !== mspId) throw new ApiError(404, `no account ${username} in ${mspId}`, 'not-found');
    return u;
  }

  /** Disable or enable; disabling revokes every token of the account at once. */
  setDisabled(u: User, disabled: boolean): void {
    this.users.update(u.username, (x) => {
      x.disabled = disabled || undefined;
      if (disabled) x.tokensValidFrom = this.now();
    });
    if (!disabled) return;
    for (const e of this.refresh.values()) if (e.username === u.username) this.revokedFamilies.add(e.family);
  }

  /** Delete an account: its tokens stop working at once (they match no current account). */
  remove(u: User): void {
    this.users.remove(u.username);
    this.unlock(u);
  }

  /** New password (returned once) and, for accounts with TOTP, a new secret to enrol; all tokens revoked. */
  async resetCredentials(u: User): Promise<{ password: string; totp?: { secret: string; uri: string } }> {
    const password = randomBytes(18).toString('base64url');
    const passwordHash = await hashPassword(password);
    const totpSecret = u.totpSecret || MFA_ROLES.includes(u.role) ? newTotpSecret() : undefined;
    this.users.update(u.username, (x) => {
      x.passwordHash = passwordHash;
      if (totpSecret) x.totpSecret = totpSecret;
      delete x.pendingTotpSecret;
      delete x.lastTotpStep;
      x.tokensValidFrom = this.now();
    });
    for (const e of this.refresh.values()) if (e.username === u.username) this.revokedFamilies.add(e.family);
    this.unlock(u);
    return { password, ...(totpSecret ? { totp: { secret: totpSecret, uri: totpUri(totpSecret, `${u.principal}@${u.mspId}`) } } : {}) };
  }

  /** Lift every client's lockout of the account. */
  unlock(u: User): number {
    let n = 0;
    for (const k of [...this.failures.keys()])
      if (k.startsWith(`${u.username}\n`)) {
        this.failures.delete(k);
        n++;
      }
    this.users.update(u.username, (x) => {
      x.failedAttempts = 0;
      delete x.lockedUntil;
    });
    return n;
  }

  private issue(user: User, amr: string[], family: string): Tokens {
    const nowS = Math.floor(this.now() / 1000);
    const accessToken = jwt.sign(
      { msp: user.mspId, role: user.role, amr, username: user.username, sid: family, iat: nowS, exp: nowS + this.cfg.accessTtlSeconds },
      this.jwtKey,
      { algorithm: 'HS256', issuer: GATEWAY_ISSUER, audience: GATEWAY_ISSUER, subject: user.principal, jwtid: randomUUID() },
    );
    const refreshToken = randomBytes(32).toString('base64url');
    this.refresh.set(sha(refreshToken), {
      username: user.username,
      family,
      expiresAt: this.now() + this.cfg.refreshTtlSeconds * 1000,
      used: false,
    });
    return { tokenType: 'Bearer', accessToken, expiresIn: this.cfg.accessTtlSeconds, refreshToken };
  }

  /** Rotate a refresh token. Reusing one revokes the family (it was stolen or replayed). */
  async refreshTokens(refreshToken: string): Promise<Tokens> {
    const e = this.refresh.get(sha(refreshToken));
    if (!e || this.revokedFamilies.has(e.family) || e.expiresAt <= this.now())
      throw new ApiError(401, 'refresh token is not valid', 'invalid-token');
    if (e.used) {
      this.revokedFamilies.add(e.family);
      throw new ApiError(401, 'refresh token was already used; its session is revoked', 'invalid-token');
    }
    e.used = true;
    const user = this.users.get(e.username);
    if (!user || user.disabled) throw new ApiError(401, 'refresh token is not valid', 'invalid-token');
    const amr = MFA_ROLES.includes(user.role) || user.totpSecret ? ['pwd', 'otp', 'mfa'] : ['pwd'];
    return this.issue(user, amr, e.family);
  }

  logout(refreshToken: string): void {
    const e = this.refresh.get(sha(refreshToken));
    if (e) this.revokedFamilies.add(e.family);
  }

  /** Verify one of our own access tokens. */
  verifyAccessToken(token: string): Caller {
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, this.jwtKey, {
        algorithms: ['HS256'],
        issuer: GATEWAY_ISSUER,
        audience: GATEWAY_ISSUER,
        clockTimestamp: Math.floor(this.now() / 1000),
      }) as jwt.JwtPayload;
    } catch (e) {
      throw new ApiError(401, `access token rejected: ${(e as Error).message}`, 'invalid-token', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    }
    const user = typeof claims.username === 'string' ? this.users.get(claims.username) : undefined;
    if (!user || user.principal !== claims.sub || user.mspId !== claims.msp || user.role !== claims.role) {
      throw new ApiError(401, 'access token does not match a current account', 'invalid-token');
    }
    // Revocation at once: a signed-out session, a disabled account, credentials reset after the token was issued.
    if (
      user.disabled ||
      (typeof claims.sid === 'string' && this.revokedFamilies.has(claims.sid)) ||
      (user.tokensValidFrom !== undefined && (claims.iat ?? 0) * 1000 < user.tokensValidFrom - 999)
    )
      throw new ApiError(401, 'access token was revoked (signed out, account disabled or credentials reset)', 'invalid-token', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
    if (MFA_ROLES.includes(user.role) && !amr.includes('otp'))
      throw new ApiError(401, `role ${user.role} needs a token issued with TOTP`, 'mfa-required');
    return { principal: user.principal, mspId: user.mspId, role: user.role, issuer: GATEWAY_ISSUER, amr, username: user.username };
  }

  /** Begin TOTP enrolment for an account; the secret becomes active once confirmed with a code. */
  startTotp(username: string): { secret: string; uri: string } {
    const user = this.users.get(username);
    if (!user) throw new ApiError(404, `no built-in account ${username}`);
    const secret = newTotpSecret();
    this.users.update(username, (u) => (u.pendingTotpSecret = secret));
    return { secret, uri: totpUri(secret, `${user.principal}@${user.mspId}`) };
  }

  async confirmTotp(username: string, code: string): Promise<void> {
    const user = this.users.get(username);
    if (!user?.pendingTotpSecret) throw new ApiError(409, 'no TOTP enrolment in progress', 'conflict');
    const step = await checkTotp(user.pendingTotpSecret, code, this.now());
    if (step === undefined) throw new ApiError(400, 'the TOTP code does not match the new secret', 'validation');
    this.users.update(username, (u) => {
      u.totpSecret = u.pendingTotpSecret;
      delete u.pendingTotpSecret;
      u.lastTotpStep = step;
    });
  }
}

/** An account as its organisation's admins see it. */
export interface AccountView {
  username: string;
  principal: string;
  mspId: string;
  role: RoleName;
  disabled: boolean;
  totpEnrolled: boolean;
  /** clients currently locked out of it (failed sign-ins) */
  lockedClients: number;
  lockedUntil?: string;
}

const sha = (s: string) => createHash('sha256').update(s).digest('base64url');
