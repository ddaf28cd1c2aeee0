/** A3/A1: built-in sign-in (scrypt password + TOTP), JWTs, refresh rotation, lockout, rate limit, role escalation. */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { after, before, describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../../gateway/src/auth/passwords.js';
import { totpCode } from '../../../gateway/src/auth/totp.js';
import { startTestGateway, type TestGateway } from './support.js';

describe('gateway built-in authentication (A3)', () => {
  let gw: TestGateway;
  let adminTotp: string;
  before(async () => {
    gw = await startTestGateway({ maxFailedAttempts: 3, loginAttemptsPerMinute: 50 });
    const created = await gw.app.login.createUser({
      username: 'iot-admin',
      password: 'correct horse battery',
      mspId: 'IoTPlatformMSP',
      role: 'admin',
    });
    adminTotp = created.totp!.secret;
    assert.match(created.totp!.uri, /^otpauth:\/\/totp\//);
    await gw.app.login.createUser({ username: 'bob', password: 'bob password long', mspId: 'IoTPlatformMSP', role: 'user' });
  });
  after(() => gw.close());

  it('A3: passwords are stored as scrypt hashes and verified in constant time', async () => {
    const h = await hashPassword('s3cret-password');
    assert.match(h, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword('s3cret-password', h), true);
    assert.equal(await verifyPassword('s3cret-passwore', h), false);
    assert.doesNotMatch(JSON.stringify(gw.app.users.get('bob')), /bob password long/);
  });

  it('A3: an admin without a TOTP code is refused; with the code it gets a JWT carrying otp', async () => {
    const no = await gw.request('POST', '/auth/login', { json: { username: 'iot-admin', password: 'correct horse battery' } });
    assert.equal(no.status, 401);
    assert.match(no.body.type, /mfa-required/);
    const code = await totpCode(adminTotp, gw.clock.now);
    const yes = await gw.request('POST', '/auth/login', { json: { username: 'iot-admin', password: 'correct horse battery', totp: code } });
    assert.equal(yes.status, 200);
    const claims = jwt.decode(yes.body.accessToken) as jwt.JwtPayload;
    assert.equal(claims.role, 'admin');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.ok(claims.exp! - claims.iat! <= 900);
    const me = await gw.request('GET', '/auth/me', { token: yes.body.accessToken });
    assert.deepEqual(me.body, {
      principal: 'iot-admin',
      mspId: 'IoTPlatformMSP',
      role: 'admin',
      issuer: 'mvsec-gateway',
      amr: ['pwd', 'otp', 'mfa'],
    });
    // a TOTP code is single use
    const replay = await gw.request('POST', '/auth/login', {
      json: { username: 'iot-admin', password: 'correct horse battery', totp: code },
    });
    assert.equal(replay.status, 401);
  });

  it('A3: a wrong TOTP code is refused', async () => {
    gw.clock.now += 60_000;
    const good = await totpCode(adminTotp, gw.clock.now);
    const wrong = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
    const r = await gw.request('POST', '/auth/login', { json: { username: 'iot-admin', password: 'correct horse battery', totp: wrong } });
    assert.equal(r.status, 401);
  });

  it('A3: repeated failures lock the account (423) even for the right password, until the lockout ends', async () => {
    await gw.app.login.createUser({ username: 'carol', password: 'carol password long', mspId: 'IoTPlatformMSP', role: 'user' });
    for (let i = 0; i < 3; i++)
      assert.equal((await gw.request('POST', '/auth/login', { json: { username: 'carol', password: 'nope' } })).status, 401);
    const locked = await gw.request('POST', '/auth/login', { json: { username: 'carol', password: 'carol password long' } });
    assert.equal(locked.status, 423);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    gw.clock.now += 16 * 60_000;
    const ok = await gw.request('POST', '/auth/login', { json: { username: 'carol', password: 'carol password long' } });
    assert.equal(ok.status, 200);
  });

  it('A3: sign-in attempts per client are rate limited (429 with Retry-After)', async () => {
    const g = await startTestGateway({ loginAttemptsPerMinute: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await g.request('POST', '/auth/login', { json: { username: `nobody${i}`, password: 'x' } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    } finally {
      await g.close();
    }
  });

  it('refresh tokens rotate; a reused one revokes the session', async () => {
    const login = await gw.request('POST', '/auth/login', { json: { username: 'bob', password: 'bob password long' } });
    assert.equal(login.status, 200);
    const r1 = await gw.request('POST', '/auth/refresh', { json: { refreshToken: login.body.refreshToken } });
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.refreshToken, login.body.refreshToken);
    const reuse = await gw.request('POST', '/auth/refresh', { json: { refreshToken: login.body.refreshToken } });
    assert.equal(reuse.status, 401);
    const after = await gw.request('POST', '/auth/refresh', { json: { refreshToken: r1.body.refreshToken } });
    assert.equal(after.status, 401, 'the rotated token is revoked with its family');
  });

  it('expired, tampered, wrongly signed and unsigned gateway JWTs are 401', async () => {
    const token = await gw.tokenFor('user');
    assert.equal((await gw.request('GET', '/auth/me', { token })).status, 200);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${s}`;
    assert.equal((await gw.request('GET', '/auth/me', { token: tampered })).status, 401);
    const otherKey = jwt.sign({ ...claims }, 'another secret of enough length!!');
    assert.equal((await gw.request('GET', '/auth/me', { token: otherKey })).status, 401);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    assert.equal((await gw.request('GET', '/auth/me', { token: none })).status, 401);
    gw.clock.now += 3600_000;
    const expired = await gw.request('GET', '/auth/me', { token });
    assert.equal(expired.status, 401);
    assert.match(expired.body.detail, /expired/);
    assert.match(expired.headers.get('www-authenticate') ?? '', /Bearer/);
  });

  it('A2: role escalation is refused: a creator may not create an admin account (403)', async () => {
    const creator = await gw.tokenFor('creator');
    const r = await gw.request('POST', '/auth/users', {
      token: creator,
      json: { username: 'evil-admin', password: 'long enough password', role: 'admin' },
    });
    assert.equal(r.status, 403);
    assert.equal(gw.app.users.has('evil-admin'), false);
  });

  it('A2: an admin creates accounts only in its own MSP; admin/auditor accounts come with a TOTP secret', async () => {
    const admin = await gw.tokenFor('admin', 'MetaverseAMSP');
    const r = await gw.request('POST', '/auth/users', {
      token: admin,
      json: { username: 'mva-auditor', password: 'long enough password', role: 'auditor' },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.mspId, 'MetaverseAMSP');
    assert.match(r.body.totp.uri, /^otpauth:\/\/totp\//);
    const noMfa = await gw.request('POST', '/auth/login', { json: { username: 'mva-auditor', password: 'long enough password' } });
    assert.equal(noMfa.status, 401);
  });

  it('A1/X3: an admin cannot create a second account carrying an existing principal of its MSP (409 principal-taken); the same name in another MSP is another principal', async () => {
    const admin = await gw.tokenFor('admin', 'IoTPlatformMSP');
    const twin = await gw.request('POST', '/auth/users', {
      token: admin,
      json: { username: 'bob-twin', password: 'long enough password', role: 'user', principal: 'bob' },
    });
    assert.equal(twin.status, 409, JSON.stringify(twin.body));
    assert.equal(twin.body.type, 'https://mvsec.dev/problems/principal-taken');
    assert.match(twin.body.detail, /principal bob of IoTPlatformMSP already has an account \(bob\)/);
    assert.equal(gw.app.users.has('bob-twin'), false, 'no account was created');
    const mvaAdmin = await gw.tokenFor('admin', 'MetaverseAMSP');
    const otherOrg = await gw.request('POST', '/auth/users', {
      token: mvaAdmin,
      json: { username: 'bob-of-mva', password: 'long enough password', role: 'user', principal: 'bob' },
    });
    assert.equal(otherOrg.status, 201, JSON.stringify(otherOrg.body));
  });

  it("A2/trust rule 1: an admin cannot create an account with a role its MSP may not issue (403 role-not-issuable, the ledger's setting named); nothing is created", async () => {
    const dpmAdmin = await gw.tokenFor('admin', 'DPMProviderMSP');
    const r = await gw.request('POST', '/auth/users', {
      token: dpmAdmin,
      json: { username: 'dpm-auditor', password: 'long enough password', role: 'auditor' },
    });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.type, 'https://mvsec.dev/problems/role-not-issuable');
    assert.match(
      r.body.detail,
      /role auditor cannot be issued by DPMProviderMSP: only IoTPlatformMSP, MetaverseAMSP, MetaverseBMSP may issue auditor \(ledger setting role issuers, version 0\)/,
    );
    assert.equal(gw.app.users.has('dpm-auditor'), false);
    const asked = gw.ledger.calls.filter((c) => c.fn === 'governance:GetRoleIssuers').at(-1);
    assert.equal(asked?.caller.mspId, 'DPMProviderMSP', 'asked the ledger as the calling admin');
    const ok = await gw.request('POST', '/auth/users', {
      token: dpmAdmin,
      json: { username: 'dpm-operator', password: 'long enough password', role: 'dpm', principal: 'dpm-op' },
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it('A3: a user can enrol TOTP, after which sign-in requires it', async () => {
    await gw.app.login.createUser({ username: 'dave', password: 'dave password long', mspId: 'IoTPlatformMSP', role: 'user' });
    const t = (await gw.request('POST', '/auth/login', { json: { username: 'dave', password: 'dave password long' } })).body.accessToken;
    const enrol = await gw.request('POST', '/auth/totp/enroll', { token: t });
    assert.equal(enrol.status, 200);
    const confirm = await gw.request('POST', '/auth/totp/confirm', {
      token: t,
      json: { totp: await totpCode(enrol.body.secret, gw.clock.now) },
    });
    assert.equal(confirm.status, 204);
    const without = await gw.request('POST', '/auth/login', { json: { username: 'dave', password: 'dave password long' } });
    assert.equal(without.status, 401);
    gw.clock.now += 30_000;
    const withCode = await gw.request('POST', '/auth/login', {
      json: { username: 'dave', password: 'dave password long', totp: await totpCode(enrol.body.secret, gw.clock.now) },
    });
    assert.equal(withCode.status, 200);
  });
});
