/** Idempotency keys and the data-movement guard, against the Ledger double. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sampleThing, startTestGateway, type TestGateway } from './support.js';

const SHA = 'a'.repeat(64);
const thing = sampleThing();

describe('gateway idempotency and guard', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startTestGateway();
    token = await gw.tokenFor('creator');
  });
  after(() => gw.close());

  it('a retried request with the same Idempotency-Key returns the first result and makes no second transaction', async () => {
    const headers = { 'idempotency-key': 'k-1' };
    const a = await gw.request('POST', '/r1/things', { token, json: thing, headers });
    const b = await gw.request('POST', '/r1/things', { token, json: thing, headers });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.deepEqual(b.body, a.body);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(gw.ledger.submits('thing:RegisterThing').length, 1);
  });

  it('a retry while the first attempt still runs is 409 in progress (Retry-After) and does not transact; afterwards it replays', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    gw.ledger.on('thing:SetThingAgents', async () => {
      await gate;
      return { ok: 'agents' };
    });
    const headers = { 'idempotency-key': 'k-slow' };
    const body = { agents: ['agent-1'] };
    const first = gw.request('PUT', '/r1/things/w-1/agents', { token, json: body, headers });
    while (gw.ledger.submits('thing:SetThingAgents').length === 0) await new Promise((r) => setImmediate(r));
    const during = await gw.request('PUT', '/r1/things/w-1/agents', { token, json: body, headers });
    assert.equal(during.status, 409);
    assert.match(during.type, /problem\+json/);
    assert.equal(during.body.type, 'https://mvsec.dev/problems/idempotency-in-progress');
    assert.equal(during.headers.get('retry-after'), '1');
    release();
    const a = await first;
    assert.equal(a.status, 200);
    const after = await gw.request('PUT', '/r1/things/w-1/agents', { token, json: body, headers });
    assert.equal(after.status, 200);
    assert.deepEqual(after.body, a.body);
    assert.equal(gw.ledger.submits('thing:SetThingAgents').length, 1);
  });

  it("the same key for a different request is 422; another caller's key is its own", async () => {
    const r = await gw.request('POST', '/r1/things', { token, json: { ...thing, thingId: 'w-2' }, headers: { 'idempotency-key': 'k-1' } });
    assert.equal(r.status, 422);
    const other = await gw.tokenFor('creator');
    const o = await gw.request('POST', '/r1/things', { token: other, json: thing, headers: { 'idempotency-key': 'k-1' } });
    assert.equal(o.status, 201);
    assert.equal(gw.ledger.submits('thing:RegisterThing').length, 2);
  });

  it('a transient failure (503) frees the key so the retry transacts', async () => {
    let fail = true;
    const { ApiError } = await import('../../../gateway/src/http/problem.js');
    gw.ledger.on('thing:SuspendThing', () => {
      if (fail) {
        fail = false;
        throw new ApiError(503, 'no peer of IoTPlatformMSP is reachable');
      }
      return { ok: 1 };
    });
    const h = { 'idempotency-key': 'k-503' };
    const first = await gw.request('POST', '/r1/things/w-1/suspend', { token, json: { reason: 'lost' }, headers: h });
    assert.equal(first.status, 503);
    assert.match(first.body.detail, /no peer/);
    const second = await gw.request('POST', '/r1/things/w-1/suspend', { token, json: { reason: 'lost' }, headers: h });
    assert.equal(second.status, 200);
    assert.equal(gw.ledger.submits('thing:SuspendThing').length, 2);
  });

  it("R4 guard: access refused by CheckAccess is 403 with the contract's reason", async () => {
    gw.ledger.on('access:CheckAccess', (c) =>
      c.args[1] === 'd-ok'
        ? { allowed: true, reason: 'grant g-1', grantId: 'g-1' }
        : { allowed: false, reason: 'no grant of read on DATA d-no for bob (grant g-2 expired at 2025-01-01T00:00:00.000Z)' },
    );
    const no = await gw.request('POST', '/r4/access', {
      token,
      json: { resourceType: 'DATA', resourceId: 'd-no', action: 'read', purpose: 'analytics' },
    });
    assert.equal(no.status, 403);
    assert.equal(no.body.detail, 'DENIED: no grant of read on DATA d-no for bob (grant g-2 expired at 2025-01-01T00:00:00.000Z)');
    const yes = await gw.request('POST', '/r4/access', {
      token,
      json: { resourceType: 'DATA', resourceId: 'd-ok', action: 'read', purpose: 'analytics' },
    });
    assert.equal(yes.status, 200);
    assert.equal(yes.body.grantId, 'g-1');
  });

  it('R3 guard: a transfer request without share access never reaches RequestTransfer', async () => {
    const before = gw.ledger.submits('transfer:RequestTransfer').length;
    const r = await gw.request('POST', '/r3/transfers', {
      token,
      json: {
        transferId: 'tr-1',
        kind: 'MOVE',
        sourceAvatarId: 'av',
        targetMetaverseId: 'mv-b',
        dataId: 'd-no',
        dataSha256: SHA,
        purpose: 'gameplay',
        expiresAt: new Date(gw.clock.now + 3600_000).toISOString(),
      },
    });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /^DENIED: no grant of read/);
    assert.equal(gw.ledger.submits('transfer:RequestTransfer').length, before);
  });

  it('R3 guard: execution is refused unless the transfer is CONSENTED with the bound hash', async () => {
    const state = { status: 'TARGET_APPROVED' };
    gw.ledger.on('transfer:GetTransfer', (c) => ({
      transferId: c.args[0],
      status: state.status,
      dataSha256: SHA,
      expiresAt: new Date(gw.clock.now + 3600_000).toISOString(),
      sourceMspId: 'A',
      targetMspId: 'B',
    }));
    const early = await gw.request('POST', '/r3/transfers/tr-1/execute', { token, json: { dataSha256: SHA } });
    assert.equal(early.status, 403);
    assert.match(early.body.detail, /tr-1 is TARGET_APPROVED/);
    state.status = 'CONSENTED';
    const wrongHash = await gw.request('POST', '/r3/transfers/tr-1/execute', { token, json: { dataSha256: 'b'.repeat(64) } });
    assert.equal(wrongHash.status, 403);
    assert.equal(gw.ledger.submits('transfer:ExecuteTransfer').length, 0);
    const ok = await gw.request('POST', '/r3/transfers/tr-1/execute', { token, json: { dataSha256: SHA } });
    assert.equal(ok.status, 200);
    assert.deepEqual(gw.ledger.submits('transfer:ExecuteTransfer')[0].args, ['tr-1', SHA]);
  });

  it("every ledger call is made as the caller's own principal", async () => {
    const c = gw.ledger.calls.at(-1)!.caller;
    assert.equal(c.mspId, 'IoTPlatformMSP');
    assert.equal(c.role, 'creator');
    assert.match(c.principal, /^creator-/);
  });
});
