/**
 * P1: XML as the third representation — the W3C fn:json-to-xml mapping of the same data model, on
 * every route that takes or returns JSON; hostile XML (DTDs, entity expansion, external entities,
 * deep nesting, processing instructions) is a 400 with the reason and reaches nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseXml, toXml } from '../../../gateway/src/http/xml.js';
import { sampleThing, startTestGateway, type TestGateway } from './support.js';

const NS = 'http://www.w3.org/2005/xpath-functions';
const xml = (s: string) => Buffer.from(s);

/** Deterministic random JSON values (mulberry32), strings with markup, quotes, controls and astral characters. */
function values(seed: number, count: number): unknown[] {
  let a = seed;
  const rnd = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const alphabet = ['a', 'Z', '<', '>', '&', '"', "'", ' ', '\t', '\n', '\r', '\u0001', '\u001f', 'é', '😀', ']]>', '&amp;', '\\'];
  const str = () => Array.from({ length: Math.floor(rnd() * 8) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
  const gen = (d: number): unknown => {
    const k = Math.floor(rnd() * (d > 3 ? 4 : 6));
    if (k === 0) return str();
    if (k === 1) return Math.round((rnd() - 0.5) * 1e6) / (rnd() < 0.5 ? 1 : 1000);
    if (k === 2) return rnd() < 0.5;
    if (k === 3) return null;
    if (k === 4) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [str(), gen(d + 1)]));
  };
  return Array.from({ length: count }, () => gen(0));
}

