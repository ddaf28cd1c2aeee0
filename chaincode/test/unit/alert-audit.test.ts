import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Alert, AlertPage } from '../../src/alert/alert-types';
import type { ActivityPage, HistoryEntry } from '../../src/audit/activity-types';
import type { Thing } from '../../src/thing/thing-types';
import { id, rejects, SHA_A, World } from '../support/fixtures';

describe('alert contract', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.avatars();
  });

  const raise = (overrides: Record<string, unknown> = {}, who = id.monitor) =>
    w.chain.submit<Alert>(w.alert, 'RaiseAlert', who, [
      {
        alertId: 'al-1',
        severity: 'CRITICAL',
        rule: 'unauthorised-metaverse',
        subjectType: 'THING',
        subjectId: 'watch-1',
        description: 'data moving to mv-z',
        suspend: true,
        ...overrides,
      },
    ]);

  it('M2: only a monitor raises and resolves alerts', async () => {
    await rejects(raise({}, id.aAdmin), 'DENIED', 'needs role monitor');
    await raise({ suspend: false, severity: 'WARNING' });
    await rejects(w.chain.submit(w.alert, 'ResolveAlert', id.auditor, ['al-1', { resolution: 'x' }]), 'DENIED', 'needs role monitor');
    const r = await w.chain.submit<Alert>(w.alert, 'ResolveAlert', id.monitor, ['al-1', { resolution: 'false positive' }]);
    assert.equal(r.status, 'RESOLVED');
  });

  it('M2: a critical alert suspends the thing; resolving with resume restores it; other access is denied meanwhile', async () => {
    const a = await raise();
    assert.equal(a.suspended, true);
    const t = await w.chain.evaluate<Thing>(w.thing, 'GetThing', id.bob, ['watch-1']);
    assert.equal(t.status, 'SUSPENDED');
    assert.equal(t.suspendedByAlert, 'al-1');
    await rejects(w.anchor('d-1', SHA_A), 'DENIED', 'SUSPENDED');
    await w.chain.submit(w.alert, 'ResolveAlert', id.monitor, ['al-1', { resolution: 'owner confirmed', resume: true }]);
    assert.equal((await w.chain.evaluate<Thing>(w.thing, 'GetThing', id.bob, ['watch-1'])).status, 'ACTIVE');
  });

  it('M2: a critical alert may suspend an avatar; a non-critical one may not suspend', async () => {
    await rejects(raise({ severity: 'WARNING' }), 'INVALID', 'only a CRITICAL alert');
    await raise({ alertId: 'al-2', subjectType: 'AVATAR', subjectId: 'av-b1' });
    const access = await w.chain.evaluate<{ allowed: boolean; reason: string }>(w.access, 'CheckAccess', id.bAgent, [
      'AVATAR',
      'av-b1',
      'read',
      '*',
    ]);
    assert.equal(access.allowed, false);
    assert.match(access.reason, /avatar av-b1 is SUSPENDED/);
    const open = await w.chain.evaluate<AlertPage>(w.alert, 'ListOpenAlerts', id.auditor, ['10', '']);
    assert.deepEqual(
      open.items.map((x) => x.alertId),
      ['al-2'],
    );
    const bySubject = await w.chain.evaluate<AlertPage>(w.alert, 'ListAlertsBySubject', id.monitor, ['AVATAR', 'av-b1', '10', '']);
    assert.equal(bySubject.items.length, 1);
  });

  it('M2: the alert and the suspension it causes are one transaction with one event', async () => {
    const { txId, stub } = await w.chain.submitTx(w.alert, 'RaiseAlert', id.monitor, [
      { alertId: 'al-3', severity: 'CRITICAL', rule: 'r', subjectType: 'THING', subjectId: 'watch-1', description: '', suspend: true },
    ]);
    assert.equal(stub.eventCount, 1);
    const payload = JSON.parse(Buffer.from(w.chain.eventsOf(txId)[0].payload).toString());
    assert.deepEqual(
      payload.changes.map((c: { subjectType: string; action: string }) => `${c.subjectType}:${c.action}`),
      ['thing:suspended', 'alert:raised'],
    );
  });
});

