/** P1: JSON and CBOR by Content-Type/Accept; problems in the same representation; bad input is 4xx, never 5xx. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeCbor } from '../../../gateway/src/http/representation.js';
import { startTestGateway, type TestGateway } from './support.js';

const platform = { platformId: 'mv-a', type: 'METAVERSE', name: 'A', capabilityLevel: 3 };

describe('gateway representations (P1)', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startTestGateway({ bodyLimitBytes: 4096 });
    token = await gw.tokenFor('creator');
    gw.ledger.on('platform:GetPlatform', (c) => ({ platformId: c.args[0], mspId: 'MetaverseAMSP', capabilityLevel: 3 }));
  });
  after(() => gw.close());

  it('P1: JSON in, JSON out', async () => {
    const r = await gw.request('POST', '/r5/platforms', { token, json: platform });
    assert.equal(r.status, 201);
    assert.match(r.type, /^application\/json/);
    assert.equal(r.body.txId.startsWith('tx-'), true);
    assert.deepEqual(JSON.parse(gw.ledger.submits('platform:RegisterPlatform').at(-1)!.args[0]), platform);
  });

  it('P1: CBOR in, CBOR out (same data model)', async () => {
    const r = await gw.request('POST', '/r5/platforms', { token, cbor: { ...platform, platformId: 'mv-c' }, accept: 'application/cbor' });
    assert.equal(r.status, 201);
    assert.match(r.type, /^application\/cbor/);
    assert.equal(typeof r.body.txId, 'string');
    assert.equal(JSON.parse(gw.ledger.submits('platform:RegisterPlatform').at(-1)!.args[0]).platformId, 'mv-c');
  });

  it('P1: a read answers CBOR when Accept asks for it, JSON otherwise', async () => {
    const c = await gw.request('GET', '/r5/platforms/mv-a', { token, accept: 'application/cbor' });
    assert.match(c.type, /^application\/cbor/);
    assert.deepEqual(c.body, { platformId: 'mv-a', mspId: 'MetaverseAMSP', capabilityLevel: 3 });
    const j = await gw.request('GET', '/r5/platforms/mv-a', { token, accept: 'application/json, application/cbor;q=0.5' });
    assert.match(j.type, /^application\/json/);
    assert.equal(j.body.platformId, 'mv-a');
  });

  it('P1: problems are application/problem+cbor when CBOR is asked for', async () => {
    const r = await gw.request('GET', '/r5/platforms/mv-a', { accept: 'application/cbor' });
    assert.equal(r.status, 401);
    assert.match(r.type, /^application\/problem\+cbor/);
    assert.equal(r.body.status, 401);
    assert.equal(typeof r.body.detail, 'string');
  });

  it('an unsupported Accept is 406 and an unsupported Content-Type is 415', async () => {
    const a = await gw.request('GET', '/r5/platforms/mv-a', { token, accept: 'text/html' });
    assert.equal(a.status, 406);
    assert.match(a.type, /problem\+json/);
    const b = await gw.request('POST', '/r5/platforms', { token, raw: 'platformId=x', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(b.status, 415);
  });

  it('malformed JSON and malformed CBOR are 400, nothing reaches the ledger', async () => {
    const before = gw.ledger.submits().length;
    const j = await gw.request('POST', '/r5/platforms', { token, raw: '{"platformId": "x",', contentType: 'application/json' });
    assert.equal(j.status, 400);
    assert.match(j.body.detail, /malformed JSON/);
    const c = await gw.request('POST', '/r5/platforms', { token, raw: Buffer.from([0xbf, 0x61, 0x61]), contentType: 'application/cbor' });
    assert.equal(c.status, 400);
    assert.match(c.body.detail, /malformed CBOR|CBOR/);
    const t = await gw.request('POST', '/r5/platforms', {
      token,
      raw: encodeCbor(new Map<unknown, unknown>([[1, 'x']])),
      contentType: 'application/cbor',
    });
    assert.equal(t.status, 400);
    assert.equal(gw.ledger.submits().length, before);
  });

  it('oversized bodies are 413 (declared or streamed)', async () => {
    const big = { ...platform, name: 'x'.repeat(5000) };
    const r = await gw.request('POST', '/r5/platforms', { token, json: big });
    assert.equal(r.status, 413);
    assert.equal(r.body.status, 413);
  });

  it('wrong types, unknown fields and control characters in ids are 400 naming the field', async () => {
    const before = gw.ledger.submits().length;
    const wrongType = await gw.request('POST', '/r5/platforms', { token, json: { ...platform, capabilityLevel: '3' } });
    assert.equal(wrongType.status, 400);
    assert.ok(wrongType.body.errors.some((e: { path: string }) => e.path === 'body.capabilityLevel'));
    const unknown = await gw.request('POST', '/r5/platforms', { token, json: { ...platform, owner: 'me' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.detail, /owner/);
    const ctl = await gw.request('POST', '/r5/platforms', { token, json: { ...platform, platformId: 'mv\u0000a' } });
    assert.equal(ctl.status, 400);
    const ctlPath = await gw.request('GET', '/r5/platforms/mv%00a', { token });
    assert.equal(ctlPath.status, 400);
    const ws = await gw.request('GET', '/r5/platforms/%20mv', { token });
    assert.equal(ws.status, 400);
    const badEscape = await gw.request('GET', '/r5/platforms/%E0%A4%A', { token });
    assert.ok(badEscape.status >= 400 && badEscape.status < 500, `status ${badEscape.status}`);
    assert.equal(gw.ledger.submits().length, before);
  });

  it('an unknown route is a 404 problem', async () => {
    const r = await gw.request('GET', '/r9/nothing', { token });
    assert.equal(r.status, 404);
    assert.match(r.type, /problem\+json/);
  });
});
