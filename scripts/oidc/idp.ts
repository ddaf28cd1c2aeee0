/**
 * A real OpenID Connect provider as its own process (P3 single sign-on across the organisations'
 * gateways): oidc-provider with the authorization-code flow (PKCE), a password sign-in page,
 * refresh tokens, and resource indicators so one sign-in yields an access token (a JWT, ES256) for
 * each organisation's gateway — each gateway is its own resource (audience) and trusts the issuer
 * for its own organisation only. Roles are per resource: the IdP asserts `mvsec_role` for the
 * gateway a token is for.
 *
 *   npx tsx scripts/oidc/idp.ts <config.json>
 *
 * config: {"port": 0, "users": [{"username", "password", "sub", "roles": {"<audience>": "<role>"}}],
 *          "clients": [{"clientId", "clientSecret", "redirectUris": [...]}], "resources": ["<audience>", ...]}
 * Prints `ready <issuer>` on stdout once listening. A demo and test tool: users and secrets come
 * from the config file, signing keys are generated at start and never written.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

interface User {
  username: string;
  password: string;
  sub: string;
  roles: Record<string, string>;
}
interface Config {
  port?: number;
  users: User[];
  clients: { clientId: string; clientSecret: string; redirectUris: string[] }[];
  resources: string[];
}

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Config;
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 8192) throw new Error('form too large');
  }
  return new URLSearchParams(text);
}

const server = createServer();
await new Promise<void>((r) => server.listen(cfg.port ?? 0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'idp-1' };

const provider = new Provider(issuer, {
  clients: cfg.clients.map((c) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: c.redirectUris,
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
  })),
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'api'],
  findAccount: (_ctx: unknown, sub: string) => {
    const user = cfg.users.find((u) => u.sub === sub);
    return user ? { accountId: sub, claims: () => ({ sub }) } : undefined;
  },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => cfg.resources[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        if (!cfg.resources.includes(resource)) throw new Error(`unknown resource ${resource}`);
        return { scope: 'api', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
  // The role a user has at the organisation whose gateway the token is for.
  extraTokenClaims: (_ctx: unknown, token: { accountId?: string; aud?: string | string[] }) => {
    const user = cfg.users.find((u) => u.sub === token.accountId);
    const aud = Array.isArray(token.aud) ? token.aud[0] : token.aud;
    const role = user && aud ? user.roles[aud] : undefined;
    return role ? { mvsec_role: role } : {};
  },
  interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  ttl: { Session: 3600, Grant: 3600, RefreshToken: 3600, Interaction: 600 },
} as never);

const page = (uid: string, message = '') =>
  `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}">` +
  `<p>${message}</p><label>user <input name="username"></label><label>password <input name="password" type="password"></label>` +
  `<button>Sign in</button></form>`;

server.on('request', async (req, res) => {
  const m = /^\/interaction\/([\w-]+)$/.exec(req.url ?? '');
  if (!m) return provider.callback()(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(details.uid));
      return;
    }
    const form = await body(req);
    const user = cfg.users.find((u) => u.username === form.get('username'));
    if (!user || !same(user.password, form.get('password') ?? '')) {
      res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' }).end(page(details.uid, 'wrong user name or password'));
      return;
    }
    // First-party clients: the sign-in grants what the client asked for (openid, refresh, each gateway).
    const params = details.params as { client_id: string; scope?: string; resource?: string | string[] };
    const grant = new provider.Grant({ accountId: user.sub, clientId: params.client_id });
    grant.addOIDCScope(params.scope ?? 'openid');
    for (const r of [params.resource ?? []].flat()) grant.addResourceScope(r, 'api');
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.sub }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  } catch (e) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`sign-in failed: ${(e as Error).message}`);
  }
});

process.stdout.write(`ready ${issuer}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => server.close(() => process.exit(0)));
