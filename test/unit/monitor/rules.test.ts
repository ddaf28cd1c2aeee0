/** M2: the monitor's rules on deterministic inputs (no network, no clock). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  alertIdOf,
  hourAllowed,
  loadRules,
  parseRules,
  RuleEngine,
  subjectsOf,
  type ActivityEvent,
  type ActivityRecord,
  type Lookup,
  type Rule,
} from '../../../gateway/src/monitor/rules.js';

const actor = { mspId: 'IoTPlatformMSP', principal: 'alice', role: 'creator' };
const T0 = Date.parse('2025-03-01T10:00:00.000Z');

function change(
  subjectType: string,
  subjectId: string,
  action: string,
  details: Record<string, unknown> = {},
  seq = 0,
): Omit<ActivityRecord, 'txId' | 'time' | 'fn'> {
  return { seq, actor, subjectType, subjectId, action, details: JSON.stringify(details) };
}

function ev(txId: string, atMs: number, fn: string, changes: Omit<ActivityRecord, 'txId' | 'time' | 'fn'>[]): ActivityEvent {
  const time = new Date(atMs).toISOString();
  return { txId, time, fn, actor, changes: changes.map((c) => ({ ...c, txId, time, fn })) };
}

const anchor = (txId: string, atMs: number, thingId = 'watch-1', extra: Record<string, unknown> = {}) =>
  ev(txId, atMs, 'data:AnchorData', [change('data', `d-${txId}`, 'anchored', { thingId, sha256: 'ab', stage: 'STORED', ...extra })]);

const rules = (list: unknown[]): Rule[] => parseRules({ version: 1, rules: list });

const RATE = { id: 'rate-spike', type: 'rate', severity: 'CRITICAL', max: 4, windowSeconds: 10, subjects: ['thing'], suspend: true };

describe('monitor rules file', () => {
  it('accepts every rule type and fills the defaults', () => {
    const r = rules([
      RATE,
      { id: 'night', type: 'hours', severity: 'WARNING', fromHour: 6, toHour: 22 },
      { id: 'policy', type: 'policy', severity: 'CRITICAL', suspend: true },
      { id: 'temp', type: 'bounds', severity: 'WARNING', field: 'temperatureC', min: -40, max: 85 },
      { id: 'denials', type: 'denials', severity: 'WARNING', max: 3, windowSeconds: 60 },
      { id: 'off', type: 'denials', severity: 'INFO', max: 1, windowSeconds: 1, enabled: false },
    ]);
    assert.deepEqual(
      r.map((x) => x.id),
      ['rate-spike', 'night', 'policy', 'temp', 'denials'],
      'disabled rules are dropped',
    );
    const hours = r[1] as Extract<Rule, { type: 'hours' }>;
    assert.deepEqual(hours.functions, []);
    assert.equal((r[3] as Extract<Rule, { type: 'bounds' }>).category, '*');
  });

  it('the shipped gateway/monitor-rules.json is valid and covers every rule type', () => {
    const shipped = loadRules(fileURLToPath(new URL('../../../gateway/monitor-rules.json', import.meta.url)));
    assert.deepEqual([...new Set(shipped.map((r) => r.type))].sort(), ['bounds', 'denials', 'hours', 'policy', 'rate']);
  });

  it('refuses duplicate ids, suspension by a non-critical rule, unknown fields, bad patterns and inverted bounds, naming the field', () => {
    assert.throws(() => rules([RATE, RATE]), /rules\.1\.id: duplicate rule id rate-spike/);
    assert.throws(() => rules([{ ...RATE, severity: 'WARNING' }]), /rules\.0\.suspend: only a CRITICAL rule may suspend/);
    assert.throws(() => rules([{ ...RATE, burst: 3 }]), /rules\.0.*burst|Unrecognized key/i);
    assert.throws(
      () => rules([{ id: 'd', type: 'denials', severity: 'INFO', max: 1, windowSeconds: 5, pathPattern: '(' }]),
      /rules\.0\.pathPattern/,
    );
    assert.throws(() => rules([{ id: 'b', type: 'bounds', severity: 'INFO', field: 'v', min: 5, max: 1 }]), /rules\.0\.min: min > max/);
    assert.throws(() => parseRules({ version: 2, rules: [] }), /version/);
    assert.throws(() => rules([{ ...RATE, id: 'Rate Spike' }]), /rules\.0\.id/);
  });
});

describe('rate spike per subject (transaction time, sliding window)', () => {
  it('alerts on the record that makes it MORE than max within the window, once, with a deterministic id, the evidence and suspension', async () => {
    const e = new RuleEngine(rules([RATE]));
    const out = [];
    for (let i = 1; i <= 6; i++) out.push(await e.onEvent(anchor(`tx${i}`, T0 + i * 1000)));
    assert.deepEqual(
      out.map((a) => a.length),
      [0, 0, 0, 0, 1, 0],
      'the 5th record within 10 s alerts; the 6th is inside the quiet period',
    );
    const a = out[4][0];
    assert.equal(a.alertId, alertIdOf('rate-spike', 'THING', 'watch-1', 'tx1'));
    assert.match(a.alertId, /^rate-spike-[0-9a-f]{32}$/);
    assert.deepEqual(
      { severity: a.severity, rule: a.rule, subjectType: a.subjectType, subjectId: a.subjectId, suspend: a.suspend },
      { severity: 'CRITICAL', rule: 'rate-spike', subjectType: 'THING', subjectId: 'watch-1', suspend: true },
    );
    assert.deepEqual(a.evidence, ['tx1', 'tx2', 'tx3', 'tx4', 'tx5']);
  });

  it('measures the window on the events’ transaction times, not on arrival: a slow trickle never alerts', async () => {
    const e = new RuleEngine(rules([RATE]));
    let alerts = 0;
    for (let i = 0; i < 30; i++) alerts += (await e.onEvent(anchor(`tx${i}`, T0 + i * 2600))).length;
    assert.equal(alerts, 0, 'at most 4 records fall in any 10 s window when they are 2.6 s apart');
  });

  it('a second burst after the quiet period raises a new alert with another id; other things are counted apart', async () => {
    const e = new RuleEngine(rules([RATE]));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) for (const a of await e.onEvent(anchor(`a${i}`, T0 + i * 100))) ids.push(a.alertId);
    for (let i = 0; i < 4; i++) assert.equal((await e.onEvent(anchor(`o${i}`, T0 + i * 100, 'other'))).length, 0);
    for (let i = 0; i < 5; i++) for (const a of await e.onEvent(anchor(`b${i}`, T0 + 60_000 + i * 100))) ids.push(a.alertId);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
    assert.equal(ids[1], alertIdOf('rate-spike', 'THING', 'watch-1', 'b0'));
  });

  it('the state survives JSON (persisted with the checkpoint): a restarted engine continues the same window and id', async () => {
    const one = new RuleEngine(rules([RATE]));
    for (let i = 1; i <= 3; i++) await one.onEvent(anchor(`tx${i}`, T0 + i * 1000));
    const two = new RuleEngine(rules([RATE]), JSON.parse(JSON.stringify(one.state)));
    assert.equal((await two.onEvent(anchor('tx4', T0 + 4000))).length, 0);
    const [a] = await two.onEvent(anchor('tx5', T0 + 5000));
    assert.equal(a.alertId, alertIdOf('rate-spike', 'THING', 'watch-1', 'tx1'));
  });

  it('counts thing and avatar records, and data/batch records for their thing; not other subjects', () => {
    assert.deepEqual(subjectsOf({ ...change('thing', 't1', 'policy-set'), txId: 'x', time: '', fn: '' }), [{ type: 'thing', id: 't1' }]);
    assert.deepEqual(subjectsOf({ ...change('batch', 'b1', 'anchored', { thingId: 't1' }), txId: 'x', time: '', fn: '' }), [
      { type: 'thing', id: 't1' },
    ]);
    assert.deepEqual(subjectsOf({ ...change('data', 'd1', 'anchored', { thingId: 't1', avatarId: 'av1' }), txId: 'x', time: '', fn: '' }), [
      { type: 'thing', id: 't1' },
      { type: 'avatar', id: 'av1' },
    ]);
    assert.deepEqual(subjectsOf({ ...change('grant', 'g1', 'created', { thingId: 't1' }), txId: 'x', time: '', fn: '' }), []);
  });
});

describe('activity at unusual hours (UTC, transaction time)', () => {
  it('knows plain and midnight-wrapping windows', () => {
    assert.equal(hourAllowed(5, 6, 22), false);
    assert.equal(hourAllowed(6, 6, 22), true);
    assert.equal(hourAllowed(22, 6, 22), false);
    assert.equal(hourAllowed(23, 22, 6), true);
    assert.equal(hourAllowed(3, 22, 6), true);
    assert.equal(hourAllowed(12, 22, 6), false);
    assert.equal(hourAllowed(12, 0, 24), true);
  });

  it('alerts per transaction outside the window, on the first thing it touched, only for the listed functions', async () => {
    const e = new RuleEngine(
      rules([{ id: 'night', type: 'hours', severity: 'WARNING', fromHour: 6, toHour: 22, functions: ['data:AnchorData'] }]),
    );
    const at3 = Date.parse('2025-03-01T03:15:00Z');
    assert.equal((await e.onEvent(anchor('day', T0))).length, 0);
    const [a] = await e.onEvent(anchor('night', at3));
    assert.equal(a.subjectType, 'THING');
    assert.equal(a.subjectId, 'watch-1');
    assert.equal(a.alertId, alertIdOf('night', 'THING', 'watch-1', 'night'));
    assert.match(a.description, /2025-03-01T03:15:00.000Z/);
    assert.equal((await e.onEvent(ev('grant', at3, 'access:CreateGrant', [change('grant', 'g1', 'created')]))).length, 0);
  });
});

describe('readings outside physical bounds', () => {
  it('alerts when a numeric field in the details is outside [min, max]; silent when inside or absent', async () => {
    const e = new RuleEngine(
      rules([{ id: 'temp', type: 'bounds', severity: 'CRITICAL', category: 'body-temp', field: 'value', min: 30, max: 45, suspend: true }]),
    );
    assert.equal((await e.onEvent(anchor('ok', T0, 'w', { category: 'body-temp', value: 36.6 }))).length, 0);
    assert.equal((await e.onEvent(anchor('none', T0, 'w', { category: 'body-temp' }))).length, 0);
    assert.equal((await e.onEvent(anchor('other', T0, 'w', { category: 'motion', value: 99 }))).length, 0);
    const [a] = await e.onEvent(anchor('hot', T0, 'w', { category: 'body-temp', value: 61 }));
    assert.equal(a.subjectId, 'w');
    assert.equal(a.suspend, true);
    assert.match(a.description, /value = 61/);
  });
});

describe('movement toward a metaverse or DPM provider the policy does not allow', () => {
  const lookup: Lookup = {
    thing: async (id) =>
      id === 'watch-1' ? { thingId: id, policy: { allowedMetaverses: ['mv-a'], allowedDpmProviders: ['dpm-1'] } } : undefined,
    thingOfData: async (d) => (d.startsWith('d-') ? 'watch-1' : undefined),
  };
  const POLICY = { id: 'policy', type: 'policy', severity: 'CRITICAL', suspend: true };

  it('alerts on a share, a transfer request, a mapping or a DPM job toward a target outside the policy', async () => {
    const e = new RuleEngine(rules([POLICY]));
    const shared = await e.onEvent(
      ev('t1', T0, 'transfer:ExecuteTransfer', [
        change('transfer', 'tr', 'executed'),
        change('data', 'd-1', 'shared', { to: 'mv-x', transferId: 'tr' }, 1),
      ]),
      lookup,
    );
    assert.equal(shared.length, 1);
    assert.equal(shared[0].alertId, alertIdOf('policy', 'THING', 'watch-1', 't1/1'));
    assert.match(shared[0].description, /toward metaverse mv-x.*allowed: mv-a/);
    assert.equal(shared[0].suspend, true);
    const dpm = await e.onEvent(
      ev('t2', T0, 'dpm:SubmitJob', [change('data', 'd-1', 'sent-to-dpm', { jobId: 'j', providerId: 'dpm-evil' })]),
      lookup,
    );
    assert.match(dpm[0].description, /DPM provider dpm-evil/);
    const mapped = await e.onEvent(
      ev('t3', T0, 'avatar:MapAvatar', [change('avatar', 'av', 'mapped', { thingId: 'watch-1', metaverseId: 'mv-z', mode: 'ACTIVE' })]),
      lookup,
    );
    assert.equal(mapped.length, 1);
  });

  it('is silent for allowed targets and for data it cannot place', async () => {
    const e = new RuleEngine(rules([POLICY]));
    assert.equal((await e.onEvent(ev('t1', T0, 'x', [change('data', 'd-1', 'transfer-requested', { to: 'mv-a' })]), lookup)).length, 0);
    assert.equal((await e.onEvent(ev('t2', T0, 'x', [change('data', 'd-1', 'sent-to-dpm', { providerId: 'dpm-1' })]), lookup)).length, 0);
    assert.equal((await e.onEvent(ev('t3', T0, 'x', [change('data', 'unknown', 'shared', { to: 'mv-x' })]), lookup)).length, 0);
  });
});

describe('repeated denials per principal (reported by the gateway)', () => {
  it('alerts when MORE than max refusals fall within the window, once per window, on the principal', () => {
    const e = new RuleEngine(rules([{ id: 'denials', type: 'denials', severity: 'WARNING', max: 2, windowSeconds: 60 }]));
    const got = [0, 1000, 2000, 3000].map((dt) => e.onDenial('mallory@MetaverseAMSP', 'DENIED: no', T0 + dt, '/r1/things/x'));
    assert.deepEqual(
      got.map((g) => g.length),
      [0, 0, 1, 0],
    );
    const a = got[2][0];
    assert.equal(a.subjectType, 'PRINCIPAL');
    assert.equal(a.subjectId, 'mallory@MetaverseAMSP');
    assert.equal(a.alertId, alertIdOf('denials', 'PRINCIPAL', 'mallory@MetaverseAMSP', `${T0}:/r1/things/x`));
    assert.equal(e.onDenial('bob@MetaverseAMSP', 'DENIED: no', T0 + 2000, '/x').length, 0, 'counted per principal');
    assert.equal(e.onDenial('mallory@MetaverseAMSP', 'DENIED', T0 + 200_000, '/a').length, 0, 'the window slid past the old refusals');
  });

  it('a path-scoped rule with max 0 alerts on the first refused cross-metaverse attempt only', () => {
    const e = new RuleEngine(
      rules([{ id: 'denied-movement', type: 'denials', severity: 'WARNING', max: 0, windowSeconds: 60, pathPattern: '^/(r3|r6)/' }]),
    );
    assert.equal(e.onDenial('m@A', 'DENIED: x', T0, '/r1/things/t').length, 0);
    const [a] = e.onDenial('m@A', 'DENIED: no share access', T0 + 1, '/r3/transfers');
    assert.equal(a.rule, 'denied-movement');
    assert.match(a.description, /on \/r3\/transfers: DENIED: no share access/);
  });
});
