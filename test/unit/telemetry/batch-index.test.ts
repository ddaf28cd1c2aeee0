/**
 * Batch index (R1 proofs, memory bounded): anchored batches leave memory for the batch log on disk
 * and are found again by seq — after a restart, with interleaved spans of two callers, with the
 * index file lost or behind, after a torn last line (cut so the next append is a line of its own),
 * across segments, and from a log written before segments. Retention (X7, thing policy
 * retentionDays): expired batches leave disk and memory, segments are deleted or rewritten, and a
 * pruned reading is told apart from one never seen.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { LineSealer } from '../../../gateway/src/crypto/sealed-line.js';
import { BatchIndex } from '../../../gateway/src/r1-things/telemetry/batch-index.js';
import { makeBatch, type Batch, type StoredReading } from '../../../gateway/src/r1-things/telemetry/batches.js';
import { leafOf } from 'mvsec-protocol';

const reading = (seq: number): StoredReading => ({
  seq,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  sensor: 's',
  value: seq,
  signature: 'sig',
  leaf: leafOf(Buffer.from(`r${seq}`)),
});
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const anchoredBatch = (id: string, thingId: string, seqs: number[], retentionDays = 365, at = T0): Batch => {
  const b = makeBatch(id, thingId, seqs.map(reading));
  b.status = 'ANCHORED';
  b.txId = `tx-${id}`;
  b.anchoredAt = new Date(at).toISOString();
  b.retentionDays = retentionDays;
  return b;
};
const segmentFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^batches-\d+\.jsonl$/.test(f))
    .sort();

describe('telemetry: batch index on disk (R1, memory bounded)', () => {
  const root = mkdtempSync(join(tmpdir(), 'mvsec-batches-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('an anchored batch leaves memory and is found from disk, also by a new index (restart)', () => {
    const dir = join(root, 'a');
    const idx = new BatchIndex(dir);
    const pending = makeBatch('b1', 't', [1, 2, 3].map(reading));
    idx.add(pending);
    assert.equal(idx.find('t', 2)?.batch, pending, 'pending: the object in memory');
    pending.status = 'ANCHORED';
    pending.txId = 'tx-1';
    idx.settled(pending);
    const found = idx.find('t', 2);
    assert.ok(found && found.batch !== pending, 'anchored: read back from the file');
    assert.equal(found.batch.batchId, 'b1');
    assert.equal(found.index, 1);
    assert.equal(found.batch.txId, 'tx-1');
    assert.equal(found.batch.levels, undefined, 'no cached tree on disk');
    assert.equal(idx.find('t', 4), undefined);
    idx.close();
    const again = new BatchIndex(dir);
    assert.equal(again.find('t', 3)?.batch.batchId, 'b1');
    assert.equal(again.find('other', 3), undefined);
    again.close();
  });

  it('two callers of one thing: interleaved, out-of-order spans still find every seq', () => {
    const dir = join(root, 'b');
    const idx = new BatchIndex(dir);
    // caller A's batch holds 1, 2, 9, 10; caller B's 3..8 settled first; then A's later batch 11, 12
    idx.settled(anchoredBatch('B', 't', [3, 4, 5, 6, 7, 8]));
    idx.settled(anchoredBatch('A1', 't', [1, 2, 9, 10]));
    idx.settled(anchoredBatch('A2', 't', [11, 12]));
    for (let seq = 1; seq <= 12; seq++) assert.ok(idx.find('t', seq), `seq ${seq}`);
    assert.equal(idx.find('t', 9)?.batch.batchId, 'A1');
    assert.equal(idx.find('t', 5)?.batch.batchId, 'B');
    assert.equal(idx.find('t', 13), undefined);
    idx.close();
  });

  it('rebuilds a lost index from the batch file, and cuts a torn last line so the next append stands alone', () => {
    const dir = join(root, 'c');
    const idx = new BatchIndex(dir);
    idx.settled(anchoredBatch('c1', 't', [1, 2]));
    idx.close();
    rmSync(join(dir, 'batches-0.idx.jsonl'));
    appendFileSync(join(dir, 'batches-0.jsonl'), '{"batchId":"torn","thingId":"t","readings":[{"se'); // a crash mid-append
    const again = new BatchIndex(dir);
    assert.equal(again.find('t', 2)?.batch.batchId, 'c1', 'index rebuilt from the file');
    again.settled(anchoredBatch('c2', 't', [3, 4]));
    assert.equal(again.find('t', 4)?.batch.batchId, 'c2');
    again.close();
    const lines = readFileSync(join(dir, 'batches-0.jsonl'), 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as Batch).batchId),
      ['c1', 'c2'],
      'the torn bytes are gone',
    );
    const third = new BatchIndex(dir);
    assert.equal(third.find('t', 3)?.batch.batchId, 'c2');
    third.close();
  });

  it('an index span pointing at damaged bytes finds nothing instead of failing', () => {
    const dir = join(root, 'd');
    const idx = new BatchIndex(dir);
    idx.settled(anchoredBatch('d1', 't', [1]));
    idx.close();
    const file = join(dir, 'batches-0.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"d1"', '"x1"'));
    const again = new BatchIndex(dir);
    assert.equal(again.find('t', 1), undefined);
    again.close();
  });
  it('a log written before segments (batches.jsonl, lines without anchoring time) becomes a segment of its own and is still found', () => {
    const dir = join(root, 'legacy');
    const idx = new BatchIndex(dir);
    idx.settled(anchoredBatch('new1', 't', [1, 2], 365, Date.now()));
    idx.close();
    // the old format: lines without anchoredAt/retentionDays, an index of its own
    const old = (id: string, seqs: number[]) => {
      const { levels: _levels, anchoredAt: _at, retentionDays: _days, ...line } = anchoredBatch(id, 'old', seqs);
      return `${JSON.stringify(line)}\n`;
    };
    writeFileSync(join(dir, 'batches.jsonl'), old('o1', [1, 2]) + old('o2', [3]));
    writeFileSync(join(dir, 'batches.idx.jsonl'), '{"thingId":"old","batchId":"o1","first":1,"last":2,"offset":999,"length":5}\n');
    const again = new BatchIndex(dir);
    assert.equal(again.find('old', 2)?.batch.batchId, 'o1', 'indexed again from its lines, the old index dropped');
    assert.equal(again.find('old', 3)?.batch.batchId, 'o2');
    assert.equal(again.find('t', 2)?.batch.batchId, 'new1', 'the existing segment 0 is not overwritten');
    assert.deepEqual(segmentFiles(dir), ['batches-0.jsonl', 'batches-1.jsonl']);
    assert.equal(existsSync(join(dir, 'batches.jsonl')), false);
    assert.equal(existsSync(join(dir, 'batches.idx.jsonl')), false);
    // no retention recorded: the chaincode's default (365 days) from the file's time
    assert.equal(again.prune(Date.now() + 364 * DAY).batches, 0);
    assert.equal(again.prune(Date.now() + 366 * DAY).batches, 3, 'the old batches and new1, all kept 365 days');
    again.close();
  });

  it('rolls to a new segment past segmentBytes; every batch is found across segments and after a restart', () => {
    const dir = join(root, 'seg');
    const idx = new BatchIndex(dir, { segmentBytes: 600 });
    for (let i = 0; i < 10; i++) idx.settled(anchoredBatch(`s${i}`, 't', [2 * i + 1, 2 * i + 2]));
    assert.ok(idx.segments >= 3, `${idx.segments} segments`);
    assert.equal(segmentFiles(dir).length, idx.segments);
    for (let seq = 1; seq <= 20; seq++) assert.equal(idx.find('t', seq)?.batch.batchId, `s${Math.floor((seq - 1) / 2)}`);
    idx.close();
    const again = new BatchIndex(dir, { segmentBytes: 600 });
    for (let seq = 1; seq <= 20; seq++) assert.equal(again.find('t', seq)?.batch.batchId, `s${Math.floor((seq - 1) / 2)}`, `seq ${seq}`);
    again.settled(anchoredBatch('s10', 't', [21]));
    assert.equal(again.find('t', 21)?.batch.batchId, 's10');
    again.close();
  });

  it("retention: expired batches leave disk and memory, mixed segments are rewritten (sealed lines copied), pruned seqs answer 'gone'", () => {
    const dir = join(root, 'retention');
    const lines = new LineSealer(randomBytes(32), 'mvsec telemetry readings');
    const open = () => new BatchIndex(dir, { lines, segmentBytes: 2000 });
    const idx = open();
    // one segment mixes a 1-day thing ('short') and a 30-day thing ('long'); a later one holds 'short' only
    idx.settled(anchoredBatch('a1', 'short', [1, 2], 1));
    idx.settled(anchoredBatch('b1', 'long', [1, 2], 30));
    idx.settled(anchoredBatch('a2', 'short', [3, 4], 1));
    for (let i = 0; i < 6; i++) idx.settled(anchoredBatch(`a${i + 3}`, 'short', [2 * i + 5, 2 * i + 6], 1, T0 + 1000));
    const before = segmentFiles(dir);
    assert.ok(before.length >= 2, `${before.length} segments`);
    assert.equal(idx.prune(T0 + DAY - 1).batches, 0, 'nothing expires before its day is over');

    const r = idx.prune(T0 + DAY + 1000);
    assert.deepEqual(r, { batches: 8, things: 1, more: false });
    for (let seq = 1; seq <= 16; seq++) {
      assert.equal(idx.find('short', seq), undefined, `short ${seq} removed`);
      assert.equal(idx.prunedUpTo('short', seq), true);
    }
    assert.equal(idx.prunedUpTo('short', 17), false, 'a later seq was never seen, not pruned');
    assert.equal(idx.prunedUpTo('long', 1), false);
    assert.equal(idx.find('long', 2)?.batch.batchId, 'b1', 'the kept batch moved and is read through the seal');
    const files = segmentFiles(dir);
    const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    assert.equal(text.trim().split('\n').length, 1, 'one batch line left on disk');
    assert.doesNotMatch(text, /"batchId"/, 'still sealed');
    assert.ok(
      files.every((f) => !before.includes(f) || f === before[before.length - 1]),
      'old segments deleted or rewritten',
    );
    idx.close();

    const again = open();
    assert.equal(again.find('long', 1)?.batch.batchId, 'b1');
    assert.equal(again.find('short', 3), undefined);
    assert.equal(again.prunedUpTo('short', 16), true, 'the pruned marks survive a restart');
    again.settled(anchoredBatch('b2', 'long', [3], 30));
    assert.equal(again.prune(T0 + 31 * DAY).batches, 2, 'the 30-day batches go after 30 days');
    assert.equal(again.find('long', 1), undefined);
    assert.equal(again.find('long', 3), undefined);
    again.close();
  });

  it('one pass copies at most its budget (rewrites block): the rest is left for the next passes, which finish it', () => {
    const dir = join(root, 'budget');
    const idx = new BatchIndex(dir, { segmentBytes: 700 }); // a 2-reading batch line is ~630 bytes: one of each per segment
    // three segments, each mixing an expired batch and a kept one
    for (let i = 0; i < 3; i++) {
      idx.settled(anchoredBatch(`x${i}`, 'short', [2 * i + 1, 2 * i + 2], 1));
      idx.settled(anchoredBatch(`k${i}`, 'long', [i + 1], 30));
    }
    assert.ok(idx.segments >= 3, `${idx.segments} segments`);
    const now = T0 + 2 * DAY;
    const first = idx.prune(now, 1);
    assert.equal(first.more, true);
    assert.equal(first.batches, 1, 'one segment rewritten, then the budget is spent');
    let passes = 1;
    let removed = first.batches;
    for (let r = first; r.more; passes++) {
      r = idx.prune(now, 1);
      removed += r.batches;
    }
    assert.equal(removed, 3);
    assert.ok(passes >= 3, `${passes} passes`);
    for (let seq = 1; seq <= 6; seq++) assert.equal(idx.find('short', seq), undefined);
    for (let seq = 1; seq <= 3; seq++) assert.equal(idx.find('long', seq)?.batch.batchId, `k${seq - 1}`);
    assert.deepEqual(idx.prune(now), { batches: 0, things: 0, more: false });
    idx.close();
  });

  it('a rewrite cut short (a batch in two segments, a temporary file left) loads once and cleans up', () => {
    const dir = join(root, 'cut');
    const idx = new BatchIndex(dir);
    idx.settled(anchoredBatch('c1', 't', [1, 2], 1));
    idx.settled(anchoredBatch('c2', 't', [3], 365));
    idx.close();
    copyFileSync(join(dir, 'batches-0.jsonl'), join(dir, 'batches-1.jsonl')); // renamed into place, index not yet
    writeFileSync(join(dir, 'batches-2.jsonl.tmp'), 'half a rewrite');
    const again = new BatchIndex(dir);
    assert.equal(existsSync(join(dir, 'batches-2.jsonl.tmp')), false);
    assert.equal(again.find('t', 3)?.batch.batchId, 'c2');
    assert.equal(again.prune(T0 + 2 * DAY).batches, 1, 'c1 counted once');
    assert.equal(again.find('t', 1), undefined);
    assert.equal(again.find('t', 3)?.batch.batchId, 'c2');
    again.close();
  });

  it('a refused batch lets its readings go and keeps why, for the last refusedKept batches (memory bounded)', () => {
    const idx = new BatchIndex(undefined, { refusedKept: 2 });
    const refuse = (id: string, seqs: number[]) => {
      const b = makeBatch(id, 't', seqs.map(reading));
      idx.add(b);
      b.status = 'REFUSED';
      b.reason = `DENIED: thing t is SUSPENDED (${id})`;
      idx.settled(b);
      return b;
    };
    const b1 = refuse('r1', [5, 1, 3]);
    const f = idx.find('t', 3);
    assert.ok(f && f.batch !== b1, 'a slim copy, not the batch with its readings');
    assert.equal(f.batch.status, 'REFUSED');
    assert.equal(f.batch.batchId, 'r1');
    assert.equal(f.batch.reason, 'DENIED: thing t is SUSPENDED (r1)');
    assert.deepEqual(f.batch.readings, []);
    assert.equal(f.batch.merkleRoot, b1.merkleRoot);
    assert.equal(idx.find('t', 2), undefined, 'a seq it did not hold');
    refuse('r2', [7]);
    refuse('r3', [9, 8]);
    assert.equal(idx.find('t', 5), undefined, 'the oldest refusal is forgotten beyond the bound');
    assert.equal(idx.find('t', 7)?.batch.batchId, 'r2');
    assert.equal(idx.find('t', 8)?.batch.batchId, 'r3');
  });

  it('refusals are told after a restart too (batches.refused.jsonl, bounded like memory; a torn last line is cut)', () => {
    const dir = join(root, 'refused');
    const open = () => new BatchIndex(dir, { refusedKept: 2 });
    const refuse = (idx: BatchIndex, id: string, seqs: number[]) => {
      const b = makeBatch(id, 't', seqs.map(reading));
      idx.add(b);
      b.status = 'REFUSED';
      b.reason = `DENIED: thing t is SUSPENDED (${id})`;
      idx.settled(b);
    };
    const idx = open();
    refuse(idx, 'r1', [1]);
    refuse(idx, 'r2', [3, 2]);
    idx.close();
    const again = open();
    const f = again.find('t', 2);
    assert.equal(f?.batch.batchId, 'r2');
    assert.equal(f?.batch.status, 'REFUSED');
    assert.equal(f?.batch.reason, 'DENIED: thing t is SUSPENDED (r2)');
    assert.equal(f?.index, 0, 'its place among the sorted seqs');
    assert.equal(again.find('t', 1)?.batch.batchId, 'r1');
    for (let i = 3; i <= 7; i++) refuse(again, `r${i}`, [10 + i]);
    again.close();
    const lines = readFileSync(join(dir, 'batches.refused.jsonl'), 'utf8').trim().split('\n');
    assert.ok(lines.length <= 4, `${lines.length} lines: rewritten at twice refusedKept`);
    appendFileSync(join(dir, 'batches.refused.jsonl'), '{"batchId":"torn","thingId":"t","se'); // a crash mid-append
    const third = open();
    assert.equal(third.find('t', 16)?.batch.batchId, 'r6');
    assert.equal(third.find('t', 17)?.batch.batchId, 'r7');
    assert.equal(third.find('t', 15), undefined, 'beyond the bound');
    refuse(third, 'r8', [18]);
    third.close();
    const fourth = open();
    assert.equal(fourth.find('t', 18)?.batch.batchId, 'r8', 'the append after the torn line stands alone');
    assert.equal(fourth.find('t', 17)?.batch.batchId, 'r7');
    fourth.close();
  });
});