describe('P1: XML representation (fn:json-to-xml)', () => {
  it('P1: 2,000 random values round-trip exactly, and the output is the W3C mapping', () => {
    for (const v of values(7, 2000)) assert.deepEqual(parseXml(xml(toXml(v))), JSON.parse(JSON.stringify(v)));
    assert.equal(
      toXml({ a: [1, 'x<y', true, null] }),
      `<?xml version="1.0" encoding="UTF-8"?>\n<map xmlns="${NS}"><array key="a"><number>1</number><string>x&lt;y</string><boolean>true</boolean><null/></array></map>`,
    );
    // characters XML 1.0 cannot carry travel JSON-escaped, as the mapping defines
    assert.match(toXml('bell\u0007'), /<string xmlns="[^"]+" escaped="true">bell\\u0007<\/string>/);
    // a document written by hand, with a prefix, comments and whitespace, reads the same
    const hand = `<?xml version="1.0"?><!-- a thing --><fn:map xmlns:fn="${NS}">\n  <fn:string key="thingId">w&#x2D;1</fn:string>\n  <fn:number key="n">2.5e1</fn:number>\n</fn:map>`;
    assert.deepEqual(parseXml(xml(hand)), { thingId: 'w-1', n: 25 });
  });

  it('hostile XML: DTDs, entity expansion, external entities, undefined entities, PIs, deep nesting — each a 400 with its reason', () => {
    const cases: [string, RegExp][] = [
      [
        `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><map xmlns="${NS}"><string key="a">&lol2;</string></map>`,
        /DOCTYPE is refused/,
      ],
      [
        `<!DOCTYPE map [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><map xmlns="${NS}"><string key="a">&xxe;</string></map>`,
        /DOCTYPE is refused/,
      ],
      [`<map xmlns="${NS}"><string key="a">&xxe;</string></map>`, /entity or character reference &xxe;/],
      [`<map xmlns="${NS}"><string key="a">&#0;</string></map>`, /character reference &#0;/],
      [`<?xml-stylesheet href="http://evil/"?><null xmlns="${NS}"/>`, /processing instructions are refused/],
      [`${'<array>'.repeat(40)}<null/>${'</array>'.repeat(40)}`, /nests deeper than 32/],
      [`<map xmlns="urn:other"/>`, /namespace is urn:other/],
      [`<map xmlns="${NS}"><string key="a">1</string><string key="a">2</string></map>`, /key "a" appears twice/],
      [`<map xmlns="${NS}"><string key="__proto__">x</string></map>`, /__proto__/],
      [`<map xmlns="${NS}">text<null key="a"/></map>`, /text directly inside/],
      [`<map xmlns="${NS}"><number key="n">0x10</number></map>`, /<number> holds "0x10"/],
      [`<map xmlns="${NS}"><string key="a">x</map>`, /malformed XML: Expected closing tag/],
      [`<html/>`, /<html> is not an element of the fn:json-to-xml mapping/],
    ];
    for (const [doc, reason] of cases) {
      assert.throws(
        () => parseXml(xml(doc)),
        (e: Error & { status?: number }) => {
          assert.equal(e.status, 400, doc);
          assert.match(e.message, reason);
          return true;
        },
      );
    }
  });
});

describe('P1: XML on the gateway’s routes', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startTestGateway();
    token = await gw.tokenFor('creator');
    gw.ledger.on('access:CheckAccess', () => ({ allowed: true, reason: 'grant g-1', grantId: 'g-1' }));
  });
  after(() => gw.close());

  it('P1: every route family takes XML and answers XML: R1, R3, R4, R5 writes reach the ledger as the JSON would', async () => {
    const writes: [string, unknown, string][] = [
      ['/r5/platforms', { platformId: 'mv-x', type: 'METAVERSE', name: 'X & Co <games>', capabilityLevel: 3 }, 'platform:RegisterPlatform'],
      ['/r1/things', sampleThing({ name: 'watch "one"' }), 'thing:RegisterThing'],
      [
        '/r4/grants',
        {
          grantId: 'g-1',
          resourceType: 'THING',
          resourceId: 'w-1',
          grantee: { type: 'MSP', id: 'MetaverseAMSP' },
          actions: ['read'],
          purpose: 'fitness',
          validUntil: '2030-01-01T00:00:00.000Z',
        },
        'access:CreateGrant',
      ],
      [
        '/r3/transfers',
        {
          transferId: 't-1',
          kind: 'SHARE',
          sourceAvatarId: 'av-1',
          targetMetaverseId: 'mv-b',
          dataId: 'd-1',
          dataSha256: 'a'.repeat(64),
          purpose: 'gameplay',
          expiresAt: '2030-01-01T00:00:00.000Z',
        },
        'transfer:RequestTransfer',
      ],
    ];
    for (const [path, body, fn] of writes) {
      const r = await gw.request('POST', path, { token, xml: body, accept: 'application/xml' });
      assert.equal(r.status, 201, `${path}: ${JSON.stringify(r.body)}`);
      assert.match(r.type, /^application\/xml/);
      assert.match(r.bytes.toString('utf8'), new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<map xmlns="${NS}">`));
      assert.equal(typeof r.body.txId, 'string');
      assert.deepEqual(JSON.parse(gw.ledger.submits(fn).at(-1)!.args[0]), body, path);
    }
    gw.ledger.on('thing:GetThing', (c) => ({ ...sampleThing(), thingId: c.args[0], agents: ['a', 'b'], policy: { retentionDays: 30 } }));
    const read = await gw.request('GET', '/r1/things/w-1', { token, accept: 'application/xml' });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.agents, ['a', 'b']);
    assert.equal(read.body.policy.retentionDays, 30);
  });

  it('P1: every operation that takes a JSON body takes XML too (the OpenAPI document lists it): bad XML input is a problem+xml 4xx, never a 415 or 5xx', async () => {
    const doc = (await gw.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const content = op.requestBody?.content;
        if (!content?.['application/json']) continue;
        assert.ok(content['application/xml'], `${method} ${path} lists application/xml`);
        const concrete = path.replace(/\{(\w+)\}/g, 'x-1');
        const r = await gw.request(method.toUpperCase(), concrete, {
          token,
          raw: `<map xmlns="${NS}"><null key="no-such-field"/></map>`,
          contentType: 'application/xml',
          accept: 'application/xml',
        });
        assert.ok(r.status >= 400 && r.status < 500 && r.status !== 415, `${method} ${path}: ${r.status}`);
        assert.match(r.type, /^application\/problem\+xml/, `${method} ${path}`);
        assert.equal(r.body.status, r.status);
        checked++;
      }
    }
    assert.ok(checked >= 20, `${checked} operations`);
  });

  it('hostile XML on a route is a 400 problem and reaches no ledger', async () => {
    const before = gw.ledger.calls.length;
    const r = await gw.request('POST', '/r5/platforms', {
      token,
      raw: `<!DOCTYPE m [<!ENTITY a "${'x'.repeat(100)}">]><map xmlns="${NS}"><string key="platformId">&a;</string></map>`,
      contentType: 'application/xml',
      accept: 'application/xml',
    });
    assert.equal(r.status, 400);
    assert.match(r.type, /^application\/problem\+xml/);
    assert.match(r.body.detail, /DOCTYPE is refused/);
    assert.equal(gw.ledger.calls.length, before);
    const none = await gw.request('GET', '/r5/platforms/mv-x', { token, accept: 'text/html' });
    assert.equal(none.status, 406);
    assert.match(none.body.detail, /application\/xml/);
  });
});
