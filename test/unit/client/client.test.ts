/**
 * mvsec-client (P1, A1, F4, X1): JSON and CBOR both ways by content negotiation, problems as
 * `ApiProblem`, sign-in with TOTP and token renewal, readings and reading sets signed so that the
 * gateway's own check accepts them, and the WebSocket streams' protocol.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decode, encode } from 'cbor-x';
import { WebSocketServer } from 'ws';
import { leafOf, merkleRoot, readingBytes, readingSetText } from 'mvsec-protocol';
import {
  ApiProblem,
  decodeCbor,
  encodeCbor,
  login,
  ok,
  openAvatarStream,
  openEventStream,
  openStream,
  request,
  Session,
  signReading,
  ThingSigner,
  totpCode,
  type AvatarStreamMessage,
} from 'mvsec-client';
import { parsePublicKey, verifyReading } from '../../../gateway/src/r1-things/telemetry/signature.js';
import { checkTotp, newTotpSecret } from '../../../gateway/src/auth/totp.js';
import { startTestGateway, type TestGateway } from '../gateway/support.js';

/** A tiny server: echoes what it read (decoded by Content-Type) in the representation Accept asks for; /problem refuses. */
function echoServer(): Promise<{
  url: string;
  server: Server;
  seen: { contentType?: string; accept?: string; idempotencyKey?: string }[];
}> {
  const seen: { contentType?: string; accept?: string; idempotencyKey?: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const ct = req.headers['content-type'] ?? '';
      seen.push({ contentType: ct, accept: req.headers.accept, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      const cbor = /cbor/.test(req.headers.accept ?? '');
      if (req.url === '/problem') {
        const p = {
          type: 'https://mvsec.dev/problems/forbidden',
          title: 'Forbidden',
          status: 403,
          detail: 'no grant on thing t-1',
          code: 'DENIED',
        };
        res.writeHead(403, { 'content-type': cbor ? 'application/problem+cbor' : 'application/problem+json' });
        res.end(cbor ? encode(p) : JSON.stringify(p));
        return;
      }
      const got = raw.length === 0 ? null : /cbor/.test(ct) ? decode(raw) : JSON.parse(raw.toString('utf8'));
      const body = { got, method: req.method };
      res.writeHead(200, { 'content-type': cbor ? 'application/cbor' : 'application/json; charset=utf-8' });
      res.end(cbor ? encode(body) : JSON.stringify(body));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen })),
  );
}

describe('mvsec-client HTTP (P1): JSON and CBOR, problems as ApiProblem', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  before(async () => (echo = await echoServer()));
  after(() => echo.server.close());

  const value = { thingId: 't-1', n: 42, list: [1.5, 'two', { deep: true }], none: null };

  it('P1: a CBOR request is sent as application/cbor, asks for CBOR and decodes the CBOR answer', async () => {
    const r = await request<{ got: unknown; method: string }>(echo.url, 'POST', '/echo', value, { cbor: true });
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/cbor');
    assert.deepEqual(r.body, { got: value, method: 'POST' });
    assert.deepEqual(echo.seen.at(-1), { contentType: 'application/cbor', accept: 'application/cbor', idempotencyKey: undefined });
    assert.deepEqual(decodeCbor(encodeCbor(value)), value, 'encodeCbor/decodeCbor round trip');
  });

  it('P1: JSON by default; an explicit Accept wins; raw bytes go as they are; Idempotency-Key on request', async () => {
    const j = await request<{ got: unknown }>(echo.url, 'PUT', '/echo', value, { idempotent: true });
    assert.deepEqual(j.body.got, value);
    assert.match(j.type, /^application\/json/);
    assert.equal(echo.seen.at(-1)!.contentType, 'application/json');
    assert.match(echo.seen.at(-1)!.idempotencyKey ?? '', /^[0-9a-f]{24}$/);
    const c = await request(echo.url, 'POST', '/echo', undefined, {
      raw: encodeCbor(value),
      contentType: 'application/cbor',
      headers: { Accept: 'application/cbor' },
    });
    assert.deepEqual(c.body, { got: value, method: 'POST' });
    const g = await request(echo.url, 'GET', '/echo', undefined, { idempotent: true });
    assert.equal(echo.seen.at(-1)!.idempotencyKey, undefined, 'no key on a GET');
    assert.deepEqual(g.body, { got: null, method: 'GET' });
  });

  for (const cbor of [false, true])
    it(`P1: a problem+${cbor ? 'cbor' : 'json'} answer becomes an ApiProblem with status, type, detail and code`, async () => {
      const r = await request(echo.url, 'GET', '/problem', undefined, { cbor });
      assert.equal(r.type, cbor ? 'application/problem+cbor' : 'application/problem+json');
      assert.throws(
        () => ok(r, 'GET /problem'),
        (e: unknown) => {
          assert.ok(e instanceof ApiProblem);
          assert.equal(e.status, 403);
          assert.equal(e.type, 'https://mvsec.dev/problems/forbidden');
          assert.equal(e.kind, 'forbidden');
          assert.equal(e.detail, 'no grant on thing t-1');
          assert.equal(e.code, 'DENIED');
          assert.equal(e.message, 'GET /problem: 403 no grant on thing t-1');
          return true;
        },
      );
    });
});

