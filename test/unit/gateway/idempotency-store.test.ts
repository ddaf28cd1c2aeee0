/** The durable idempotency store: outcomes survive a gateway restart, expired keys are pruned, the journal is compacted. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Request } from 'express';
import type { Caller } from '../../../gateway/src/auth/principal.js';
import { UserStore } from '../../../gateway/src/auth/users.js';
import { ApiError } from '../../../gateway/src/http/problem.js';
import { validationCode } from '../../../gateway/src/ledger/fabric-ledger.js';
import type { TransactionStatus } from '../../../gateway/src/ledger/ledger.js';
import { IdempotencyStore, journalEndorsed } from '../../../gateway/src/http/idempotency.js';
import { startTestGateway, sampleThing } from './support.js';

const caller: Caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator', issuer: 'gateway', amr: ['pwd'] };
const req = (key: string, body: unknown, path = '/r1/things') =>
  ({ headers: { 'idempotency-key': key }, method: 'POST', originalUrl: path, body }) as unknown as Request;

describe('durable idempotency store', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'mvsec-idem-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a success and a definite 4xx are replayed by a new store on the same file; the key stays bound to its request', async () => {
    const file = join(dir(), 'idempotency.jsonl');
    const clock = { now: 1_000_000 };
    const first = new IdempotencyStore(60_000, () => clock.now, { file });
    let runs = 0;
    const ok = await first.run(req('k-ok', { thingId: 't1' }), caller, async () => ({ status: 201, body: { txId: `tx-${++runs}` } }));
    assert.deepEqual(ok, { status: 201, body: { txId: 'tx-1' } });
    await assert.rejects(
      first.run(req('k-no', { thingId: 't2' }), caller, async () => {
        runs++;
        throw new ApiError(409, 'CONFLICT: thing t2 already exists', 'ledger-conflict', { code: 'CONFLICT' });
      }),
      (e: ApiError) => e.status === 409,
    );

    // "restart": a fresh store reading the journal
    const second = new IdempotencyStore(60_000, () => clock.now, { file });
    const again = await second.run(req('k-ok', { thingId: 't1' }), caller, async () => ({ body: { txId: `tx-${++runs}` } }));
    assert.deepEqual(again, { status: 201, body: { txId: 'tx-1' }, replayed: true });
    await assert.rejects(
      second.run(req('k-no', { thingId: 't2' }), caller, async () => ({ body: `run ${++runs}` })),
      (e: ApiError) => e.status === 409 && e.detail === 'CONFLICT: thing t2 already exists' && e.extra.code === 'CONFLICT',
    );
    await assert.rejects(
      second.run(req('k-ok', { thingId: 'other' }), caller, async () => ({ body: `run ${++runs}` })),
      (e: ApiError) => e.status === 422,
    );
    assert.equal(runs, 2, 'nothing ran again after the restart');
    assert.doesNotMatch(readFileSync(file, 'utf8'), /k-ok|alice/, 'keys and principals are stored hashed');
  });

  it('a 5xx frees the key; a first attempt cut short by a crash (started, no outcome) runs again after the restart', async () => {
    const file = join(dir(), 'idempotency.jsonl');
    const store = new IdempotencyStore(60_000, () => 5_000, { file });
    await assert.rejects(
      store.run(req('k-5xx', {}), caller, async () => {
        throw new ApiError(503, 'no peer is reachable');
      }),
    );
    const retried = await store.run(req('k-5xx', {}), caller, async () => ({ body: 'second' }));
    assert.deepEqual(retried, { body: 'second' });

    // A process killed mid-request leaves only the "started" line (and maybe a torn one).
    let release!: () => void;
    const pending = store.run(req('k-crash', { a: 1 }), caller, () => new Promise((r) => (release = () => r({ body: 'never seen' }))));
    appendFileSync(file, '{"k":"torn');
    const restarted = new IdempotencyStore(60_000, () => 5_000, { file });
    await assert.rejects(
      restarted.run(req('k-crash', { a: 2 }), caller, async () => ({ body: 'x' })),
      (e: ApiError) => e.status === 422,
      'the started key is still bound to its request',
    );
    const rerun = await restarted.run(req('k-crash', { a: 1 }), caller, async () => ({ body: 'ran again' }));
    assert.deepEqual(rerun, { body: 'ran again' });
    release();
    await pending;
  });

  it('expired keys are pruned at load and the journal is rewritten with live keys only', async () => {
    const file = join(dir(), 'idempotency.jsonl');
    const clock = { now: 0 };
    const store = new IdempotencyStore(1_000, () => clock.now, { file });
    for (let i = 0; i < 50; i++) await store.run(req(`old-${i}`, { i }), caller, async () => ({ body: i }));
    clock.now = 500;
    await store.run(req('young', {}), caller, async () => ({ body: 'young' }));
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 102);
    clock.now = 1_200; // the 50 old keys expired, "young" has not
    const reloaded = new IdempotencyStore(1_000, () => clock.now, { file });
    assert.equal(reloaded.size, 1);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1);
    let ran = false;
    const old = await reloaded.run(req('old-3', { i: 3 }), caller, async () => {
      ran = true;
      return { body: 'fresh' };
    });
    assert.equal(ran, true, 'an expired key is a new request');
    assert.deepEqual(old, { body: 'fresh' });
    const young = await reloaded.run(req('young', {}), caller, async () => ({ body: 'again' }));
    assert.deepEqual(young, { body: 'young', replayed: true });
  });

  it('a transaction endorsed before a crash is settled by the ledger on retry: VALID replays it, INVALID runs again', async () => {
    const file = join(dir(), 'idempotency.jsonl');
    const first = new IdempotencyStore(60_000, () => 7_000, { file });
    // Both first attempts get as far as endorsement, then the process "dies" (the promises never settle).
    for (const [key, txId] of [
      ['k-committed', 'tx-ok'],
      ['k-invalid', 'tx-mvcc'],
    ])
      void first.run(req(key, { key }), caller, () => {
        journalEndorsed(txId, { txId, result: { agents: ['a1'] } });
        return new Promise<never>(() => {});
      });
    await new Promise((r) => setImmediate(r));
    const asked: string[] = [];
    const verdict: Record<string, TransactionStatus> = { 'tx-ok': 'VALID', 'tx-mvcc': 'INVALID' };
    const restarted = new IdempotencyStore(60_000, () => 7_000, {
      file,
      verify: async (c, txId) => {
        assert.equal(c.principal, caller.principal, 'asked as the same caller');
        asked.push(txId);
        return verdict[txId];
      },
    });
    let runs = 0;
    const replay = await restarted.run(req('k-committed', { key: 'k-committed' }), caller, async () => ({ body: `run ${++runs}` }));
    assert.deepEqual(replay, { body: { txId: 'tx-ok', result: { agents: ['a1'] } }, replayed: true });
    const rerun = await restarted.run(req('k-invalid', { key: 'k-invalid' }), caller, async () => ({ body: `run ${++runs}` }));
    assert.deepEqual(rerun, { body: 'run 1' });
    assert.deepEqual(asked, ['tx-ok', 'tx-mvcc']);
    assert.equal(runs, 1);
    // and the settled outcome is itself durable
    const third = new IdempotencyStore(60_000, () => 7_000, { file, verify: async () => assert.fail('no second lookup') });
    assert.deepEqual(await third.run(req('k-committed', { key: 'k-committed' }), caller, async () => ({ body: 'no' })), replay);
  });

  it('a 5xx after endorsement keeps the key: the retry asks the ledger instead of transacting again', async () => {
    const store = new IdempotencyStore(60_000, () => 9_000, { verify: async () => 'VALID' });
    await assert.rejects(
      store.run(req('k-orderer-down', {}), caller, async () => {
        journalEndorsed('tx-sent', { txId: 'tx-sent', result: null });
        throw new ApiError(503, 'orderers unreachable');
      }),
      (e: ApiError) => e.status === 503,
    );
    let ran = false;
    const retry = await store.run(req('k-orderer-down', {}), caller, async () => {
      ran = true;
      return { body: 'second transaction' };
    });
    assert.equal(ran, false);
    assert.deepEqual(retry, { body: { txId: 'tx-sent', result: null }, replayed: true });
  });

  it("reads a ProcessedTransaction's validation code without the protobuf runtime", () => {
    const envelope = [0x0a, 0x03, 0x01, 0x02, 0x03];
    assert.equal(validationCode(Uint8Array.from([...envelope, 0x10, 0x0b])), 11, 'MVCC_READ_CONFLICT');
    assert.equal(validationCode(Uint8Array.from([...envelope, 0x10, 0xfe, 0x00])), 126);
    assert.equal(validationCode(Uint8Array.from(envelope)), 0, 'absent = VALID');
    assert.throws(() => validationCode(Uint8Array.from([0x0a, 0x05, 0x01])));
  });

  it('through the gateway: a retry after a restart on the same state folder replays the first result (no second transaction)', async () => {
    const stateDir = dir();
    const users = new UserStore();
    const jwtSecret = randomBytes(32);
    const thing = sampleThing({ thingId: 'w-9', classification: 'PUBLIC' });
    const headers = { 'idempotency-key': 'restart-1' };
    const gw1 = await startTestGateway({ stateDir, jwtSecret }, { users });
    const token = await gw1.tokenFor('creator');
    const a = await gw1.request('POST', '/r1/things', { token, json: thing, headers });
    assert.equal(a.status, 201);
    await gw1.close();
    const gw2 = await startTestGateway({ stateDir, jwtSecret }, { users });
    try {
      const b = await gw2.request('POST', '/r1/things', { token, json: thing, headers });
      assert.equal(b.status, 201);
      assert.deepEqual(b.body, a.body);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      assert.equal(gw2.ledger.submits('thing:RegisterThing').length, 0, 'the restarted gateway made no transaction');
    } finally {
      await gw2.close();
    }
  });
});
