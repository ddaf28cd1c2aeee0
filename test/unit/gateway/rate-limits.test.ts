/**
 * A3 rate limits that do not lump clients together: sign-in attempts count per client — the
 * socket address, or the address a configured trusted proxy forwards (never a header from an
 * untrusted peer) — and authenticated requests count per principal, so users behind one proxy
 * do not exhaust each other's budget. The limiter's memory stays bounded.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RateLimiter } from '../../../gateway/src/auth/rate-limit.js';
import { loadConfig } from '../../../gateway/src/config/load.js';
import { ApiError } from '../../../gateway/src/http/problem.js';
import { startTestGateway, type TestGateway } from './support.js';

const wrong = { username: 'nobody-here', password: 'a wrong password' };

describe('A3: rate limits keyed by client and principal', () => {
  const gateways: TestGateway[] = [];
  after(() => Promise.all(gateways.map((g) => g.close())));
  const start = async (...args: Parameters<typeof startTestGateway>) => {
    const g = await startTestGateway(...args);
    gateways.push(g);
    return g;
  };
  const attempts = (gw: TestGateway, n: number, headers: Record<string, string> = {}) =>
    Promise.all(Array.from({ length: n }, () => gw.request('POST', '/auth/login', { json: wrong, headers }))).then((rs) =>
      rs.map((r) => r.status),
    );

  it('A3: behind a trusted proxy each forwarded client has its own sign-in budget', async () => {
    const gw = await start({ loginAttemptsPerMinute: 3, trustedProxies: ['loopback'] });
    assert.deepEqual(await attempts(gw, 3, { 'x-forwarded-for': '203.0.113.7' }), [401, 401, 401]);
    const limited = await gw.request('POST', '/auth/login', { json: wrong, headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(limited.status, 429);
    assert.match(limited.body.detail, /too many sign-in attempts from this client; retry in \d+ s/);
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
    // another user behind the same proxy still signs in (here: is judged on the password, 401)
    assert.deepEqual(await attempts(gw, 1, { 'x-forwarded-for': '198.51.100.20' }), [401]);
  });

  it('A3: without a trusted proxy a forwarded address is ignored: the socket address counts', async () => {
    const gw = await start({ loginAttemptsPerMinute: 2 });
    assert.deepEqual(await attempts(gw, 1, { 'x-forwarded-for': '203.0.113.1' }), [401]);
    assert.deepEqual(await attempts(gw, 1, { 'x-forwarded-for': '203.0.113.2' }), [401]);
    assert.deepEqual(await attempts(gw, 1, { 'x-forwarded-for': '203.0.113.3' }), [429]);
  });

  it('A3: authenticated requests are limited per principal, not per address', async () => {
    const gw = await start({ requestsPerMinute: 3 });
    const [alice, bob] = [await gw.tokenFor('creator', 'IoTPlatformMSP', 'alice'), await gw.tokenFor('creator', 'IoTPlatformMSP', 'bob')];
    const statuses = async (token: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await gw.request('GET', '/auth/me', { token })).status);
      return out;
    };
    assert.deepEqual(await statuses(alice, 4), [200, 200, 200, 429]);
    const refused = await gw.request('GET', '/auth/me', { token: alice });
    assert.equal(refused.body.detail.startsWith('too many requests from this principal; retry in'), true, refused.body.detail);
    assert.deepEqual(await statuses(bob, 3), [200, 200, 200]);
  });

  it('A3: the limiter forgets idle keys and keeps at most its bound', () => {
    let t = 0;
    const limiter = new RateLimiter(2, () => t, 100);
    for (let i = 0; i < 1000; i++) limiter.take(`client-${i}`, 'x');
    assert.equal(limiter.size, 100);
    t = 61_000;
    limiter.take('late', 'x');
    assert.equal(limiter.size, 1);
    limiter.take('late', 'x');
    assert.throws(
      () => limiter.take('late', 'x'),
      (e: unknown) => e instanceof ApiError && e.status === 429,
    );
    t = 122_000;
    assert.doesNotThrow(() => limiter.take('late', 'x'));
  });

  it('A3: a misspelt trusted proxy stops the gateway at start with the entry named', () => {
    assert.throws(
      () => loadConfig({ MVSEC_GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8, lopback' }),
      /trusted proxy "lopback" is not an address, a CIDR or one of loopback, linklocal, uniquelocal/,
    );
    assert.deepEqual(loadConfig({ MVSEC_GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8,::1,loopback' }).trustedProxies, [
      '10.0.0.0/8',
      '::1',
      'loopback',
    ]);
  });
});