describe('mvsec-client readings (F4, C3): signed as the gateway verifies', () => {
  const thing = ThingSigner.generate('watch-1');
  const key = parsePublicKey(thing.publicKey);

  it('F4: each reading signed on its own verifies with the gateway check over its canonical bytes', async () => {
    const signed = thing.sign(thing.readings('wrist', 3, (i) => [i, i / 2, 9.8]));
    assert.deepEqual(
      signed.map((r) => r.seq),
      [1, 2, 3],
    );
    for (const r of signed) assert.equal(await verifyReading(key, readingBytes({ thingId: 'watch-1', ...r }), r.signature), true);
    const other = signReading(thing.privateKey, 'watch-2', signed[0]);
    assert.equal(
      await verifyReading(key, readingBytes({ thingId: 'watch-1', ...signed[0] }), other.signature),
      false,
      'bound to the thing',
    );
  });

  it('C3: a set signature covers the Merkle root of the readings in order, the count and the thing', async () => {
    const body = thing.signSet(thing.readings('heart', 5, (i) => 60 + i));
    assert.equal(body.readings.length, 5);
    assert.ok(body.readings.every((r) => !('signature' in r)));
    const root = merkleRoot(body.readings.map((r) => leafOf(readingBytes({ thingId: 'watch-1', ...r }))));
    const text = (n: number, rt = root) => Buffer.from(readingSetText('watch-1', rt, n), 'utf8');
    assert.equal(await verifyReading(key, text(5), body.setSignature), true);
    assert.equal(await verifyReading(key, text(4), body.setSignature), false, 'count bound');
    const swapped = merkleRoot(
      [body.readings[1], body.readings[0], ...body.readings.slice(2)].map((r) => leafOf(readingBytes({ thingId: 'watch-1', ...r }))),
    );
    assert.equal(await verifyReading(key, text(5, swapped), body.setSignature), false, 'order bound');
  });
});

