/** R6/A1: the reference DPM worker signs in as the provider principal and renews a refused token (refresh token, else password). */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DpmWorker, type WorkerConfig } from '../../../dpm-worker/src/worker.js';
import { startTestGateway, type TestGateway } from '../gateway/support.js';

describe('R6 DPM worker sign-in (A1)', () => {
  let gw: TestGateway;
  const me = { mspId: 'DPMProviderMSP', certificate: '', privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey };
  const base = (): WorkerConfig => ({
    gatewayUrl: gw.url,
    providerId: 'dpm-1',
    mspId: 'DPMProviderMSP',
    mspDir: '/nonexistent',
    trust: new Map(),
    pollMs: 10,
  });
  const lists = () => gw.ledger.calls.filter((c) => c.fn === 'dpm:ListJobsByProvider');

  before(async () => {
    gw = await startTestGateway();
    gw.ledger.on('dpm:ListJobsByProvider', () => ({ items: [], bookmark: '' }));
    gw.ledger.on('dpm:ListOpenJobsByProvider', () => ({ items: [], bookmark: '' }));
    await gw.app.login.createUser({
      username: 'dpm-one',
      password: 'pw-dpm-one-long-enough',
      mspId: 'DPMProviderMSP',
      role: 'dpm',
      principal: 'dpm-1',
    });
  });
  after(() => gw.close());

  it('R6/A1: with a stale access token and a refresh token, the worker renews the token and polls as the provider', async () => {
    const login = await gw.request('POST', '/auth/login', { json: { username: 'dpm-one', password: 'pw-dpm-one-long-enough' } });
    assert.equal(login.status, 200);
    const before = lists().length;
    const w = new DpmWorker({ ...base(), token: 'stale.token.value', refreshToken: login.body.refreshToken }, me);
    assert.equal(await w.poll(), 0);
    const calls = lists().slice(before);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].caller.principal, 'dpm-1');
    assert.equal(calls[0].caller.role, 'dpm');
    assert.deepEqual(calls[0].args.slice(0, 1), ['dpm-1']);
    // the old refresh token was rotated: using it again is refused
    const reuse = await gw.request('POST', '/auth/refresh', { json: { refreshToken: login.body.refreshToken } });
    assert.equal(reuse.status, 401);
  });

  it('R6/A1: without a usable token it signs in with the username and password; with neither it stops with the reason', async () => {
    const before = lists().length;
    const w = new DpmWorker({ ...base(), username: 'dpm-one', password: 'pw-dpm-one-long-enough' }, me);
    assert.equal(await w.poll(), 0);
    assert.equal(lists().length, before + 1);
    const stuck = new DpmWorker({ ...base(), token: 'stale.token.value' }, me);
    await assert.rejects(() => stuck.poll(), /401/);
  });

  it("R6: after one pass over every job (older jobs are not in the open index), the worker polls only the ledger's open jobs", async () => {
    const w = new DpmWorker({ ...base(), username: 'dpm-one', password: 'pw-dpm-one-long-enough' }, me);
    const open = () => gw.ledger.calls.filter((c) => c.fn === 'dpm:ListOpenJobsByProvider').length;
    const [all0, open0] = [lists().length, open()];
    await w.poll();
    assert.deepEqual([lists().length - all0, open() - open0], [1, 0], 'first pass: every job');
    await w.poll();
    await w.poll();
    assert.deepEqual([lists().length - all0, open() - open0], [1, 2], 'then the open ones only');
  });
});
