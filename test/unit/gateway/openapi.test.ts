/* eslint-disable @typescript-eslint/no-explicit-any -- walking an arbitrary JSON document */
/** P2: the OpenAPI document is generated from the validating schemas, is well-formed, and every path answers. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './support.js';

describe('gateway OpenAPI and operations endpoints (P2)', () => {
  let gw: TestGateway;
  let doc: any;
  before(async () => {
    gw = await startTestGateway();
    doc = (await gw.request('GET', '/openapi.json')).body;
  });
  after(() => gw.close());

  it('P2: /openapi.json is an OpenAPI 3.1 document whose operations are unique and all have responses', () => {
    assert.equal(doc.openapi, '3.1.0');
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      assert.match(path, /^\//);
      for (const [method, op] of Object.entries<any>(ops)) {
        assert.ok(['get', 'post', 'put', 'patch', 'delete'].includes(method));
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path}`);
        if (op.operationId) {
          assert.equal(ids.has(op.operationId), false, op.operationId);
          ids.add(op.operationId);
        }
        for (const p of op.parameters ?? []) if (p.in === 'path') assert.match(path, new RegExp(`\\{${p.name}\\}`));
        for (const ref of JSON.stringify(op).match(/"\$ref":"[^"]+"/g) ?? []) {
          const name = ref.split('/').pop()!.replace('"', '');
          assert.ok(doc.components.schemas[name], `dangling ${ref}`);
        }
      }
    }
    for (const p of [
      '/r1/things',
      '/r3/transfers/{transferId}/execute',
      '/r4/grants',
      '/r5/platforms',
      '/auth/login',
      '/healthz',
      '/readyz',
      '/metrics',
      '/docs',
    ])
      assert.ok(doc.paths[p], p);
  });

  it('P2: request schemas are the validating ones (strict, with the id pattern)', () => {
    const body = doc.paths['/r5/platforms'].post.requestBody.content['application/json'].schema;
    assert.equal(body.additionalProperties, false);
    assert.deepEqual(body.required.sort(), ['capabilityLevel', 'name', 'platformId', 'type']);
    assert.ok(body.properties.platformId.pattern);
    assert.ok(doc.paths['/r5/platforms'].post.requestBody.content['application/cbor']);
  });

  it('P2: every path in the document answers (no 404 / 5xx)', async () => {
    const token = await gw.tokenFor('user');
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const concrete = path.replace(/\{[^}]+\}/g, 'x-1');
        const r = await gw.request(method.toUpperCase(), concrete, { token, ...(method === 'get' ? {} : { json: {} }) });
        assert.ok(r.status !== 404 || r.body?.code === 'NOT_FOUND', `${method} ${concrete} → 404 (no route)`);
        assert.ok(r.status < 500, `${method} ${concrete} → ${r.status}`);
      }
    }
  });

  it('/docs is a browsable page served offline (no CDN), with its assets', async () => {
    const page = await gw.request('GET', '/docs');
    assert.equal(page.status, 200);
    assert.match(page.body, /swagger-ui-bundle\.js/);
    assert.doesNotMatch(page.body, /https?:\/\//);
    const js = await gw.request('GET', '/docs/swagger-ui-bundle.js');
    assert.equal(js.status, 200);
    assert.ok(js.bytes.length > 100_000);
    assert.match((await gw.request('GET', '/docs/init.js')).body, /\/openapi\.json/);
  });

  it('/healthz, /readyz (503 with the reason when the ledger is not reachable) and /metrics', async () => {
    assert.equal((await gw.request('GET', '/healthz')).status, 200);
    assert.equal((await gw.request('GET', '/readyz')).status, 200);
    gw.ledger.readiness = { ready: false, detail: 'no peer reachable: 127.0.0.1:7051 UNAVAILABLE' };
    const nr = await gw.request('GET', '/readyz');
    assert.equal(nr.status, 503);
    assert.match(nr.body.detail, /no peer reachable/);
    gw.ledger.readiness = { ready: true, detail: 'fake' };
    const m = await gw.request('GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /mvsec_gateway_http_requests_total\{method="GET",route="\/readyz",status="503"\} 1/);
  });
});
