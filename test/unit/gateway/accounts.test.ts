/**
 * A3 account administration: an organisation's admin lists, disables, enables, resets, unlocks and
 * deletes its own organisation's accounts only; logout, disable, reset and delete revoke tokens at
 * once; knowing a username does not lock its owner out (failures count per client).
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './support.js';

/** POST /auth/login from a chosen loopback source address (127.0.0.x), as different clients would. */
function loginFrom(url: string, from: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const u = new URL('/auth/login', url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('A3: account administration by the organisation’s admins', () => {
  let gw: TestGateway;
  let admin: string;
  let otherAdmin: string;
  const password = 'a-long-enough-password';
  const create = async (username: string, role = 'creator') => {
    const r = await gw.request('POST', '/auth/users', { token: admin, json: { username, password, role } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  };
  const signIn = async (username: string, pw = password, from = '127.0.0.1') => loginFrom(gw.url, from, { username, password: pw });
  const tokenOf = async (username: string) => {
    const r = await signIn(username);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { accessToken: string; refreshToken: string };
  };
  const me = (token: string) => gw.request('GET', '/auth/me', { token });

  before(async () => {
    gw = await startTestGateway({ maxFailedAttempts: 3, lockoutSeconds: 60, loginAttemptsPerMinute: 100 });
    admin = await gw.tokenFor('admin', 'IoTPlatformMSP');
    otherAdmin = await gw.tokenFor('admin', 'MetaverseAMSP');
  });
  after(() => gw.close());

  it('A3: the admin lists its own organisation’s accounts only; others may not list', async () => {
    await create('list-1');
    const mine = await gw.request('GET', '/auth/users', { token: admin });
    assert.equal(mine.status, 200);
    const names = mine.body.items.map((a: { username: string }) => a.username);
    assert.ok(names.includes('list-1'));
    assert.ok(mine.body.items.every((a: { mspId: string }) => a.mspId === 'IoTPlatformMSP'));
    assert.ok(!JSON.stringify(mine.body).includes('passwordHash') && !JSON.stringify(mine.body).includes('totpSecret'));
    const theirs = await gw.request('GET', '/auth/users', { token: otherAdmin });
    assert.ok(!theirs.body.items.some((a: { username: string }) => a.username === 'list-1'));
    const user = await tokenOf('list-1');
    assert.equal((await gw.request('GET', '/auth/users', { token: user.accessToken })).status, 403);
  });

  it('A3: logout revokes the session’s access token at once', async () => {
    await create('out-1');
    const t = await tokenOf('out-1');
    assert.equal((await me(t.accessToken)).status, 200);
    assert.equal((await gw.request('POST', '/auth/logout', { json: { refreshToken: t.refreshToken } })).status, 204);
    const after = await me(t.accessToken);
    assert.equal(after.status, 401);
    assert.match(after.body.detail, /revoked/);
  });

  it('A3: disable refuses sign-in and every token at once; enable restores sign-in; another organisation’s admin gets 404', async () => {
    await create('dis-1');
    const t = await tokenOf('dis-1');
    assert.equal((await gw.request('POST', '/auth/users/dis-1/disable', { token: otherAdmin })).status, 404);
    const d = await gw.request('POST', '/auth/users/dis-1/disable', { token: admin });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.disabled, true);
    assert.equal((await me(t.accessToken)).status, 401);
    assert.equal((await gw.request('POST', '/auth/refresh', { json: { refreshToken: t.refreshToken } })).status, 401);
    const refused = await signIn('dis-1');
    assert.equal(refused.status, 401);
    assert.equal(refused.body.detail, 'wrong username or password', 'a disabled account looks like a wrong password');
    assert.equal((await gw.request('POST', '/auth/users/dis-1/enable', { token: admin })).status, 200);
    assert.equal((await signIn('dis-1')).status, 200);
  });

  it('A3: reset gives a new password once and revokes the old tokens; the old password no longer works', async () => {
    await create('reset-1');
    const t = await tokenOf('reset-1');
    const r = await gw.request('POST', '/auth/users/reset-1/reset', { token: admin });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(typeof r.body.password, 'string');
    assert.equal((await me(t.accessToken)).status, 401);
    assert.equal((await signIn('reset-1')).status, 401);
    assert.equal((await signIn('reset-1', r.body.password)).status, 200);
  });

  it('A3: knowing a username does not lock its owner out; the attacker’s client is locked; an admin unlocks', async () => {
    await create('victim-1');
    for (let i = 0; i < 3; i++) assert.equal((await signIn('victim-1', 'guess-guess-guess', '127.0.0.2')).status, 401);
    const locked = await signIn('victim-1', password, '127.0.0.2');
    assert.equal(locked.status, 423, 'the attacking client is locked out, even with the right password');
    assert.equal((await signIn('victim-1', password, '127.0.0.3')).status, 200, 'the owner, from her own client, signs in');
    const list = await gw.request('GET', '/auth/users', { token: admin });
    assert.equal(list.body.items.find((a: { username: string }) => a.username === 'victim-1').lockedClients, 1);
    const u = await gw.request('POST', '/auth/users/victim-1/unlock', { token: admin });
    assert.deepEqual(u.body, { username: 'victim-1', unlockedClients: 1 });
    assert.equal((await signIn('victim-1', password, '127.0.0.2')).status, 200);
  });

  it('A3: delete stops the account’s tokens at once; an admin does not delete itself', async () => {
    await create('del-1');
    const t = await tokenOf('del-1');
    const d = await gw.request('DELETE', '/auth/users/del-1', { token: admin });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal((await me(t.accessToken)).status, 401);
    assert.equal((await signIn('del-1')).status, 401);
    assert.equal((await gw.request('DELETE', '/auth/users/del-1', { token: admin })).status, 404);
    const self = (await gw.request('GET', '/auth/me', { token: admin })).body as { username?: string };
    const users = (await gw.request('GET', '/auth/users', { token: admin })).body.items as { username: string; role: string }[];
    const adminName = users.find((a) => a.role === 'admin')!.username;
    assert.equal((await gw.request('DELETE', `/auth/users/${adminName}`, { token: admin })).status, 409, JSON.stringify(self));
  });
});
