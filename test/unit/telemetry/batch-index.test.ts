/**
 * Batch index (R1 proofs, memory bounded): anchored batches leave memory for batches.jsonl and are
 * found again by seq — after a restart, with interleaved spans of two callers, with the index file
 * lost or behind, and after a torn last line, which is cut so the next append is a line of its own.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BatchIndex } from '../../../gateway/src/telemetry/batch-index.js';
import { makeBatch, type Batch, type StoredReading } from '../../../gateway/src/telemetry/batches.js';
import { leafOf } from '../../../gateway/src/telemetry/canonical.js';

const reading = (seq: number): StoredReading => ({
  seq,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  sensor: 's',
  value: seq,
  signature: 'sig',
  leaf: leafOf(Buffer.from(`r${seq}`)),
});
const anchoredBatch = (id: string, thingId: string, seqs: number[]): Batch => {
  const b = makeBatch(id, thingId, seqs.map(reading));
  b.status = 'ANCHORED';
  b.txId = `tx-${id}`;
  return b;
};

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
    rmSync(join(dir, 'batches.idx.jsonl'));
    appendFileSync(join(dir, 'batches.jsonl'), '{"batchId":"torn","thingId":"t","readings":[{"se'); // a crash mid-append
    const again = new BatchIndex(dir);
    assert.equal(again.find('t', 2)?.batch.batchId, 'c1', 'index rebuilt from the file');
    again.settled(anchoredBatch('c2', 't', [3, 4]));
    assert.equal(again.find('t', 4)?.batch.batchId, 'c2');
    again.close();
    const lines = readFileSync(join(dir, 'batches.jsonl'), 'utf8').trim().split('\n');
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
    const file = join(dir, 'batches.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"d1"', '"x1"'));
    const again = new BatchIndex(dir);
    assert.equal(again.find('t', 1), undefined);
    again.close();
  });
  it('a refused batch lets its readings go and keeps why, for the last refusedKept batches (memory bounded)', () => {
    const idx = new BatchIndex(undefined, undefined, 2);
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
});
