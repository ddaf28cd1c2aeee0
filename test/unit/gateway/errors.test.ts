/** The chaincode's coded reasons map to HTTP status in one place and reach the client verbatim. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCodedReason as parseChaincodeReason } from 'mvsec-protocol';
import { CHAINCODE_STATUS, fromChaincode } from '../../../gateway/src/http/problem.js';
import { startTestGateway, type TestGateway } from './support.js';

describe('gateway error mapping', () => {
  it('parses the code and reason out of a peer-relayed message', () => {
    const p = parseChaincodeReason(
      '10 ABORTED: failed to endorse transaction | IoTPlatformMSP: chaincode response 500, DENIED: only owner alice may consent',
    );
    assert.deepEqual(p, { code: 'DENIED', reason: 'only owner alice may consent' });
    assert.equal(parseChaincodeReason('14 UNAVAILABLE: no connection'), undefined);
  });

  it('maps DENIED/INVALID/NOT_FOUND/CONFLICT/EXPIRED to 403/400/404/409/410', () => {
    assert.deepEqual(CHAINCODE_STATUS, { DENIED: 403, INVALID: 400, NOT_FOUND: 404, CONFLICT: 409, EXPIRED: 410 });
    const p = fromChaincode('EXPIRED', 'transfer tr-1 expired').toProblem();
    assert.equal(p.status, 410);
    assert.equal(p.code, 'EXPIRED');
    assert.equal(p.detail, 'EXPIRED: transfer tr-1 expired');
    assert.deepEqual(Object.keys(p).sort(), ['code', 'detail', 'status', 'title', 'type']);
  });

  describe('over HTTP', () => {
    let gw: TestGateway;
    let token: string;
    before(async () => {
      gw = await startTestGateway();
      token = await gw.tokenFor('user');
    });
    after(() => gw.close());

    for (const [code, status] of Object.entries(CHAINCODE_STATUS)) {
      it(`a chaincode ${code} becomes ${status} with the reason`, async () => {
        gw.ledger.on('thing:GetThing', () => {
          throw new Error(`chaincode response 500, ${code}: reason for ${code}`);
        });
        const r = await gw.request('GET', '/r1/things/t-1', { token });
        assert.equal(r.status, status);
        assert.match(r.type, /^application\/problem\+json/);
        assert.equal(r.body.detail, `${code}: reason for ${code}`);
        assert.equal(r.body.code, code);
        assert.ok(r.body.type && r.body.title);
      });
    }

    it('an unexpected failure is a 500 without internals', async () => {
      gw.ledger.on('thing:GetThing', () => {
        throw new Error('secret internal state at /srv/keys');
      });
      const r = await gw.request('GET', '/r1/things/t-1', { token });
      assert.equal(r.status, 500);
      assert.doesNotMatch(r.body.detail, /secret/);
    });
  });
});
