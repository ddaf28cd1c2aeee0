/**
 * M1/S1/X6 on the real network: an auditor reads, over the gateway's /audit API, a record's
 * history, a subject's activity (paged, by time range), a day's activity, every movement of a
 * thing's data (avatar mapped, access granted, transfer requested and executed, DPM job) and the
 * transfer and DPM receipt trails — in JSON, CBOR and CSV (the CSV parsed back and compared with
 * the JSON). A non-auditor is refused with 403 and the chaincode's reason; bad query input is a 400.
 * The world (platforms, thing, transfer, job) is built with direct chaincode calls; every read
 * under test goes through HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { csvRecords, decodeCbor } from '../../gateway/src/http/representation.js';
import { ACTIVITY_COLUMNS, HISTORY_COLUMNS, MOVEMENT_COLUMNS, TIMELINE_COLUMNS } from '../../gateway/src/audit/schemas.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';
import { anchorInput, buildWorld, DAY, evaluate, isoIn, MVA, MVB, ok, processGrantInput, sha256, type World } from './support/domain.js';

interface Activity {
  txId: string;
  seq: number;
  time: string;
  fn: string;
  actor: { mspId: string; principal: string; role: string };
  subjectType: string;
  subjectId: string;
  action: string;
  details: string;
}

/** Flatten a record the way the CSV columns name it, every cell as its CSV text. */
function asCsvRow(r: Record<string, unknown>, columns: string[]): Record<string, string> {
  return Object.fromEntries(
    columns.map((c) => {
      let v: unknown = r;
      for (const p of c.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      return [c, v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)];
    }),
  );
}

