/**
 * The reference DPM computation: aggregate a watch's motion readings per axis — count, mean, min,
 * max and RMS. Readings are JSON (an array of objects, or {readings: [...]}) or CSV with a header
 * row. Every numeric field is an axis (nested objects flatten to `wrist.x`), except time fields
 * (t, ts, time, timestamp, at, seq). Deterministic: same inputs, same bytes out.
 */
const TIME_FIELDS = new Set(['t', 'ts', 'time', 'timestamp', 'at', 'seq']);

export interface AxisStats {
  count: number;
  mean: number;
  min: number;
  max: number;
  rms: number;
}

export interface Aggregate {
  kind: 'motion-aggregate/v1';
  readings: number;
  inputs: { dataId: string; sha256: string; format: 'json' | 'csv'; readings: number }[];
  axes: Record<string, AxisStats>;
}

type Row = Record<string, number>;

function flatten(v: unknown, prefix: string, out: Row): void {
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (!TIME_FIELDS.has(prefix.toLowerCase())) out[prefix] = v;
  } else if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  }
}

export function parseReadings(data: Buffer): { format: 'json' | 'csv'; rows: Row[] } {
  const text = data.toString('utf8').replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  if (first === '[' || first === '{') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new Error(`readings are not valid JSON: ${(e as Error).message}`);
    }
    const list = Array.isArray(v) ? v : (v as { readings?: unknown }).readings;
    if (!Array.isArray(list)) throw new Error('JSON readings must be an array or {readings: [...]}');
    return {
      format: 'json',
      rows: list.map((r) => {
        const row: Row = {};
        flatten(r, '', row);
        return row;
      }),
    };
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new Error('no readings');
  const header = lines[0].split(',').map((h) => h.trim());
  if (header.some((h) => h === '')) throw new Error('the CSV header has an empty column name');
  return {
    format: 'csv',
    rows: lines.slice(1).map((line, i) => {
      const cells = line.split(',');
      if (cells.length !== header.length) throw new Error(`CSV line ${i + 2} has ${cells.length} cells; the header has ${header.length}`);
      const row: Row = {};
      header.forEach((h, j) => {
        const c = cells[j].trim();
        const n = c === '' ? NaN : Number(c);
        if (Number.isFinite(n) && !TIME_FIELDS.has(h.toLowerCase())) row[h] = n;
      });
      return row;
    }),
  };
}

/** Round to 12 significant digits so the output does not carry summation noise. */
const round = (x: number) => Number(x.toPrecision(12));

export function aggregate(inputs: { dataId: string; sha256: string; data: Buffer }[]): Aggregate {
  const acc = new Map<string, { n: number; sum: number; sq: number; min: number; max: number }>();
  const out: Aggregate = { kind: 'motion-aggregate/v1', readings: 0, inputs: [], axes: {} };
  for (const input of inputs) {
    const { format, rows } = parseReadings(input.data);
    out.inputs.push({ dataId: input.dataId, sha256: input.sha256, format, readings: rows.length });
    out.readings += rows.length;
    for (const row of rows)
      for (const [axis, x] of Object.entries(row)) {
        const a = acc.get(axis) ?? { n: 0, sum: 0, sq: 0, min: Infinity, max: -Infinity };
        a.n++;
        a.sum += x;
        a.sq += x * x;
        a.min = Math.min(a.min, x);
        a.max = Math.max(a.max, x);
        acc.set(axis, a);
      }
  }
  for (const axis of [...acc.keys()].sort()) {
    const a = acc.get(axis)!;
    out.axes[axis] = { count: a.n, mean: round(a.sum / a.n), min: a.min, max: a.max, rms: round(Math.sqrt(a.sq / a.n)) };
  }
  return out;
}
