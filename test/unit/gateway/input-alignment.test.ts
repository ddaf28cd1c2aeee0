/**
 * Regression (API fuzzing, docs/reliability.md): input the chaincode refuses as INVALID is refused
 * by the gateway first (400 validation) and never reaches the ledger — C1 control characters, tabs
 * and newlines in text, lone surrogates, the chaincode's lengths, duplicate ids in lists.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sampleThing, startTestGateway, type TestGateway } from './support.js';

const thing = sampleThing();

describe('gateway input matches what the chaincode accepts', () => {
  let gw: TestGateway;
  let admin: string;
  before(async () => {
    gw = await startTestGateway();
    admin = await gw.tokenFor('admin');
  });
  after(() => gw.close());

  const cases: [string, string, string, unknown, RegExp][] = [
    [
      'C1 control character in a reason (found by fuzzing)',
      'POST',
      '/r5/platforms/p-1/suspend',
      { reason: '\u00d5\u008e' },
      /reason: must have no control characters/,
    ],
    ['newline in a reason', 'POST', '/r1/things/w-1/suspend', { reason: 'lost\nfound' }, /reason: must have no control characters/],
    [
      'tab in federation terms',
      'POST',
      '/r5/federations',
      { platformId: 'a', peerPlatformId: 'b', terms: 'x\ty' },
      /terms: must have no control characters/,
    ],
    [
      'platform name over 128 characters',
      'POST',
      '/r5/platforms',
      { platformId: 'p', type: 'IOT', name: 'n'.repeat(129), capabilityLevel: 1 },
      /name: Too big/,
    ],
    ['public key over 4096 characters', 'POST', '/r1/things', { ...thing, publicKey: 'k'.repeat(4097) }, /publicKey: Too big/],
    ['duplicate agents', 'PUT', '/r1/things/w-1/agents', { agents: ['a', 'a'] }, /agents: must not contain duplicates/],
    [
      'more than 64 metaverses in a policy',
      'PUT',
      '/r1/things/w-1/policy',
      { allowedMetaverses: Array.from({ length: 65 }, (_, i) => `m${i}`) },
      /allowedMetaverses: Too big/,
    ],
    ['a purpose over 64 characters', 'PUT', '/r1/things/w-1/policy', { purposes: ['p'.repeat(65)] }, /purposes\.0: Too big/],
  ];
  for (const [what, method, path, json, detail] of cases) {
    it(`${what}: 400 before the ledger`, async () => {
      const before = gw.ledger.calls.length;
      const r = await gw.request(method, path, { token: admin, json });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.type, 'https://mvsec.dev/problems/validation');
      assert.match(r.body.detail, detail);
      assert.equal(gw.ledger.calls.length, before, 'nothing reached the ledger');
    });
  }

  it('a lone surrogate (JSON \\ud800 escape) in a reason: 400 before the ledger', async () => {
    const before = gw.ledger.calls.length;
    const r = await gw.request('POST', '/r1/things/w-1/suspend', {
      token: admin,
      raw: '{"reason":"x\\ud800y"}',
      contentType: 'application/json',
    });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /unpaired UTF-16 surrogates/);
    assert.equal(gw.ledger.calls.length, before);
  });

  it('an audit history of a record type the chaincode does not know (found by fuzzing): 400 before the ledger', async () => {
    const before = gw.ledger.calls.length;
    const r = await gw.request('GET', '/audit/history/nonsense/x-1', { token: admin });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.detail, /recordType/);
    assert.equal(gw.ledger.calls.length, before);
  });

  it('the OpenAPI document states what is refused: uniqueItems on id lists, C1 in the text pattern, the record types', async () => {
    const doc = (await gw.request('GET', '/openapi.json')).body;
    const body = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].schema;
    assert.equal(body('/r1/things/{thingId}/agents', 'put').properties.agents.uniqueItems, true);
    assert.equal(body('/r1/things/{thingId}/policy', 'put').properties.purposes.uniqueItems, true);
    assert.match(body('/r1/things/{thingId}/suspend', 'post').properties.reason.pattern, /\\u007f-\\u009f/);
    const recordType = doc.paths['/audit/history/{recordType}/{id}'].get.parameters.find((p: { name: string }) => p.name === 'recordType');
    assert.ok(recordType.schema.enum.includes('thing') && !recordType.schema.enum.includes('nonsense'));
  });

  it('text the chaincode accepts still passes (non-ASCII, emoji, 128-character name)', async () => {
    const r = await gw.request('POST', '/r5/platforms', {
      token: admin,
      json: { platformId: 'p-ok', type: 'IOT', name: `Ünïcödé 🚀 ${'n'.repeat(116)}`, capabilityLevel: 1 },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(gw.ledger.submits('platform:RegisterPlatform').length, 1);
  });
});
