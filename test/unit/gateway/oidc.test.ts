/**
 * P3: OIDC bearer tokens from a REAL OpenID provider (oidc-provider, in-process): JWT access
 * tokens by client credentials with resource indicators, verified by the gateway against the
 * provider's published JWKS (found by discovery).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { startTestGateway, type TestGateway } from './support.js';

const AUDIENCE = 'https://gateway.mvsec.test/';

interface Op {
  issuer: string;
  server: Server;
  token(client: string, resource?: string): Promise<string>;
}

const CLIENTS: Record<string, { role?: string; amr?: string[] }> = {
  'svc-creator': { role: 'creator' },
  'svc-admin-mfa': { role: 'admin', amr: ['pwd', 'mfa'] },
  'svc-admin-nomfa': { role: 'admin' },
  'svc-escalate': { role: 'monitor' },
};

async function startProvider(): Promise<Op> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'k1' };
  const provider = new Provider(issuer, {
    clients: Object.entries(CLIENTS).map(([id, c]) => ({
      client_id: id,
      client_secret: `secret-${id}-0123456789abcdef`,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
      mvsec_role: c.role,
    })),
    extraClientMetadata: { properties: ['mvsec_role'] },
    jwks: { keys: [jwk] },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => {
      const c = CLIENTS[token.clientId ?? ''] ?? {};
      return { ...(c.role ? { mvsec_role: c.role } : {}), ...(c.amr ? { amr: c.amr } : {}) };
    },
  } as never);
  server.on('request', provider.callback());
  return {
    issuer,
    server,
    async token(client, resource = AUDIENCE) {
      const r = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client,
          client_secret: `secret-${client}-0123456789abcdef`,
          resource,
          scope: 'api',
        }),
      });
      const body = (await r.json()) as { access_token?: string };
      if (!r.ok || !body.access_token) throw new Error(`token endpoint ${r.status}: ${JSON.stringify(body)}`);
      return body.access_token;
    },
  };
}

describe('gateway OIDC bearer tokens from a real provider (P3)', () => {
  let op: Op;
  let other: Op;
  let gw: TestGateway;
  before(async () => {
    [op, other] = await Promise.all([startProvider(), startProvider()]);
    gw = await startTestGateway({
      oidcIssuers: [{ issuer: op.issuer, audience: AUDIENCE, mspId: 'MetaverseAMSP', allowedRoles: ['user', 'creator', 'admin'] }],
    });
  });
  after(async () => {
    await gw?.close();
    for (const p of [op, other]) p?.server.closeAllConnections();
    await Promise.all([op, other].map((p) => new Promise((r) => p?.server.close(r))));
  });

  it('P3: a valid token is accepted and mapped to its principal, MSP and role', async () => {
    const t = await op.token('svc-creator');
    const r = await gw.request('GET', '/auth/me', { token: t });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { principal: 'svc-creator', mspId: 'MetaverseAMSP', role: 'creator', issuer: op.issuer, amr: [] });
    const write = await gw.request('POST', '/r5/platforms', {
      token: t,
      json: { platformId: 'p-1', type: 'METAVERSE', name: 'p', capabilityLevel: 1 },
    });
    assert.equal(write.status, 201);
    assert.deepEqual(gw.ledger.submits().at(-1)!.caller, {
      principal: 'svc-creator',
      mspId: 'MetaverseAMSP',
      role: 'creator',
      issuer: op.issuer,
      amr: [],
    });
  });

  it('P3: an expired token is 401', async () => {
    const t = await op.token('svc-creator');
    const saved = gw.clock.now;
    gw.clock.now += 3600_000;
    try {
      const r = await gw.request('GET', '/auth/me', { token: t });
      assert.equal(r.status, 401);
      assert.match(r.body.detail, /exp/);
    } finally {
      gw.clock.now = saved;
    }
  });

  it('P3: a token for another audience is 401', async () => {
    const t = await op.token('svc-creator', 'https://another-api.test/');
    const r = await gw.request('GET', '/auth/me', { token: t });
    assert.equal(r.status, 401);
    assert.match(r.body.detail, /aud/);
  });

  it('P3: a token of an issuer that is not configured is 401', async () => {
    const t = await other.token('svc-creator');
    const r = await gw.request('GET', '/auth/me', { token: t });
    assert.equal(r.status, 401);
    assert.match(r.body.detail, /untrusted issuer/);
  });

  it("P3: a token claiming the trusted issuer but signed by another provider's key is 401", async () => {
    const [h, , s] = (await other.token('svc-creator')).split('.');
    const [, p] = (await op.token('svc-creator')).split('.');
    const r = await gw.request('GET', '/auth/me', { token: `${h}.${p}.${s}` });
    assert.equal(r.status, 401);
  });

  it('P3: an unsigned token (alg none) is 401', async () => {
    const [, p] = (await op.token('svc-creator')).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
    const r = await gw.request('GET', '/auth/me', { token: none });
    assert.equal(r.status, 401);
    assert.match(r.body.detail, /alg none|unsigned/);
  });

  it('P3: a tampered token (role changed) is 401', async () => {
    const [h, p, s] = (await op.token('svc-creator')).split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, mvsec_role: 'admin' })).toString('base64url')}.${s}`;
    const r = await gw.request('GET', '/auth/me', { token: forged });
    assert.equal(r.status, 401);
    assert.match(r.body.detail, /signature/);
  });

  it('A2: role escalation — a role the issuer may not assert is 403', async () => {
    const r = await gw.request('GET', '/auth/me', { token: await op.token('svc-escalate') });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /may not assert role monitor/);
  });

  it('A3: an admin token needs multi-factor authentication (amr): without it 403, with it accepted', async () => {
    const no = await gw.request('GET', '/auth/me', { token: await op.token('svc-admin-nomfa') });
    assert.equal(no.status, 403);
    assert.match(no.body.detail, /multi-factor/);
    const yes = await gw.request('GET', '/auth/me', { token: await op.token('svc-admin-mfa') });
    assert.equal(yes.status, 200);
    assert.equal(yes.body.role, 'admin');
  });
});
