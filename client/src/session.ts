/**
 * Signing in to the gateway (A1): `POST /auth/login` with a password and, when the account has a
 * second factor, the current TOTP code (RFC 6238: SHA-1, 6 digits, 30 s, through otplib — what
 * the gateway checks); `POST /auth/refresh` rotates the refresh token. A `Session` keeps the
 * tokens and renews them when the gateway refuses the access token.
 */
import { generate } from 'otplib';
import { ok, request, type RequestOptions, type Res } from './http.js';
import { ApiProblem } from './problem.js';

/** What an account signs in with. */
export interface Credentials {
  username: string;
  password: string;
  /** The account's TOTP secret (base32), when it has a second factor. */
  totpSecret?: string;
}

/** What `/auth/login` and `/auth/refresh` answer. */
export interface Tokens {
  tokenType: 'Bearer';
  accessToken: string;
  /** Seconds the access token is valid for. */
  expiresIn: number;
  refreshToken: string;
}

export const TOTP_STEP_MS = 30_000;

/** The TOTP code of `secret` at `nowMs`. */
export function totpCode(secret: string, nowMs: number = Date.now()): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000) });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LoginOptions {
  /**
   * A TOTP code is good once per 30 s step: when the gateway refuses a sign-in with a code (401),
   * wait for the next step and try again, at most this many times (default 2; 0 never waits).
   */
  totpRetries?: number;
}

/** Sign in with a password (and the current TOTP code when `totpSecret` is given). Throws `ApiProblem` when refused. */
export async function login(url: string, c: Credentials, o: LoginOptions = {}): Promise<Tokens> {
  const retries = o.totpRetries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const totp = c.totpSecret ? await totpCode(c.totpSecret) : undefined;
    const r = await request(url, 'POST', '/auth/login', { username: c.username, password: c.password, ...(totp ? { totp } : {}) });
    if (r.status === 401 && c.totpSecret && attempt < retries) {
      await sleep(TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS) + 500);
      continue;
    }
    return ok<Tokens>(r, `sign-in of ${c.username}`);
  }
}

/** New tokens for a refresh token (which the gateway rotates: the old one is spent). Throws `ApiProblem` when refused. */
export async function refresh(url: string, refreshToken: string): Promise<Tokens> {
  return ok<Tokens>(await request(url, 'POST', '/auth/refresh', { refreshToken }), 'token refresh');
}

export interface SessionOptions {
  /** An access token to start with. */
  token?: string;
  /** A refresh token to renew the access token with. */
  refreshToken?: string;
  /** Sign in (again) with these when there is no usable token. */
  credentials?: Credentials;
  /** JSON (default) or CBOR both ways for every call. */
  cbor?: boolean;
  /** Give every non-GET call an Idempotency-Key (it may then be retried safely). */
  idempotent?: boolean;
  /** Where to say that a refresh token was refused (default: nowhere). */
  log?: (message: string) => void;
}

/**
 * An account's conversation with one gateway: calls carry its bearer token; when the gateway
 * refuses the token (401) the session renews it once — with the refresh token, else by signing in
 * again with the credentials — and repeats the call.
 */
export class Session {
  private accessToken: string | undefined;
  private refresher: string | undefined;

  constructor(
    /** The gateway's base URL (`https://host:8443`). */
    readonly url: string,
    private readonly o: SessionOptions = {},
  ) {
    this.accessToken = o.token;
    this.refresher = o.refreshToken;
  }

  /** A session signed in with `credentials` (which it keeps for signing in again). */
  static async signIn(url: string, credentials: Credentials, o: Omit<SessionOptions, 'credentials'> & LoginOptions = {}): Promise<Session> {
    const t = await login(url, credentials, o);
    return new Session(url, { ...o, credentials, token: t.accessToken, refreshToken: t.refreshToken });
  }

  /** The current access token (undefined before the first sign-in). */
  get token(): string | undefined {
    return this.accessToken;
  }

  /** The current refresh token, if any. */
  get refreshToken(): string | undefined {
    return this.refresher;
  }

  /** Can this session get a new token when the current one is refused? */
  get canRenew(): boolean {
    return !!this.refresher || !!this.o.credentials;
  }

  /** Get a new access token: rotate the refresh token when there is one, else sign in with the credentials. */
  async renew(): Promise<void> {
    if (this.refresher) {
      try {
        this.use(await refresh(this.url, this.refresher));
        return;
      } catch (e) {
        this.refresher = undefined;
        if (!(e instanceof ApiProblem)) throw e;
        this.o.log?.(`token refresh refused: ${e.message}`);
      }
    }
    if (!this.o.credentials)
      throw new Error('the token was refused and the session has neither a refresh token nor credentials to sign in again');
    this.use(await login(this.url, this.o.credentials));
  }

  private use(t: Tokens): void {
    this.accessToken = t.accessToken;
    this.refresher = t.refreshToken;
  }

  private options(opts: RequestOptions): RequestOptions {
    return {
      ...(this.o.cbor !== undefined ? { cbor: this.o.cbor } : {}),
      ...(this.o.idempotent ? { idempotent: true } : {}),
      ...opts,
      ...(this.accessToken ? { token: this.accessToken } : {}),
    };
  }

  /** A call as this account, whatever the answer's status (signs in first when there is no token yet). */
  async call<T = unknown>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Res<T>> {
    if (!this.accessToken && this.canRenew) await this.renew();
    const r = await request<T>(this.url, method, path, body, this.options(opts));
    if (r.status !== 401 || !this.canRenew) return r;
    await this.renew();
    return request<T>(this.url, method, path, body, this.options(opts));
  }

  /** A call whose answer must be 2xx: its body, or the `ApiProblem` the gateway sent. */
  async send<T = unknown>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return ok<T>(await this.call(method, path, body, opts), `${method} ${path}`);
  }

  /** Revoke the refresh token at the gateway and forget the tokens. */
  async logout(): Promise<void> {
    if (this.refresher) ok(await request(this.url, 'POST', '/auth/logout', { refreshToken: this.refresher }, this.options({})), 'sign-out');
    this.accessToken = undefined;
    this.refresher = undefined;
  }
}