describe('Auditor API /audit on the real network (M1, S1, X6)', () => {
  let w: World;
  let gw: LiveGateway;
  let auditor: Client;
  let user: Client;
  let transferId: string;
  let jobId: string;
  let shared: string;
  let processed: string;
  let executeTxId: string;
  let grantId: string;

  /** GET as `c` with an Accept header; the body decoded by its type (CSV left as text). */
  const get = async (c: Client, path: string, accept = 'application/json') => {
    const r = await fetch(gw.url + path, { headers: { authorization: `Bearer ${c.token}`, accept } });
    const bytes = Buffer.from(await r.arrayBuffer());
    const type = r.headers.get('content-type') ?? '';
    const body = /cbor/.test(type) ? decodeCbor(bytes) : /json/.test(type) ? JSON.parse(bytes.toString('utf8')) : bytes.toString('utf8');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: r.status, type, headers: r.headers, body: body as any };
  };
  /** The same read as JSON, CBOR and CSV: CBOR equals JSON; returns both and the CSV records. */
  const threeWays = async (path: string) => {
    const json = await get(auditor, path);
    assert.equal(json.status, 200, `${path}: ${JSON.stringify(json.body)}`);
    assert.match(json.type, /^application\/json/);
    const cbor = await get(auditor, path, 'application/cbor');
    assert.equal(cbor.status, 200);
    assert.match(cbor.type, /^application\/cbor/);
    assert.deepEqual(cbor.body, json.body, `${path}: CBOR and JSON carry the same data`);
    const csv = await get(auditor, path, 'text/csv');
    assert.equal(csv.status, 200, `${path}: ${csv.body}`);
    assert.match(csv.type, /^text\/csv/);
    return { json: json.body, csv: csvRecords(csv.body as string), csvText: csv.body as string, headers: csv.headers };
  };

  before(async () => {
    w = await buildWorld('aud');
    gw = await startLiveGateway();
    [auditor, user] = await Promise.all([gw.as('IoTPlatformMSP', 'auditor'), gw.as('IoTPlatformMSP', 'user')]);

    // Access given on the thing (a read grant to metaverse B's admin org).
    grantId = `g-${w.run}`;
    await ok(w.alice.cc('access'), 'CreateGrant', [
      JSON.stringify({
        grantId,
        resourceType: 'THING',
        resourceId: w.thingId,
        grantee: { type: 'MSP', id: MVB },
        actions: ['read'],
        purpose: 'analytics',
        validUntil: isoIn(DAY),
      }),
    ]);
    // A transfer of one reading to metaverse B, approved by both metaverses, consented, executed.
    shared = `d-tr-${w.run}`;
    const input = { ...anchorInput(w, shared), avatarId: w.avatarId };
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(input)]);
    transferId = `tr-${w.run}`;
    await ok(w.alice.cc('transfer'), 'RequestTransfer', [
      JSON.stringify({
        transferId,
        kind: 'SHARE',
        sourceAvatarId: w.avatarId,
        targetMetaverseId: w.mvbId,
        dataId: shared,
        dataSha256: input.sha256,
        purpose: 'gameplay',
        expiresAt: isoIn(DAY),
      }),
    ]);
    const both = { endorsingOrganizations: [MVA, MVB] };
    await ok(w.mvaAdmin.cc('transfer'), 'ApproveTransferAsSource', [transferId], both);
    await ok(w.mvbAdmin.cc('transfer'), 'ApproveTransferAsTarget', [transferId], both);
    await ok(w.alice.cc('transfer'), 'ConsentTransfer', [transferId]);
    executeTxId = (await ok(w.mvbAdmin.cc('transfer'), 'ExecuteTransfer', [transferId, input.sha256], both)).tx.txId;
    // A DPM job on another reading, accepted and receipted by the provider.
    processed = `d-dpm-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, processed))]);
    jobId = `job-${w.run}`;
    await ok(w.alice.cc('access'), 'CreateGrant', [JSON.stringify(processGrantInput(w, `gp-${w.run}`))]);
    await ok(w.mvaAdmin.cc('dpm'), 'SubmitJob', [
      JSON.stringify({
        jobId,
        metaverseId: w.mvaId,
        providerId: w.dpmId,
        inputs: [processed],
        purpose: 'analytics',
        envelopeSha256: sha256(`envelope ${jobId}`),
      }),
    ]);
    await ok(w.provider.cc('dpm'), 'AcceptJob', [jobId]);
    const job = await evaluate<{ createdAt: string }>(w.mvaAdmin.cc('dpm'), 'GetJob', [jobId]);
    await ok(w.provider.cc('dpm'), 'RecordReceipt', [
      jobId,
      JSON.stringify({
        outputSha256: sha256(`output ${jobId}`),
        startedAt: job.createdAt,
        endedAt: isoIn(-1),
        summary: 'gait analysis, "v2", 3 passes',
      }),
    ]);
  });

  after(async () => {
    await gw?.close();
    w?.close();
  });

  it("M1/S1: a transfer record's history (every committed version) in JSON, CBOR and CSV", async () => {
    const { json, csv, csvText } = await threeWays(`/audit/history/transfer/${transferId}`);
    const statuses = json.items.map((h: { value: string }) => (JSON.parse(h.value) as { status: string }).status);
    assert.deepEqual(statuses, ['EXECUTED', 'CONSENTED', 'TARGET_APPROVED', 'SOURCE_APPROVED', 'REQUESTED'], 'newest first');
    assert.equal(csvText.split('\r\n')[0], HISTORY_COLUMNS.join(','));
    assert.deepEqual(
      csv,
      json.items.map((h: Record<string, unknown>) => asCsvRow(h, HISTORY_COLUMNS)),
    );
  });

  it("M1: a data object's activity in JSON, CBOR and CSV; from/to keeps only the records in that window", async () => {
    const { json, csv } = await threeWays(`/audit/activity/data/${shared}`);
    const actions = json.items.map((a: Activity) => a.action);
    assert.deepEqual(actions, ['anchored', 'transfer-requested', 'shared']);
    assert.equal(json.bookmark, '');
    assert.deepEqual(
      csv,
      json.items.map((a: Record<string, unknown>) => asCsvRow(a, ACTIVITY_COLUMNS)),
    );
    const executed = json.items.find((a: Activity) => a.action === 'shared') as Activity;
    assert.equal(executed.txId, executeTxId);
    const at = encodeURIComponent(executed.time);
    const window = await get(auditor, `/audit/activity/data/${shared}?from=${at}&to=${at}`);
    assert.equal(window.status, 200);
    assert.deepEqual(
      window.body.items.map((a: Activity) => a.txId),
      [executeTxId],
    );
    const before = await get(auditor, `/audit/activity/data/${shared}?to=${encodeURIComponent(json.items[0].time)}`);
    assert.deepEqual(
      before.body.items.map((a: Activity) => a.action),
      ['anchored'],
    );
  });

  it('paging: page by page with the bookmark gives exactly the whole list; CSV one page (X-Next-Bookmark) or all=true', async () => {
    const whole = await get(auditor, `/audit/activity/thing/${w.thingId}?pageSize=200`);
    assert.equal(whole.status, 200);
    const all = whole.body.items as Activity[];
    assert.ok(all.length >= 3, `thing activity: ${all.map((a) => a.action).join(', ')}`);
    const paged: Activity[] = [];
    let bookmark = '';
    for (let i = 0; i <= all.length; i++) {
      const r = await get(
        auditor,
        `/audit/activity/thing/${w.thingId}?pageSize=1${bookmark ? `&bookmark=${encodeURIComponent(bookmark)}` : ''}`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      paged.push(...r.body.items);
      bookmark = r.body.bookmark;
      if (!bookmark) break;
    }
    assert.equal(bookmark, '', 'the last page has no bookmark');
    assert.deepEqual(paged, all);
    const first = await get(auditor, `/audit/activity/thing/${w.thingId}?pageSize=2&format=csv`);
    assert.equal(csvRecords(first.body).length, 2);
    assert.ok(first.headers.get('x-next-bookmark'));
    const streamed = await get(auditor, `/audit/activity/thing/${w.thingId}?pageSize=1&all=true`, 'text/csv');
    assert.deepEqual(
      csvRecords(streamed.body),
      all.map((a) => asCsvRow(a as unknown as Record<string, unknown>, ACTIVITY_COLUMNS)),
    );
  });

  it("M1: an hour's activity (by period), paged, holds the transfer's execution", async () => {
    const whole = await get(auditor, `/audit/activity/transfer/${transferId}`);
    const hour = (whole.body.items as Activity[]).at(-1)!.time.slice(0, 13);
    let bookmark = '';
    let found: Activity | undefined;
    for (let i = 0; i < 500 && !found; i++) {
      const r = await get(
        auditor,
        `/audit/periods/${hour}/activity?pageSize=100${bookmark ? `&bookmark=${encodeURIComponent(bookmark)}` : ''}`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const a of r.body.items as Activity[]) assert.equal(a.time.slice(0, 13), hour);
      found = (r.body.items as Activity[]).find((a) => a.txId === executeTxId && a.subjectType === 'transfer');
      bookmark = r.body.bookmark;
      if (!bookmark) break;
    }
    assert.equal(found?.action, 'executed');
    const csv = await get(auditor, `/audit/periods/${hour}/activity?pageSize=5`, 'text/csv');
    assert.equal(csv.body.split('\r\n')[0], ACTIVITY_COLUMNS.join(','));
  });

  it("M1/M2: every movement of the thing's data: avatar mapped, access granted, transfer requested and executed to metaverse B, sent to the DPM provider", async () => {
    const { json, csv } = await threeWays(`/audit/things/${w.thingId}/movements`);
    const kinds = json.items.map(
      (m: { kind: string; dataId: string; to: string; ref: string }) => `${m.kind} ${m.dataId} ${m.to} ${m.ref}`,
    );
    for (const expected of [
      `avatar-mapped  ${w.mvaId} ${w.avatarId}`,
      `access-granted   ${grantId}`,
      `transfer-requested ${shared} ${w.mvbId} ${transferId}`,
      `transfer-executed ${shared} ${w.mvbId} ${transferId}`,
      `sent-to-dpm ${processed} ${w.dpmId} ${jobId}`,
    ])
      assert.ok(kinds.includes(expected), `missing "${expected}" in ${JSON.stringify(kinds)}`);
    assert.deepEqual(json.dataIds.slice().sort(), [processed, shared].sort());
    assert.equal(json.truncated, false);
    assert.deepEqual(
      csv,
      json.items.map((m: Record<string, unknown>) => asCsvRow(m, MOVEMENT_COLUMNS)),
    );
  });

  it('X3/X4: the transfer trail and the DPM receipt trail (record, versions, activity as one timeline) in JSON, CBOR and CSV', async () => {
    const t = await threeWays(`/audit/transfers/${transferId}/trail`);
    assert.equal(t.json.current.status, 'EXECUTED');
    assert.equal(t.json.history.length, 5);
    assert.deepEqual(
      t.json.activity.map((a: Activity) => a.action),
      ['requested', 'source_approved', 'target_approved', 'consented', 'executed'],
    );
    assert.equal(t.json.timeline.length, t.json.history.length + t.json.activity.length);
    assert.deepEqual(
      t.csv,
      t.json.timeline.map((e: Record<string, unknown>) => asCsvRow(e, TIMELINE_COLUMNS)),
    );

    const j = await threeWays(`/audit/jobs/${jobId}/trail`);
    assert.equal(j.json.receipt.outputSha256, sha256(`output ${jobId}`));
    assert.equal(j.json.receipt.summary, 'gait analysis, "v2", 3 passes');
    assert.deepEqual(
      j.json.activity.map((a: Activity) => a.action),
      ['submitted', 'accepted', 'completed'],
    );
    assert.deepEqual(
      j.csv,
      j.json.timeline.map((e: Record<string, unknown>) => asCsvRow(e, TIMELINE_COLUMNS)),
    );
    const completed = j.csv.find((r) => r.action === 'completed')!;
    assert.equal(JSON.parse(completed.details).outputSha256, sha256(`output ${jobId}`));
  });

  it("A1/A2: a non-auditor is refused with 403 and the chaincode's reason, in every representation", async () => {
    for (const accept of ['application/json', 'application/cbor', 'text/csv']) {
      for (const path of [
        `/audit/history/transfer/${transferId}`,
        `/audit/activity/thing/${w.thingId}`,
        `/audit/periods/2026-01-01/activity`,
      ]) {
        const r = await get(user, path, accept);
        assert.equal(r.status, 403, `${path} ${accept}`);
        assert.match(r.type, /^application\/problem\+(json|cbor)/);
        assert.match(r.body.detail, /needs role auditor, monitor or admin/);
      }
    }
  });

  it('bad query input → 400 problem, never 5xx', async () => {
    for (const path of [
      `/audit/activity/thing/${w.thingId}?pageSize=0`,
      `/audit/activity/thing/${w.thingId}?pageSize=abc`,
      `/audit/activity/thing/${w.thingId}?from=last-week`,
      `/audit/activity/thing/${w.thingId}?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
      `/audit/activity/thing/${w.thingId}?bookmark=garbage`,
      `/audit/activity/thing/${w.thingId}?all=true`,
      `/audit/activity/thing/${w.thingId}?format=pdf`,
      `/audit/activity/thing/${w.thingId}?extra=1`,
      `/audit/periods/yesterday/activity`,
      `/audit/history/spaceship/x`,
      `/audit/history/thing/%01bad`,
    ]) {
      const r = await get(auditor, path);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.match(r.type, /^application\/problem\+json/);
    }
    const unknown = await get(auditor, `/audit/transfers/no-such-${w.run}/trail`);
    assert.equal(unknown.status, 404);
  });
});
