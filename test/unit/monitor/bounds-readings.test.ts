/** M2: the bounds rule on R1 readings (off-ledger, fed by the telemetry service), on deterministic inputs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alertIdOf, loadRules, parseRules, RuleEngine, type Reading } from '../../../gateway/src/monitor/rules.js';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const rules = (r: unknown[]) => parseRules({ version: 1, rules: r });
const reading = (seq: number, sensor: string, value: unknown): Reading => ({ seq, time: new Date(T0 + seq).toISOString(), sensor, value });
const TEMP = { id: 'temp', type: 'bounds', severity: 'WARNING', metric: 'body-temperature', min: 25, max: 45, quietSeconds: 60 };

describe('bounds on R1 readings', () => {
  it('a bounds rule needs a metric (readings) or a field (ledger records)', () => {
    assert.throws(
      () => rules([{ id: 'b', type: 'bounds', severity: 'INFO', min: 1, max: 2 }]),
      /rules\.0\.metric: a bounds rule needs metric/,
    );
    assert.equal(rules([TEMP]).length, 1);
  });

  it('the shipped rules bound body temperature and heart rate by metric', () => {
    const shipped = loadRules(fileURLToPath(new URL('../../../gateway/monitor-rules.json', import.meta.url)));
    const e = new RuleEngine(shipped);
    assert.deepEqual(e.readingRules.map((r) => r.metric).sort(), ['body-temperature', 'heart-rate']);
    assert.equal(e.onReadings('w', [reading(1, 'body-temperature', 36.6), reading(2, 'heart-rate', 70)], T0).length, 0);
    assert.equal(e.onReadings('w', [reading(3, 'body-temperature', 80)], T0).length, 1);
  });

  it('alerts on a value outside [min, max] with an id bound to the reading; silent inside, for other metrics and non-numbers', () => {
    const e = new RuleEngine(rules([TEMP]));
    assert.equal(e.onReadings('watch', [reading(1, 'body-temperature', 36.6), reading(2, 'body-temperature', 25)], T0).length, 0);
    assert.equal(
      e.onReadings('watch', [reading(3, 'wrist', 99), reading(4, 'body-temperature', '99'), reading(5, 'body-temperature', [99])], T0)
        .length,
      0,
    );
    const [a, ...rest] = e.onReadings('watch', [reading(6, 'body-temperature', 51.5), reading(7, 'body-temperature', 52)], T0);
    assert.equal(rest.length, 0, 'one alert per thing and metric within the quiet period');
    assert.equal(a.alertId, alertIdOf('temp', 'THING', 'watch', 'reading/6'));
    assert.equal(a.subjectType, 'THING');
    assert.equal(a.subjectId, 'watch');
    assert.equal(a.severity, 'WARNING');
    assert.equal(a.suspend, undefined);
    assert.deepEqual(a.evidence, []);
    assert.match(a.description, /body-temperature = 51\.5 in reading seq 6 of thing watch .*allowed 25\.\.45/);
  });

  it('quiet period per thing and metric on the gateway clock; another thing alerts at once', () => {
    const e = new RuleEngine(rules([TEMP]));
    assert.equal(e.onReadings('a', [reading(1, 'body-temperature', 10)], T0).length, 1);
    assert.equal(e.onReadings('a', [reading(2, 'body-temperature', 10)], T0 + 59_000).length, 0);
    assert.equal(e.onReadings('b', [reading(1, 'body-temperature', 10)], T0 + 59_000).length, 1);
    const [again] = e.onReadings('a', [reading(3, 'body-temperature', 10)], T0 + 60_000);
    assert.equal(again.alertId, alertIdOf('temp', 'THING', 'a', 'reading/3'));
  });

  it('field picks a number inside an object or array value; metric * matches any sensor; CRITICAL may suspend', () => {
    const e = new RuleEngine(
      rules([
        { id: 'g', type: 'bounds', severity: 'CRITICAL', metric: '*', field: 'accel.2', min: -16, max: 16, quietSeconds: 0, suspend: true },
      ]),
    );
    assert.equal(e.onReadings('t', [reading(1, 'head', { accel: [0, 1, 9.8] })], T0).length, 0);
    const [a] = e.onReadings('t', [reading(2, 'ankle', { accel: [0, 1, -40] })], T0);
    assert.equal(a.suspend, true);
    assert.match(a.description, /ankle\.accel\.2 = -40/);
  });

  it('a metric rule does not judge ledger records, and a field rule does not judge readings', async () => {
    const e = new RuleEngine(rules([TEMP, { id: 'rec', type: 'bounds', severity: 'INFO', field: 'value', min: 0, max: 1 }]));
    assert.deepEqual(
      e.readingRules.map((r) => r.id),
      ['temp'],
    );
    const ev = {
      txId: 'tx',
      time: new Date(T0).toISOString(),
      fn: 'data:AnchorData',
      actor: { mspId: 'M', principal: 'p', role: 'creator' },
      changes: [
        {
          txId: 'tx',
          seq: 0,
          time: new Date(T0).toISOString(),
          fn: 'data:AnchorData',
          actor: { mspId: 'M', principal: 'p', role: 'creator' },
          subjectType: 'data',
          subjectId: 'd',
          action: 'anchored',
          details: JSON.stringify({ thingId: 'w', value: 99 }),
        },
      ],
    };
    const drafts = await e.onEvent(ev);
    assert.deepEqual(
      drafts.map((d) => d.rule),
      ['rec'],
    );
  });
});
