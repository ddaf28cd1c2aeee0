/**
 * M1/S1 on the real network: the one chaincode event of a transaction (`mvsec.activity`) is
 * delivered with the committed transaction (same tx id, same block number as its commit status),
 * an invalidated transaction delivers none, and the activity log's paged queries walk every
 * record exactly once across several pages with the peer's own bookmarks.
 */
import { StatusCode, type ChaincodeEvent } from '@hyperledger/fabric-gateway';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { topology, utf8 } from './support/network.js';
import {
  actor,
  buildWorld,
  channelHeight,
  evaluate,
  IOT,
  ok,
  statusName,
  submit,
  type Actor,
  type Committed,
  type World,
} from './support/domain.js';

interface Change {
  txId: string;
  seq: number;
  subjectType: string;
  subjectId: string;
  action: string;
  fn: string;
  time: string;
}
interface EventPayload {
  txId: string;
  fn: string;
  time: string;
  actor: { mspId: string; principal: string; role: string };
  changes: Change[];
}
interface Page {
  items: Change[];
  bookmark: string;
}

const recordKey = (c: Change) => `${c.txId}#${c.seq}`;

/** Every page of a paged audit query, following bookmarks until the peer has no more. */
async function allPages(auditor: Actor, fn: string, head: string[], pageSize: number): Promise<Page[]> {
  const pages: Page[] = [];
  let bookmark = '';
  for (let i = 0; i < 1000; i++) {
    const page = await evaluate<Page>(auditor.cc('audit'), fn, [...head, String(pageSize), bookmark]);
    assert.ok(page.items.length <= pageSize, `page of ${page.items.length} > pageSize ${pageSize}`);
    if (page.items.length === 0) break;
    pages.push(page);
    if (!page.bookmark) break;
    assert.notEqual(page.bookmark, bookmark, 'the bookmark must move forward');
    bookmark = page.bookmark;
  }
  return pages;
}

