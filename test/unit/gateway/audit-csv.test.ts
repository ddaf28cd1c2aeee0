/**
 * /audit routes and the CSV representation on a ledger double: RFC 4180 round trip, paging with
 * opaque bookmarks, the from/to window, streaming every page (all=true), bad input → 400, the
 * chaincode's refusal passed through, OpenAPI listing text/csv.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { main as mvsec } from '../../../audit/src/cli.js';
import { csvColumns, csvRecords, parseCsv, toCsv } from '../../../gateway/src/http/representation.js';
import type { ActivityRecord } from 'mvsec-protocol';
import { movementOf } from '../../../gateway/src/audit/reports.js';
import { ACTIVITY_COLUMNS } from '../../../gateway/src/audit/schemas.js';
import { FakeLedger, startTestGateway, type TestGateway } from './support.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const record = (i: number, over: Partial<ActivityRecord> = {}): ActivityRecord => ({
  docType: 'activity',
  txId: `tx${String(i).padStart(5, '0')}`,
  seq: 0,
  time: new Date(T0 + i * 1000).toISOString(),
  fn: 'data:AnchorBatch',
  actor: { mspId: 'IoTPlatformMSP', principal: 'alice', role: 'creator' },
  subjectType: 'thing',
  subjectId: 'w',
  action: 'batch-anchored',
  details: JSON.stringify({ batchId: `b${i}`, note: 'a "quoted", comma\nand newline' }),
  ...over,
});

/** A chaincode-like pager over `n` records: bookmark = index of the next record. */
function pager(records: ActivityRecord[]) {
  return (args: string[]) => {
    const size = Number(args[args.length - 2]);
    const start = args[args.length - 1] ? Number(args[args.length - 1].slice(1)) : 0;
    const items = records.slice(start, start + size);
    return { items, bookmark: start + size < records.length ? `k${start + size}` : '' };
  };
}

describe('CSV representation (RFC 4180)', () => {
  it('quotes commas, quotes and line breaks, flattens nested objects to dotted columns, and parses back', () => {
    const rows = [
      { a: 'plain', b: { c: 'x,y', d: 'say "hi"' }, e: [1, 2] },
      { a: 'line\r\nbreak', b: { c: '', d: null }, f: true },
    ];
    const cols = csvColumns(rows);
    assert.deepEqual(cols, ['a', 'b.c', 'b.d', 'e', 'f']);
    const text = toCsv(rows, cols);
    assert.equal(text.split('\r\n')[0], 'a,b.c,b.d,e,f');
    assert.match(text, /"say ""hi"""/);
    assert.deepEqual(parseCsv(text)[1], ['plain', 'x,y', 'say "hi"', '[1,2]', '']);
    const back = csvRecords(text);
    assert.equal(back[1].a, 'line\r\nbreak');
    assert.equal(back[1].f, 'true');
    assert.equal(back[0]['b.d'], 'say "hi"');
  });
});

describe('movements derived from activity records', () => {
  it('classifies transfers requested/executed, shares, DPM jobs, access and avatars; ignores the rest', () => {
    const k = (subjectType: string, action: string, d: Record<string, unknown>) =>
      movementOf(record(1, { subjectType, subjectId: 'x', action, details: JSON.stringify(d) }))?.kind;
    assert.equal(k('data', 'transfer-requested', { transferId: 't', to: 'mvb' }), 'transfer-requested');
    assert.equal(k('data', 'shared', { transferId: 't', to: 'mvb' }), 'transfer-executed');
    assert.equal(k('data', 'shared', { purpose: 'analytics' }), 'shared');
    assert.equal(k('data', 'sent-to-dpm', { jobId: 'j', providerId: 'dpm' }), 'sent-to-dpm');
    assert.equal(k('data', 'grant-created', { grantId: 'g' }), 'access-granted');
    assert.equal(k('thing', 'grant-revoked', { grantId: 'g' }), 'access-revoked');
    assert.equal(k('thing', 'avatar-mapped', { avatarId: 'a', metaverseId: 'mva' }), 'avatar-mapped');
    assert.equal(k('data', 'migration-started', { migrationId: 'm' }), 'migration');
    assert.equal(k('data', 'anchored', {}), undefined);
    assert.equal(k('thing', 'batch-anchored', {}), undefined);
    assert.equal(
      movementOf(record(1, { subjectType: 'data', action: 'sent-to-dpm', details: '{"jobId":"j","providerId":"dpm"}' }))?.to,
      'dpm',
    );
  });
});