describe('audit contract', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
  });

  it('M1: every state change is in the activity log by subject, paged with bookmarks', async () => {
    for (let i = 0; i < 5; i++) await w.chain.submit(w.thing, 'SetThingAgents', id.alice, ['watch-1', [`agent-${i}`]]);
    const seen: string[] = [];
    let bookmark = '';
    let pages = 0;
    do {
      const page = await w.chain.evaluate<ActivityPage>(w.audit, 'QueryActivityBySubject', id.auditor, ['thing', 'watch-1', '2', bookmark]);
      seen.push(...page.items.map((r) => r.action));
      bookmark = page.bookmark;
      pages++;
    } while (bookmark);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['registered', 'agents-set', 'agents-set', 'agents-set', 'agents-set', 'agents-set']);
  });

  it("M1: a window of a subject's activity starts at from and ends after to, paged; reversed or bad bounds are refused", async () => {
    for (let i = 0; i < 6; i++) await w.chain.submit(w.thing, 'SetThingAgents', id.alice, ['watch-1', [`agent-${i}`]]);
    const all = await w.chain.evaluate<ActivityPage>(w.audit, 'QueryActivityBySubject', id.auditor, ['thing', 'watch-1', '100', '']);
    assert.equal(all.items.length, 7);
    const times = all.items.map((r) => r.time);
    const window = async (from: string, to: string, size: string) => {
      const out: string[] = [];
      let bookmark = '';
      do {
        const page = await w.chain.evaluate<ActivityPage>(w.audit, 'QueryActivityBySubjectBetween', id.auditor, [
          'thing',
          'watch-1',
          from,
          to,
          size,
          bookmark,
        ]);
        out.push(...page.items.map((r) => r.time));
        bookmark = page.bookmark;
      } while (bookmark);
      return out;
    };
    assert.deepEqual(await window(times[2], times[4], '2'), times.slice(2, 5), 'inclusive bounds, across pages');
    assert.deepEqual(await window(times[5], '', '100'), times.slice(5));
    assert.deepEqual(await window('', times[0], '100'), times.slice(0, 1));
    // an offset the chaincode normalises: the same instant written as +01:00
    const plusOne = new Date(Date.parse(times[3]) + 3_600_000).toISOString().replace('Z', '+01:00');
    assert.deepEqual(await window(plusOne, times[3], '100'), [times[3]]);
    await rejects(
      w.chain.evaluate(w.audit, 'QueryActivityBySubjectBetween', id.auditor, ['thing', 'watch-1', times[4], times[2], '10', '']),
      'INVALID',
      'from is after to',
    );
    await rejects(
      w.chain.evaluate(w.audit, 'QueryActivityBySubjectBetween', id.auditor, ['thing', 'watch-1', 'yesterday', '', '10', '']),
      'INVALID',
    );
    await rejects(w.chain.evaluate(w.audit, 'QueryActivityBySubjectBetween', id.bUser, ['thing', 'watch-1', '', '', '10', '']), 'DENIED');
  });

  it("A2: a bookmark from under another subject's keys is refused: a page cannot start outside its own query", async () => {
    await w.chain.submit(w.thing, 'SetThingAgents', id.alice, ['watch-1', ['agent-1']]);
    const first = await w.chain.evaluate<ActivityPage>(w.audit, 'QueryActivityBySubject', id.auditor, ['thing', 'watch-1', '1', '']);
    assert.ok(first.bookmark, 'there is a second page');
    await rejects(
      w.chain.evaluate(w.audit, 'QueryActivityBySubject', id.auditor, ['platform', 'mv-a', '1', first.bookmark]),
      'INVALID',
      'not one returned by a previous page of this query',
    );
    await rejects(
      w.chain.evaluate(w.audit, 'QueryActivityBySubject', id.auditor, ['thing', 'watch-1', '1', '\u0000activity~subject\u0000']),
      'INVALID',
    );
  });

  it('M1: activity by day and by hour, in time order, with actor and function', async () => {
    const day = await w.chain.evaluate<ActivityPage>(w.audit, 'QueryActivityByTime', id.auditor, ['2025-03-01', '100', '']);
    assert.equal(day.items.length, 8); // 5 platforms + 2 provider identity bindings (rule 8) + 1 thing
    assert.deepEqual(
      day.items.map((r) => r.time),
      [...day.items.map((r) => r.time)].sort(),
    );
    assert.equal(day.items[7].fn, 'thing:RegisterThing');
    assert.equal(day.items[7].actor.principal, 'alice');
    const hour = await w.chain.evaluate<ActivityPage>(w.audit, 'QueryActivityByTime', id.auditor, ['2025-03-01T10', '100', '']);
    assert.equal(hour.items.length, 8);
    const other = await w.chain.evaluate<ActivityPage>(w.audit, 'QueryActivityByTime', id.auditor, ['2025-03-02', '100', '']);
    assert.equal(other.items.length, 0);
    await rejects(w.chain.evaluate(w.audit, 'QueryActivityByTime', id.auditor, ['March', '10', '']), 'INVALID');
  });

  it('S1: history per key lists every committed version, newest first', async () => {
    await w.chain.submit(w.thing, 'SuspendThing', id.alice, ['watch-1', 'x']);
    await w.chain.submit(w.thing, 'ResumeThing', id.iotAdmin, ['watch-1']);
    const h = await w.chain.evaluate<HistoryEntry[]>(w.audit, 'GetHistory', id.auditor, ['thing', 'watch-1']);
    assert.deepEqual(
      h.map((e) => JSON.parse(e.value).status),
      ['ACTIVE', 'SUSPENDED', 'ACTIVE'],
    );
    assert.ok(h[0].time > h[2].time);
  });

  it('A2: only auditors, monitors and admins read the audit trail', async () => {
    await rejects(
      w.chain.evaluate(w.audit, 'QueryActivityBySubject', id.alice, ['thing', 'watch-1', '10', '']),
      'DENIED',
      'needs role auditor, monitor or admin',
    );
    await rejects(w.chain.evaluate(w.audit, 'GetHistory', id.bUser, ['thing', 'watch-1']), 'DENIED');
    await rejects(w.chain.evaluate(w.audit, 'GetHistory', id.auditor, ['secret', 'x']), 'INVALID');
  });
});

describe('bench contract', () => {
  it('PutTrivial: admin only, one key, no activity and no event', async () => {
    const w = new World();
    await rejects(w.chain.submit(w.bench, 'PutTrivial', id.alice, ['k1', 'v']), 'DENIED', 'needs role admin');
    const { stub } = await w.chain.submitTx(w.bench, 'PutTrivial', id.iotAdmin, ['k1', 'v']);
    assert.equal(stub.writes.size, 1);
    assert.equal(stub.eventCount, 0);
    assert.equal(await w.chain.evaluate(w.bench, 'GetTrivial', id.iotAdmin, ['k1']), 'v');
  });
});