describe('chaincode activity on the real network (M1, S1: events with commits, paged audit queries)', () => {
  let w: World;
  let auditor: Actor;
  const thingTxs: Committed[] = [];
  let pagingThing: string;

  before(async () => {
    w = await buildWorld('m1');
    auditor = await actor(IOT, 'auditor');
  });
  after(() => {
    w?.close();
    auditor?.conn.close();
  });

  it('M1/S1: the mvsec.activity event arrives with the committed transaction; an invalidated transaction emits none', async () => {
    const start = await channelHeight(w.alice.conn);
    const events = await w.alice.conn.gateway
      .getNetwork(topology.channel)
      .getChaincodeEvents(topology.chaincode.name, { startBlock: start });
    const seen: ChaincodeEvent[] = [];
    try {
      const first = await ok(w.alice.cc('thing'), 'SetThingAgents', [w.thingId, JSON.stringify(['agent-1'])]);
      // endorsed by the IoT peer only: 1 of 3 orgs, the chaincode policy fails at commit
      const invalid = await submit(w.alice.cc('thing'), 'SetThingAgents', [w.thingId, JSON.stringify(['agent-2'])], {
        endorsingOrganizations: [IOT],
      });
      assert.equal(invalid.code, StatusCode.ENDORSEMENT_POLICY_FAILURE, `status ${statusName(invalid.code)}`);
      const last = await ok(w.alice.cc('thing'), 'SetThingAgents', [w.thingId, JSON.stringify(['agent-3'])]);

      for await (const e of events) {
        seen.push(e);
        if (e.transactionId === last.tx.txId || e.blockNumber > last.tx.blockNumber) break;
      }
      const of = (txId: string) => seen.filter((e) => e.transactionId === txId);

      const [event] = of(first.tx.txId);
      assert.equal(of(first.tx.txId).length, 1, 'exactly one event per transaction');
      assert.equal(event.eventName, 'mvsec.activity');
      assert.equal(event.chaincodeName, topology.chaincode.name);
      assert.equal(event.blockNumber, first.tx.blockNumber, 'delivered in the block the commit status names');
      const payload = JSON.parse(utf8(event.payload)) as EventPayload;
      assert.equal(payload.txId, first.tx.txId);
      assert.equal(payload.fn, 'thing:SetThingAgents');
      assert.deepEqual(payload.actor, { mspId: IOT, principal: w.alice.principal, role: 'creator' });
      assert.ok(payload.changes.some((c) => c.subjectType === 'thing' && c.subjectId === w.thingId && c.txId === first.tx.txId));

      assert.equal(of(invalid.txId).length, 0, 'an invalidated transaction delivers no chaincode event');
      assert.equal(of(last.tx.txId).length, 1);
      assert.equal(of(last.tx.txId)[0].blockNumber, last.tx.blockNumber);

      // the event carries exactly what the activity log stored for that transaction
      const page = await evaluate<Page>(auditor.cc('audit'), 'QueryActivityBySubject', ['thing', w.thingId, '200', '']);
      const stored = page.items.filter((c) => c.txId === first.tx.txId);
      assert.deepEqual(stored.map(recordKey), payload.changes.filter((c) => c.subjectType === 'thing').map(recordKey));
      assert.equal(page.items.filter((c) => c.txId === invalid.txId).length, 0, 'nothing of the invalidated transaction was stored');
    } finally {
      events.close();
    }
  });

  it('M1: QueryActivityBySubject pages through every record of a subject exactly once (page size 2, several pages)', async () => {
    pagingThing = `pg-${w.run}`;
    const reg = await ok(w.alice.cc('thing'), 'RegisterThing', [
      JSON.stringify({
        thingId: pagingThing,
        platformId: w.iotId,
        kind: 'SENSOR',
        accessMode: 'AUTONOMOUS',
        publicKey: 'pk',
        classification: 'PUBLIC',
      }),
    ]);
    thingTxs.push(reg.tx);
    for (let i = 0; i < 6; i++)
      thingTxs.push((await ok(w.alice.cc('thing'), 'SetThingAgents', [pagingThing, JSON.stringify([`agent-${i}`])])).tx);

    const pages = await allPages(auditor, 'QueryActivityBySubject', ['thing', pagingThing], 2);
    assert.ok(pages.length >= 4, `7 records in pages of 2 need at least 4 pages, got ${pages.length}`);
    const records = pages.flatMap((p) => p.items);
    assert.equal(new Set(records.map(recordKey)).size, records.length, 'no record twice');
    assert.deepEqual(new Set(records.map((r) => r.txId)), new Set(thingTxs.map((t) => t.txId)), 'every committed change, nothing else');
    assert.equal(records.length, thingTxs.length, 'one record per change of the thing');
    assert.ok(records.every((r) => r.subjectType === 'thing' && r.subjectId === pagingThing));
    const times = records.map((r) => r.time);
    assert.deepEqual(times, [...times].sort(), 'records come in time order');
  });

  it('M1: QueryActivityByTime pages through the hour(s) of those changes; each of them appears exactly once', async () => {
    const mine = await allPages(auditor, 'QueryActivityBySubject', ['thing', pagingThing], 200);
    const wanted = new Set(mine.flatMap((p) => p.items).map(recordKey));
    assert.equal(wanted.size, thingTxs.length);
    const hours = [...new Set(mine.flatMap((p) => p.items).map((r) => r.time.slice(0, 13)))];
    const found = new Map<string, number>();
    let pageCount = 0;
    for (const hour of hours) {
      const pages = await allPages(auditor, 'QueryActivityByTime', [hour], 5);
      pageCount += pages.length;
      const records = pages.flatMap((p) => p.items);
      assert.equal(new Set(records.map(recordKey)).size, records.length, `no record twice in ${hour}`);
      for (const r of records) {
        assert.equal(r.time.slice(0, 13), hour);
        if (wanted.has(recordKey(r))) found.set(recordKey(r), (found.get(recordKey(r)) ?? 0) + 1);
      }
    }
    assert.ok(pageCount >= 2, `several pages expected, got ${pageCount}`);
    assert.deepEqual([...found.keys()].sort(), [...wanted].sort(), 'every change of the thing is in the time index');
    assert.ok([...found.values()].every((n) => n === 1));
  });
});