describe('/audit on a ledger double', () => {
  let gw: TestGateway;
  let token: string;
  const records = Array.from({ length: 250 }, (_, i) => record(i));
  before(async () => {
    const ledger = new FakeLedger();
    ledger.on('audit:QueryActivityBySubject', (c) => pager(records)(c.args));
    ledger.on('audit:QueryActivityByTime', (c) => pager(records)(c.args));
    // as the chaincode: the window starts at from and ends after to (ISO times compare as strings once normalised)
    ledger.on('audit:QueryActivityBySubjectBetween', (c) => {
      const [from, to] = c.args.slice(2, 4).map((t) => (t ? new Date(t).toISOString() : ''));
      return pager(records.filter((r) => (!from || r.time >= from) && (!to || r.time <= to)))(c.args);
    });
    ledger.on('audit:GetHistory', (c) => {
      if (c.caller.role !== 'auditor') throw new Error('DENIED: reading the audit trail needs role auditor, monitor or admin');
      if (c.args[0] === 'nope') throw new Error('INVALID: recordType must be one of platform, thing');
      return [{ txId: 'tx1', time: new Date(T0).toISOString(), isDelete: false, value: '{"status":"ACTIVE","x":"a,b"}' }];
    });
    gw = await startTestGateway({}, { ledger });
    token = await gw.tokenFor('auditor');
  });
  after(async () => gw.close());

  it('pages a subject with opaque bookmarks until the last page', async () => {
    const seen: string[] = [];
    let bookmark = '';
    for (let n = 0; n < 10; n++) {
      const r = await gw.request('GET', `/audit/activity/thing/w?pageSize=100${bookmark ? `&bookmark=${bookmark}` : ''}`, { token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...r.body.items.map((i: ActivityRecord) => i.txId));
      bookmark = r.body.bookmark;
      if (!bookmark) break;
    }
    assert.deepEqual(
      seen,
      records.map((r) => r.txId),
    );
  });

  it('keeps only records inside from/to, resuming inside a chaincode page', async () => {
    const from = new Date(T0 + 10_000).toISOString();
    const to = new Date(T0 + 219_000).toISOString();
    const got: string[] = [];
    let bookmark = '';
    do {
      const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&pageSize=70${bookmark ? `&bookmark=${bookmark}` : ''}`;
      const r = await gw.request('GET', `/audit/activity/thing/w?${q}`, { token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      got.push(...r.body.items.map((i: ActivityRecord) => i.txId));
      bookmark = r.body.bookmark;
    } while (bookmark);
    assert.deepEqual(
      got,
      records.slice(10, 220).map((r) => r.txId),
    );
  });

  it('CSV: one page with X-Next-Bookmark, or every page streamed with all=true; parsed back equal to the JSON', async () => {
    const one = await gw.request('GET', '/audit/activity/thing/w?pageSize=20', { token, accept: 'text/csv' });
    assert.equal(one.status, 200);
    assert.match(one.type, /^text\/csv/);
    assert.ok(one.headers.get('x-next-bookmark'));
    const rows = csvRecords(one.body as string);
    assert.equal(rows.length, 20);
    assert.deepEqual(Object.keys(rows[0]), ACTIVITY_COLUMNS);
    assert.equal(rows[3].details, records[3].details);
    assert.equal(rows[3]['actor.mspId'], 'IoTPlatformMSP');
    const all = await gw.request('GET', '/audit/periods/2026-01-01/activity?pageSize=30&format=csv&all=true', { token });
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('x-next-bookmark'), null);
    const every = csvRecords(all.body as string);
    assert.deepEqual(
      every.map((r) => r.txId),
      records.map((r) => r.txId),
    );
  });

  it('history in JSON, CBOR and CSV', async () => {
    const j = await gw.request('GET', '/audit/history/thing/w', { token });
    assert.equal(j.status, 200);
    assert.equal(j.body.items[0].value, '{"status":"ACTIVE","x":"a,b"}');
    const c = await gw.request('GET', '/audit/history/thing/w', { token, accept: 'application/cbor' });
    assert.match(c.type, /cbor/);
    assert.deepEqual(c.body, j.body);
    const v = await gw.request('GET', '/audit/history/thing/w', { token, accept: 'text/csv' });
    assert.deepEqual(csvRecords(v.body as string), [
      { time: j.body.items[0].time, txId: 'tx1', isDelete: 'false', value: j.body.items[0].value },
    ]);
  });

  it('bad input → 400 problem; the chaincode refusal → 403 with its reason', async () => {
    const bad = [
      '/audit/activity/thing/w?pageSize=0',
      '/audit/activity/thing/w?pageSize=201',
      '/audit/activity/thing/w?from=yesterday',
      `/audit/activity/thing/w?from=${new Date(T0 + 5000).toISOString()}&to=${new Date(T0).toISOString()}`,
      '/audit/activity/thing/w?bookmark=not-a-bookmark',
      '/audit/activity/thing/w?unknown=1',
      '/audit/activity/thing/w?format=xml',
      '/audit/activity/thing/w?all=true',
      '/audit/history/thing/w?all=true',
      '/audit/periods/2026-1-1/activity',
      '/audit/history/nope/w',
    ];
    for (const p of bad) {
      const r = await gw.request('GET', p, { token });
      assert.equal(r.status, 400, `${p}: ${JSON.stringify(r.body)}`);
      assert.match(r.type, /problem\+json/);
    }
    // a bookmark of another query
    const first = await gw.request('GET', '/audit/activity/thing/w?pageSize=10', { token });
    const other = await gw.request('GET', `/audit/activity/thing/v?pageSize=10&bookmark=${first.body.bookmark}`, { token });
    assert.equal(other.status, 400);
    assert.match(other.body.detail, /another query/);
    const user = await gw.tokenFor('user');
    const denied = await gw.request('GET', '/audit/history/thing/w', { token: user });
    assert.equal(denied.status, 403);
    assert.match(denied.body.detail, /needs role auditor, monitor or admin/);
  });

  it('mvsec activity|history read every page through the gateway, as CSV or a JSON array; a refusal is exit 1', async () => {
    const run = async (args: string[]) => {
      let text = '';
      const code = await mvsec(
        args,
        (l) => (text += `${l}\n`),
        (c) => (text += c),
      );
      return { code, text };
    };
    const common = ['--gateway', gw.url, '--token', token];
    const csv = await run(['activity', '--subject-type', 'thing', '--subject-id', 'w', ...common]);
    assert.equal(csv.code, 0);
    assert.deepEqual(
      csvRecords(csv.text).map((r) => r.txId),
      records.map((r) => r.txId),
    );
    const json = await run(['activity', '--period', '2026-01-01', '--format', 'json', ...common]);
    assert.equal(json.code, 0);
    assert.equal((JSON.parse(json.text) as unknown[]).length, records.length);
    const hist = await run(['history', '--record-type', 'thing', '--id', 'w', ...common]);
    assert.equal(csvRecords(hist.text)[0].txId, 'tx1');
    const user = await gw.tokenFor('user');
    const denied = await run(['history', '--record-type', 'thing', '--id', 'w', '--gateway', gw.url, '--token', user]);
    assert.equal(denied.code, 1);
    assert.equal((await run(['activity', ...common])).code, 2, 'no subject: usage error');
  });

  it('OpenAPI lists text/csv for every /audit read', () => {
    const paths = gw.app.openapi.paths as Record<string, { get: { responses: Record<string, { content?: Record<string, unknown> }> } }>;
    const audit = Object.keys(paths).filter((p) => p.startsWith('/audit/'));
    assert.equal(audit.length, 6);
    for (const p of audit) assert.ok(paths[p].get.responses['200'].content?.['text/csv'], p);
  });
});
