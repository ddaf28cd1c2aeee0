/**
 * Single sign-on as a person does it (P3): the OpenID provider of scripts/oidc/idp.ts runs as its
 * own process; `signIn` walks the authorization-code flow with PKCE like a browser would (sign-in
 * form, cookies, redirects) once, then asks the token endpoint for an access token per gateway
 * (resource indicators), the later ones with the refresh token — no second sign-in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../../scripts/lib/paths.js';

export interface IdpUser {
  username: string;
  password: string;
  sub: string;
  /** role at each gateway (audience) */
  roles: Record<string, string>;
}

export interface Idp {
  issuer: string;
  client: { clientId: string; clientSecret: string; redirectUri: string };
  stop(): Promise<void>;
}

export async function startIdp(users: IdpUser[], resources: string[]): Promise<Idp> {
  const dir = mkdtempSync(join(tmpdir(), 'mvsec-idp-'));
  const client = { clientId: 'mvsec-console', clientSecret: randomBytes(24).toString('hex'), redirectUri: 'http://127.0.0.1/sso-callback' };
  const file = join(dir, 'idp.json');
  writeFileSync(
    file,
    JSON.stringify({
      users,
      resources,
      clients: [{ clientId: client.clientId, clientSecret: client.clientSecret, redirectUris: [client.redirectUri] }],
    }),
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/oidc/idp.ts'), file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the IdP did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the IdP exited (${code}): ${out}`)));
  });
  return {
    issuer,
    client,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Cookies as a browser keeps them for one site (names only; the IdP sets path-scoped ones). */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface Session {
  /** An access token for `resource` (the first from the code, the others by refresh: no new sign-in). */
  tokenFor(resource: string): Promise<string>;
  /** How many times the person typed a password. */
  signIns: number;
}

/** Sign in once at the IdP for `resources`; tokens per gateway follow without another sign-in. */
export async function signIn(idp: Idp, username: string, password: string, resources: string[]): Promise<Session> {
  const jar = new Jar();
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const auth = new URL(`${idp.issuer}/auth`);
  const q = auth.searchParams;
  q.set('client_id', idp.client.clientId);
  q.set('response_type', 'code');
  q.set('redirect_uri', idp.client.redirectUri);
  q.set('scope', 'openid offline_access api');
  q.set('prompt', 'consent'); // oidc-provider issues refresh tokens (offline_access) only with it
  q.set('code_challenge', challenge);
  q.set('code_challenge_method', 'S256');
  q.set('state', state);
  for (const r of resources) q.append('resource', r);

  const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(new URL(url, idp.issuer), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers ?? {}), cookie: jar.header() },
    });
    jar.take(res);
    return res;
  };
  let res = await go(auth.toString());
  const interaction = res.headers.get('location');
  if (res.status !== 303 || !interaction) throw new Error(`authorization request: ${res.status} ${await res.text()}`);
  const form = await go(interaction);
  if (form.status !== 200) throw new Error(`sign-in page: ${form.status}`);
  res = await go(interaction, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  if (res.status !== 303) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  res = await go(res.headers.get('location')!); // resume the authorization
  const back = new URL(res.headers.get('location') ?? '', idp.issuer);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) throw new Error(`no code in the redirect: ${res.status} ${back}`);

  const token = async (params: Record<string, string>) => {
    const r = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: idp.client.clientId, client_secret: idp.client.clientSecret, ...params }).toString(),
    });
    const b = (await r.json()) as { access_token?: string; refresh_token?: string };
    if (!r.ok || !b.access_token) throw new Error(`token endpoint ${r.status}: ${JSON.stringify(b)}`);
    return b;
  };
  const first = await token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: idp.client.redirectUri,
    code_verifier: verifier,
    resource: resources[0],
  });
  let refresh = first.refresh_token;
  if (!refresh) throw new Error('the IdP issued no refresh token');
  const tokens = new Map<string, string>([[resources[0], first.access_token!]]);
  return {
    signIns: 1,
    async tokenFor(resource) {
      const have = tokens.get(resource);
      if (have) return have;
      const next = await token({ grant_type: 'refresh_token', refresh_token: refresh!, resource });
      if (next.refresh_token) refresh = next.refresh_token;
      tokens.set(resource, next.access_token!);
      return next.access_token!;
    },
  };
}
