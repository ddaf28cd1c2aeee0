/** F3/U1: the reference DPM computation — per-axis count, mean, min, max and RMS of a watch's motion readings. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregate, parseReadings } from '../../../dpm-worker/src/aggregate.js';

const input = (dataId: string, text: string) => ({ dataId, sha256: 'f'.repeat(64), data: Buffer.from(text) });

describe('F3/U1 motion aggregate (reference DPM worker)', () => {
  it('F3: JSON and CSV readings aggregate per axis; time fields are not axes; nested sensors flatten', () => {
    const r = aggregate([
      input(
        'd1',
        JSON.stringify([
          { t: 1, wrist: { x: 3, y: -4 } },
          { t: 2, wrist: { x: -3, y: 4 } },
        ]),
      ),
      input('d2', 'timestamp,wrist.x,head.z\n10,1,2\n11,,4\n'),
    ]);
    assert.equal(r.readings, 4);
    assert.deepEqual(
      r.inputs.map((i) => [i.dataId, i.format, i.readings]),
      [
        ['d1', 'json', 2],
        ['d2', 'csv', 2],
      ],
    );
    assert.deepEqual(Object.keys(r.axes), ['head.z', 'wrist.x', 'wrist.y']);
    assert.deepEqual(r.axes['wrist.x'], {
      count: 3,
      mean: Number((1 / 3).toPrecision(12)),
      min: -3,
      max: 3,
      rms: Number(Math.sqrt(19 / 3).toPrecision(12)),
    });
    assert.deepEqual(r.axes['wrist.y'], { count: 2, mean: 0, min: -4, max: 4, rms: 4 });
    assert.deepEqual(r.axes['head.z'], { count: 2, mean: 3, min: 2, max: 4, rms: Number(Math.sqrt(10).toPrecision(12)) });
  });

  it('F3: the output is deterministic (same inputs, same bytes)', () => {
    const a = [input('d', '{"readings":[{"x":0.1},{"x":0.2},{"x":0.3}]}')];
    assert.equal(JSON.stringify(aggregate(a)), JSON.stringify(aggregate(a)));
    assert.equal(aggregate(a).axes.x.mean, 0.2);
  });

  it('F3: unreadable readings are refused with the reason', () => {
    assert.throws(() => parseReadings(Buffer.from('{"readings": 3}')), /array or \{readings/);
    assert.throws(() => parseReadings(Buffer.from('[1,')), /not valid JSON/);
    assert.throws(() => parseReadings(Buffer.from('x,y\n1\n')), /CSV line 2 has 1 cells; the header has 2/);
    assert.throws(() => parseReadings(Buffer.from('')), /no readings/);
  });
});
