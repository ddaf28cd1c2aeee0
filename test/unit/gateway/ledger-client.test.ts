/** The typed ledger client and its typed errors, and their one mapping to HTTP problems. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ledgerProblem } from '../../../gateway/src/http/ledger-errors.js';
import { LedgerClient } from '../../../gateway/src/ledger/client.js';
import {
  asLedgerError,
  IdentityUnavailable,
  LedgerCommitInvalidated,
  LedgerFailure,
  LedgerRefusal,
  LedgerUnavailable,
  UnknownOrganisation,
} from '../../../gateway/src/ledger/errors.js';
import { toLedgerError } from '../../../gateway/src/ledger/fabric-ledger.js';
import { FakeLedger, sampleThing, startTestGateway, type TestGateway } from './support.js';

const caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator' as const, issuer: 'gateway', amr: ['pwd'] };

describe('typed ledger client', () => {
  it('names each chaincode transaction once and passes typed inputs as the chaincode takes them', async () => {
    const raw = new FakeLedger();
    const ledger = new LedgerClient(raw);
    raw.on('thing:GetThing', () => ({ docType: 'thing', thingId: 't-1', status: 'ACTIVE' }));
    const t = await ledger.things.get(caller, 't-1');
    assert.equal(t.thingId, 't-1');
    const onEndorsed = () => {};
    const w = await ledger.things.setAgents(caller, 't-1', ['a-1'], { onEndorsed });
    assert.match(w.txId, /^tx-/);
    await ledger.transfers.approveAsSource(caller, 'tr-1');
    await ledger.transfers.approveAsTarget(caller, 'tr-1');
    await ledger.access.check(caller, { resourceType: 'DATA', resourceId: 'd-1', action: 'read', purpose: '*' });
    await ledger.platforms.proposeFederation(caller, { platformId: 'mv-a', peerPlatformId: 'mv-b', terms: 'x' });
    await ledger.dpm.probeProvider(caller, 'job-1');
    assert.deepEqual(
      raw.calls.map((c) => [c.kind, c.fn, c.args]),
      [
        ['evaluate', 'thing:GetThing', ['t-1']],
        ['submit', 'thing:SetThingAgents', ['t-1', '["a-1"]']],
        ['submit', 'transfer:ApproveTransferAsSource', ['tr-1']],
        ['submit', 'transfer:ApproveTransferAsTarget', ['tr-1']],
        ['evaluate', 'access:CheckAccess', ['DATA', 'd-1', 'read', '*']],
        ['submit', 'platform:ProposeFederation', ['mv-a', 'mv-b', 'x']],
        ['evaluate', 'dpm:FailJob', ['job-1', 'authorization probe (evaluated only, never submitted)']],
      ],
    );
    assert.equal(raw.calls[1].options?.onEndorsed, onEndorsed);
  });

  it("a ledger's coded message becomes a LedgerRefusal with the chaincode's code and reason; other errors pass unchanged", async () => {
    const raw = new FakeLedger();
    const ledger = new LedgerClient(raw);
    raw.on('transfer:ConsentTransfer', () => {
      throw new Error(
        '10 ABORTED: failed to endorse transaction | IoTPlatformMSP: chaincode response 500, DENIED: only owner alice may consent',
      );
    });
    await assert.rejects(
      ledger.transfers.consent(caller, 'tr-1'),
      (e: unknown) => e instanceof LedgerRefusal && e.code === 'DENIED' && e.reason === 'only owner alice may consent',
    );
    const boom = new Error('socket hang up');
    raw.on('thing:GetThing', () => {
      throw boom;
    });
    await assert.rejects(ledger.things.get(caller, 't-1'), (e: unknown) => e === boom);
    assert.equal(asLedgerError(boom), boom);
  });

  it("the Fabric adapter keeps the refused transaction's id", () => {
    const endorse = Object.assign(new Error('10 ABORTED: failed to endorse | chaincode response 500, CONFLICT: thing t-1 already exists'), {
      transactionId: 'tx-9',
    });
    const e = toLedgerError(endorse, 'thing:RegisterThing');
    assert.ok(e instanceof LedgerRefusal);
    assert.equal(e.code, 'CONFLICT');
    assert.equal(e.reason, 'thing t-1 already exists');
    assert.equal(e.txId, 'tx-9');
    const other = toLedgerError(new Error('something else'), 'thing:GetThing');
    assert.ok(other instanceof LedgerFailure);
    assert.equal(other.message, 'thing:GetThing: Fabric error (something else)');
  });
});

describe('ledger errors as problems (http/ledger-errors.ts)', () => {
  it('a refusal carrying DENIED is 403 with the reason and code; the txId is kept on the error', () => {
    const p = ledgerProblem(new LedgerRefusal('DENIED', 'only owner alice may consent', 'tx-1'))!;
    assert.equal(p.status, 403);
    assert.equal(p.extra.txId, 'tx-1');
    const body = p.toProblem();
    assert.equal(body.detail, 'DENIED: only owner alice may consent');
    assert.equal(body.code, 'DENIED');
    assert.equal(body.type, 'https://mvsec.dev/problems/ledger-denied');
    assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'status', 'title', 'type']);
  });

  it('every code maps as before: DENIED 403, INVALID 400, NOT_FOUND 404, CONFLICT 409, EXPIRED 410', () => {
    for (const [code, status] of [
      ['DENIED', 403],
      ['INVALID', 400],
      ['NOT_FOUND', 404],
      ['CONFLICT', 409],
      ['EXPIRED', 410],
    ] as const) {
      const p = ledgerProblem(new LedgerRefusal(code, 'why'))!;
      assert.equal(p.status, status);
      assert.equal(p.toProblem().type, `https://mvsec.dev/problems/ledger-${code.toLowerCase().replace('_', '-')}`);
    }
  });

  it('unavailable 503, invalidated at commit 409, any other Fabric failure 502; anything else is no ledger problem', () => {
    const u = ledgerProblem(new LedgerUnavailable('thing:GetThing: no peer is reachable'))!;
    assert.deepEqual([u.status, u.kind, u.detail], [503, 'fabric-unavailable', 'thing:GetThing: no peer is reachable']);
    const c = ledgerProblem(
      new LedgerCommitInvalidated('x: transaction t was invalidated at commit (MVCC_READ_CONFLICT)', 't', 'MVCC_READ_CONFLICT'),
    )!;
    assert.deepEqual([c.status, c.kind], [409, 'commit-invalidated']);
    const f = ledgerProblem(new LedgerFailure('x: Fabric error (y)'))!;
    assert.deepEqual([f.status, f.kind], [502, 'fabric-error']);
    const ca = ledgerProblem(new IdentityUnavailable('could not enroll alice@IoTPlatformMSP at ca-iot: connect ECONNREFUSED'))!;
    assert.deepEqual([ca.status, ca.kind], [503, 'ca-unavailable']);
    const unknown = new UnknownOrganisation('no organisation NoSuchMSP in this network');
    const org = ledgerProblem(unknown)!;
    assert.deepEqual([org.status, org.kind, org.detail], [403, 'unknown-organisation', 'no organisation NoSuchMSP in this network']);
    assert.equal(toLedgerError(unknown, 'x'), unknown, 'identity errors pass the Fabric adapter unchanged');
    assert.equal(ledgerProblem(new Error('plain')), undefined);
  });

  describe('over HTTP', () => {
    let gw: TestGateway;
    let token: string;
    before(async () => {
      gw = await startTestGateway();
      token = await gw.tokenFor('creator');
    });
    after(() => gw.close());

    it('a submit refused DENIED (with its txId) answers 403 with the reason, and a retry with the same key replays it', async () => {
      gw.ledger.on('thing:RegisterThing', () => {
        throw new LedgerRefusal('DENIED', 'only an admin of IoTPlatformMSP may register things', 'tx-refused');
      });
      const headers = { 'idempotency-key': 'k-denied' };
      const r = await gw.request('POST', '/r1/things', { token, json: sampleThing(), headers });
      assert.equal(r.status, 403);
      assert.equal(r.body.code, 'DENIED');
      assert.equal(r.body.detail, 'DENIED: only an admin of IoTPlatformMSP may register things');
      const again = await gw.request('POST', '/r1/things', { token, json: sampleThing(), headers });
      assert.equal(again.status, 403);
      assert.equal(again.body.detail, r.body.detail);
      assert.equal(gw.ledger.submits('thing:RegisterThing').length, 1);
    });

    it('Fabric unavailable answers 503 fabric-unavailable', async () => {
      gw.ledger.on('thing:GetThing', () => {
        throw new LedgerUnavailable('thing:GetThing: no peer is reachable (peer0: down)');
      });
      const r = await gw.request('GET', '/r1/things/t-1', { token });
      assert.equal(r.status, 503);
      assert.equal(r.body.type, 'https://mvsec.dev/problems/fabric-unavailable');
      assert.equal(r.body.detail, 'thing:GetThing: no peer is reachable (peer0: down)');
    });
  });
});