describe('mvsec-client sign-in (A1): TOTP, sessions, renewal', () => {
  let gw: TestGateway;
  before(async () => (gw = await startTestGateway()));
  after(() => gw.close());

  it('A1: totpCode is a code the gateway accepts for the secret', async () => {
    const secret = newTotpSecret();
    const now = Date.now();
    assert.ok((await checkTotp(secret, await totpCode(secret, now), now)) !== undefined);
    assert.match(await totpCode(secret), /^\d{6}$/);
  });

  it('A1: an administrator signs in with password and TOTP; a refused sign-in is an ApiProblem 401', async () => {
    gw.clock.now = Date.now();
    const { totp } = await gw.app.login.createUser({
      username: 'cl-admin',
      password: 'pw-cl-admin-long-enough',
      mspId: 'IoTPlatformMSP',
      role: 'admin',
      principal: 'cl-admin',
    });
    assert.ok(totp);
    const s = await Session.signIn(gw.url, { username: 'cl-admin', password: 'pw-cl-admin-long-enough', totpSecret: totp.secret });
    const me = await s.send<{ principal: string; role: string }>('GET', '/auth/me');
    assert.equal(me.principal, 'cl-admin');
    assert.equal(me.role, 'admin');
    await assert.rejects(
      () => login(gw.url, { username: 'cl-admin', password: 'wrong-password-long-enough' }, { totpRetries: 0 }),
      (e: unknown) => e instanceof ApiProblem && e.status === 401,
    );
  });

  it('A1: a refused access token is renewed once with the refresh token (rotated), else with the credentials', async () => {
    await gw.app.login.createUser({
      username: 'cl-user',
      password: 'pw-cl-user-long-enough',
      mspId: 'IoTPlatformMSP',
      role: 'creator',
      principal: 'cl-user',
    });
    const t = await login(gw.url, { username: 'cl-user', password: 'pw-cl-user-long-enough' });
    const s = new Session(gw.url, { token: 'stale.token.value', refreshToken: t.refreshToken, cbor: true });
    const me = await s.call<{ principal: string }>('GET', '/auth/me');
    assert.equal(me.status, 200);
    assert.equal(me.type, 'application/cbor');
    assert.equal(me.body.principal, 'cl-user');
    assert.notEqual(s.refreshToken, t.refreshToken, 'rotated');
    const byPassword = new Session(gw.url, { token: 'stale', credentials: { username: 'cl-user', password: 'pw-cl-user-long-enough' } });
    assert.equal((await byPassword.send<{ principal: string }>('GET', '/auth/me')).principal, 'cl-user');
    const stuck = new Session(gw.url, { token: 'stale' });
    await assert.rejects(
      () => stuck.send('GET', '/auth/me'),
      (e: unknown) => e instanceof ApiProblem && e.status === 401 && /GET \/auth\/me: 401/.test(e.message),
    );
  });

  it("X1/M1: a refused stream upgrade rejects with the gateway's problem (401 without a valid token)", async () => {
    const running = gw.app.attachStream(gw.server);
    try {
      await assert.rejects(
        () => openAvatarStream(gw.url, 'not-a-token', 'av-1'),
        (e: unknown) => e instanceof ApiProblem && e.status === 401 && e.type.startsWith('https://mvsec.dev/problems/'),
      );
      await assert.rejects(
        () => openEventStream(gw.url, 'not-a-token', { startBlock: 3 }),
        (e: unknown) => e instanceof ApiProblem && e.status === 401,
      );
    } finally {
      running.close();
    }
  });
});

describe('mvsec-client streams (X1): bearer subprotocol, JSON messages, close codes', () => {
  let server: Server;
  let wss: WebSocketServer;
  let url: string;
  const seen: { protocols: string; path: string }[] = [];
  before(async () => {
    server = createServer();
    wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('bearer') ? 'bearer' : false) });
    wss.on('connection', (ws, req) => {
      seen.push({ protocols: String(req.headers['sec-websocket-protocol']), path: req.url ?? '' });
      ws.send(JSON.stringify({ type: 'subscribed', avatarId: 'av-1', thingId: 't-1', metaverseId: 'mv-a' }));
      ws.send(
        JSON.stringify({
          type: 'readings',
          avatarId: 'av-1',
          thingId: 't-1',
          readings: [{ seq: 1, time: '2025-01-01T00:00:00.000Z', sensor: 's', value: 1 }],
        }),
      );
      ws.send(JSON.stringify({ type: 'closed', avatarId: 'av-1', reason: 'policy no longer allows metaverse mv-a' }));
      setTimeout(() => ws.close(4403, 'revoked'), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    wss.close();
    server.close();
  });

  it('X1: messages that arrive before a handler wait for it; the close code and reason are reported', async () => {
    const s = await openAvatarStream(url, 'tok-123', 'av 1');
    const got: AvatarStreamMessage[] = [];
    s.onMessage((m) => got.push(m));
    const closed = await s.closed;
    assert.deepEqual(
      got.map((m) => m.type),
      ['subscribed', 'readings', 'closed'],
    );
    assert.deepEqual(closed, { code: 4403, reason: 'revoked' });
    assert.deepEqual(seen.at(-1), { protocols: 'bearer,tok-123', path: '/r1/avatars/av%201/stream' });
  });

  it('M1: the event stream resumes from a block; close() ends it normally', async () => {
    const got: unknown[] = [];
    const s = await openStream<unknown>(url, '/events?startBlock=7', 'tok-9', (m) => got.push(m));
    assert.equal(seen.at(-1)!.path, '/events?startBlock=7');
    s.close();
    assert.equal((await s.closed).code, 1000);
    const e = await openEventStream(url, 'tok-9', { startBlock: 12n });
    assert.equal(seen.at(-1)!.path, '/events?startBlock=12');
    e.close();
    await e.closed;
  });
});
