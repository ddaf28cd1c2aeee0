/**
 * A3 account administration on the real network, behind a trusted reverse proxy (the clients are
 * the addresses it forwards): an admin creates, lists, disables/enables, unlocks, resets and
 * deletes accounts of its own organisation — the role check asks the ledger (trust rule 1) — and
 * another organisation's admin can do none of it. Knowing a username does not lock its owner out;
 * logout, disable, reset and delete stop the account's tokens at once, on ledger routes too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { actor, evaluate, IOT, MVA } from './support/domain.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';

const PASSWORD = 'carol’s own long passphrase';

describe('A3: account administration on the real network (behind a trusted proxy)', () => {
  let gw: LiveGateway;
  let admin: Client;
  let foreignAdmin: Client;
  let carol: string;

  /** POST /auth/login as the client the proxy names. */
  const signIn = async (client: string, username: string, password: string) => {
    const r = await fetch(new URL('/auth/login', gw.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      body: JSON.stringify({ username, password }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, string> };
  };
  const tokens = async (client: string, password = PASSWORD) => {
    const r = await signIn(client, carol, password);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { access: r.body.accessToken, refresh: r.body.refreshToken };
  };
  const keyBinding = (token: string) => gw.withToken(token).call('GET', '/auth/me/key-binding');
  const listed = async (by: Client) =>
    ((await by.call('GET', '/auth/users')).body.items as { username: string; lockedClients: number }[]).find((a) => a.username === carol);

  before(async () => {
    gw = await startLiveGateway({ config: { trustedProxies: ['loopback'] } });
    [admin, foreignAdmin] = await Promise.all([gw.as(IOT, 'admin'), gw.as(MVA, 'admin')]);
    carol = `carol-${gw.run}`;
    const created = await admin.call('POST', '/auth/users', { username: carol, password: PASSWORD, role: 'creator' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  });
  after(() => gw?.close());

  it('A3: the account acts on the ledger as its principal; its admin lists it, another organisation’s admin neither sees nor manages it', async () => {
    const t = await tokens('198.51.100.10');
    const bound = await gw.withToken(t.access).call('POST', '/auth/me/key-binding');
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    assert.deepEqual([bound.body.result.principal, bound.body.result.mspId], [carol, IOT]);
    assert.deepEqual(await listed(admin), {
      username: carol,
      principal: carol,
      mspId: IOT,
      role: 'creator',
      disabled: false,
      totpEnrolled: false,
      lockedClients: 0,
    });
    assert.equal(await listed(foreignAdmin), undefined);
    for (const op of ['disable', 'unlock', 'reset'])
      assert.equal((await foreignAdmin.call('POST', `/auth/users/${carol}/${op}`)).status, 404, op);
    assert.equal((await foreignAdmin.call('DELETE', `/auth/users/${carol}`)).status, 404);
    assert.equal((await keyBinding(t.access)).status, 200, 'the foreign admin changed nothing');
  });

  it('A3: knowing carol’s username does not lock her out: the guessing client is locked, she signs in; her admin unlocks it', async () => {
    const attacker = '203.0.113.66';
    for (let i = 0; i < 5; i++) assert.equal((await signIn(attacker, carol, `guess number ${i} here`)).status, 401);
    const locked = await signIn(attacker, carol, PASSWORD);
    assert.equal(locked.status, 423, 'even the right password is refused from the locked client');
    assert.match(locked.body.detail, /other clients are not affected; an admin can unlock/);
    await tokens('198.51.100.11');
    assert.equal((await listed(admin))?.lockedClients, 1);
    const unlocked = await admin.call('POST', `/auth/users/${carol}/unlock`);
    assert.deepEqual(unlocked.body, { username: carol, unlockedClients: 1 });
    assert.equal((await signIn(attacker, carol, PASSWORD)).status, 200);
  });

  it('A3: logout revokes the access token at once, on ledger routes too', async () => {
    const t = await tokens('198.51.100.12');
    assert.equal((await keyBinding(t.access)).status, 200);
    const out = await fetch(new URL('/auth/logout', gw.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: t.refresh }),
    });
    assert.equal(out.status, 204);
    const after = await keyBinding(t.access);
    assert.equal(after.status, 401);
    assert.match(after.body.detail, /revoked/);
  });

  it('A3: disable refuses her tokens and sign-in at once; enable restores sign-in', async () => {
    const t = await tokens('198.51.100.13');
    const d = await admin.call('POST', `/auth/users/${carol}/disable`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.disabled, true);
    assert.equal((await keyBinding(t.access)).status, 401);
    assert.equal((await signIn('198.51.100.13', carol, PASSWORD)).status, 401);
    assert.equal((await admin.call('POST', `/auth/users/${carol}/enable`)).status, 200);
    assert.equal((await keyBinding((await tokens('198.51.100.13')).access)).status, 200);
  });

  it('A3: reset hands out a new password once and revokes the old tokens; the old password stops working', async () => {
    const t = await tokens('198.51.100.14');
    const r = await admin.call('POST', `/auth/users/${carol}/reset`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await keyBinding(t.access)).status, 401);
    assert.equal((await signIn('198.51.100.14', carol, PASSWORD)).status, 401);
    const fresh = await tokens('198.51.100.14', r.body.password);
    assert.equal((await keyBinding(fresh.access)).status, 200);
  });

  it('A3: delete ends the account and its tokens; the ledger keeps what it did', async () => {
    const current = (await admin.call('POST', `/auth/users/${carol}/reset`)).body.password as string;
    const t = await tokens('198.51.100.15', current);
    const d = await admin.call('DELETE', `/auth/users/${carol}`);
    assert.deepEqual([d.status, d.body], [200, { username: carol, deleted: true }]);
    assert.equal((await keyBinding(t.access)).status, 401);
    assert.equal((await signIn('198.51.100.15', carol, current)).status, 401);
    assert.equal(await listed(admin), undefined);
    assert.equal((await admin.call('DELETE', `/auth/users/${carol}`)).status, 404);
    // the key binding carol committed is still on the ledger (read with a raw client of her organisation)
    const reader = await actor(IOT, 'admin');
    try {
      const kept = await evaluate<{ principal: string; mspId: string }>(reader.cc('identity'), 'GetPrincipalKey', [IOT, carol]);
      assert.deepEqual([kept.principal, kept.mspId], [carol, IOT]);
    } finally {
      reader.conn.close();
    }
  });
});
