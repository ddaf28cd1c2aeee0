/**
 * Acknowledged readings survive a gateway stop before anchoring (R1, P2): readings accepted (202)
 * while the ledger cannot be reached are journaled; a new gateway on the same state folder anchors
 * them, exactly once, and a further start finds nothing left to do.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Caller } from '../../../gateway/src/auth/principal.js';
import type { Ledger } from '../../../gateway/src/ledger/ledger.js';
import { readingBytes } from 'mvsec-protocol';
import { TelemetryService } from '../../../gateway/src/r1-things/telemetry/service.js';
import { signBytes, signReadingSet } from '../../../gateway/src/r1-things/telemetry/signature.js';
import { rootFromProof } from 'mvsec-protocol';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const caller: Caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator', issuer: 'gateway', amr: ['pwd'] };

function ledger() {
  const anchored: { batchId: string; leafCount: number }[] = [];
  const l = {
    down: true,
    /** Goes down after this many more anchors (undefined: never). */
    downAfter: undefined as number | undefined,
    anchored,
    async evaluate(_c: Caller, fn: string) {
      if (fn === 'thing:GetThing')
        return {
          thingId: 'watch',
          status: 'ACTIVE',
          accessMode: 'AUTONOMOUS',
          publicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        };
      if (fn === 'access:CheckAccess') return { allowed: true, reason: 'owner' };
      throw new Error(`unexpected ${fn}`);
    },
    async submit(_c: Caller, fn: string, args: string[]) {
      if (fn !== 'data:AnchorBatch') throw new Error(`unexpected ${fn}`);
      if (l.downAfter !== undefined && l.downAfter-- <= 0) l.down = true;
      if (l.down) throw new Error('AnchorBatch: Fabric unavailable (14 UNAVAILABLE: connect ECONNREFUSED)');
      const b = JSON.parse(args[0]) as { batchId: string; leafCount: number };
      anchored.push({ batchId: b.batchId, leafCount: b.leafCount });
      return { txId: `tx-${anchored.length}`, result: b };
    },
    async ready() {
      return { ready: true, detail: '' };
    },
    close() {},
  };
  return l;
}

const reading = (seq: number) => {
  const r = { seq, time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), sensor: 'wrist', value: seq };
  return { ...r, signature: signBytes(key.privateKey, readingBytes({ thingId: 'watch', ...r })) };
};

describe('accepted-readings journal (R1, P2)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mvsec-journal-')), 'telemetry');
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('readings acknowledged while the ledger is down are anchored by the next start, exactly once', async () => {
    const l = ledger();
    const opts = { ledger: l as unknown as Ledger, dir, batchMaxReadings: 100, batchMaxWaitMs: 5, cacheTtlMs: 0, verifyThreads: 1 };
    const first = new TelemetryService(opts);
    const ack = await first.ingest(caller, 'watch', [reading(1), reading(2), reading(3)]);
    assert.equal(ack.accepted, 3);
    await first.flush(300); // the ledger stays down: nothing anchored, the readings stay journaled
    first.close();
    assert.equal(l.anchored.length, 0);
    assert.match(readFileSync(join(dir, 'accepted.jsonl'), 'utf8'), /"seq":3/);

    l.down = false;
    const second = new TelemetryService(opts);
    assert.equal(second.seqs.get('watch'), 3);
    await second.flush();
    assert.deepEqual(
      l.anchored.map((b) => b.leafCount),
      [3],
    );
    const p = await second.proof(caller, 'watch', 2);
    assert.equal(p.txId, 'tx-1');
    await new Promise((r) => setTimeout(r, 50));
    second.close();
    assert.equal(readFileSync(join(dir, 'accepted.jsonl'), 'utf8'), '');

    const third = new TelemetryService(opts);
    await third.flush();
    third.close();
    assert.equal(l.anchored.length, 1, 'nothing anchored twice');
  });

  it('the replay marks are durable through the journal alone; seq.json is written before the journal is emptied (C2)', async () => {
    const d = join(mkdtempSync(join(tmpdir(), 'mvsec-marks-')), 'telemetry');
    try {
      const l = ledger();
      const opts = { ledger: l as unknown as Ledger, dir: d, batchMaxReadings: 100, batchMaxWaitMs: 5, cacheTtlMs: 0, verifyThreads: 1 };
      const first = new TelemetryService(opts);
      await first.ingest(caller, 'watch', [reading(10), reading(11)]);
      // acknowledged: the journal holds the readings, no seq.json was written on the way (one fsync per submission)
      assert.equal(existsSync(join(d, 'seq.json')), false);
      first.close(); // stops its anchoring; writes no seq.json either (as if killed)
      const second = new TelemetryService(opts);
      assert.equal(second.seqs.get('watch'), 11, 'the mark came back from the journal');
      await assert.rejects(second.ingest(caller, 'watch', [reading(11)]), (e: Error & { status?: number }) => e.status === 409);
      l.down = false;
      await second.flush();
      for (let i = 0; i < 100 && readFileSync(join(d, 'accepted.jsonl'), 'utf8') !== ''; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(readFileSync(join(d, 'accepted.jsonl'), 'utf8'), '', 'everything settled: the journal is empty');
      assert.deepEqual(JSON.parse(readFileSync(join(d, 'seq.json'), 'utf8')), { watch: 11 }, 'the marks were saved before');
      second.close();
      const third = new TelemetryService(opts);
      await assert.rejects(third.ingest(caller, 'watch', [reading(11)]), (e: Error & { status?: number }) => e.status === 409);
      third.close();
    } finally {
      rmSync(join(d, '..'), { recursive: true, force: true });
    }
  });

  it('a signed set half anchored before a stop: the rest is anchored by the next start, with the set proving every signature (F4, P2)', async () => {
    const d = join(mkdtempSync(join(tmpdir(), 'mvsec-set-journal-')), 'telemetry');
    try {
      const l = ledger();
      l.down = false;
      l.downAfter = 1; // the first batch commits, then the ledger is gone
      const opts = { ledger: l as unknown as Ledger, dir: d, batchMaxReadings: 3, batchMaxWaitMs: 5, cacheTtlMs: 0, verifyThreads: 1 };
      const readings = [20, 21, 22, 23, 24].map((seq) => {
        const { signature: _s, ...r } = reading(seq);
        return r;
      });
      const first = new TelemetryService(opts);
      await first.ingest(caller, 'watch', readings, signReadingSet(key.privateKey, 'watch', readings));
      await first.flush(300);
      first.close();
      assert.deepEqual(
        l.anchored.map((b) => b.leafCount),
        [3],
      );

      l.down = false;
      l.downAfter = undefined;
      const second = new TelemetryService(opts);
      await second.flush();
      assert.deepEqual(
        l.anchored.map((b) => b.leafCount),
        [3, 2],
        'the two readings left, exactly once',
      );
      for (const seq of [20, 24]) {
        const p = await second.proof(caller, 'watch', seq);
        assert.ok(p.set);
        assert.equal(p.set.index, seq - 20);
        assert.equal(rootFromProof(p.leaf, p.set.proof), p.set.merkleRoot, `seq ${seq}: leaf → the signed root`);
      }
      second.close();
    } finally {
      rmSync(join(d, '..'), { recursive: true, force: true });
    }
  });

  it('a stream that never lets the journal empty: it is compacted to the open entries, marks saved first (P2, C2)', async () => {
    const d = join(mkdtempSync(join(tmpdir(), 'mvsec-compact-')), 'telemetry');
    try {
      const l = ledger();
      l.down = false;
      const opts = {
        ledger: l as unknown as Ledger,
        dir: d,
        batchMaxReadings: 2,
        batchMaxWaitMs: 60_000,
        cacheTtlMs: 0,
        verifyThreads: 1,
        journalCompactBytes: 1,
      };
      const first = new TelemetryService(opts);
      await first.ingest(caller, 'watch', [reading(30), reading(31)]); // a full batch: anchored
      await first.ingest(caller, 'watch', [reading(32)]); // waits for its batch: never settles here
      await first.ingest(caller, 'watch', [reading(33), reading(34)]); // [32, 33] anchored; 34 waits
      const lines = () => readFileSync(join(d, 'accepted.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
      for (let i = 0; i < 100 && lines().length !== 1; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(lines().length, 1, 'compacted: only the entry with the reading still open');
      assert.deepEqual(
        (JSON.parse(lines()[0]) as { readings: { seq: number }[] }).readings.map((r) => r.seq),
        [33, 34],
      );
      assert.deepEqual(JSON.parse(readFileSync(join(d, 'seq.json'), 'utf8')), { watch: 34 }, 'marks saved before entries were dropped');
      await first.ingest(caller, 'watch', [reading(35)]); // appended to the compacted journal
      first.close(); // killed before [34, 35] was anchored

      const second = new TelemetryService(opts);
      assert.equal(second.seqs.get('watch'), 35);
      await assert.rejects(second.ingest(caller, 'watch', [reading(30)]), (e: Error & { status?: number }) => e.status === 409);
      await second.flush();
      assert.deepEqual(
        l.anchored.map((b) => b.leafCount),
        [2, 2, 2],
        'the open readings anchored once, nothing twice',
      );
      assert.equal((await second.proof(caller, 'watch', 35)).reading.seq, 35);
      second.close();
    } finally {
      rmSync(join(d, '..'), { recursive: true, force: true });
    }
  });

  it("a listener's unfinished work keeps the readings journaled; the next start tells them again (monitor bounds alerts, M1)", async () => {
    const d = join(mkdtempSync(join(tmpdir(), 'mvsec-listener-')), 'telemetry');
    try {
      const l = ledger();
      l.down = false;
      const opts = { ledger: l as unknown as Ledger, dir: d, batchMaxReadings: 2, batchMaxWaitMs: 5, cacheTtlMs: 0, verifyThreads: 1 };
      const first = new TelemetryService(opts);
      const told: number[] = [];
      first.onAccepted((_t, rs) => {
        told.push(...rs.map((r) => r.seq));
        return new Promise<void>(() => {}); // e.g. the ledger never took the alert before the stop
      });
      await first.ingest(caller, 'watch', [reading(40), reading(41)]);
      await first.flush();
      assert.equal(l.anchored.length, 1, 'anchored');
      assert.deepEqual(told, [40, 41]);
      await new Promise((r) => setTimeout(r, 50));
      assert.match(readFileSync(join(d, 'accepted.jsonl'), 'utf8'), /"seq":41/, 'kept: the listener has not finished');
      first.close();

      const second = new TelemetryService(opts);
      const again: number[] = [];
      let finish = () => {};
      second.onAccepted((_t, rs) => {
        again.push(...rs.map((r) => r.seq));
        return new Promise<void>((resolve) => (finish = resolve));
      });
      assert.deepEqual(again, [40, 41], 'told again at the next start');
      await second.flush();
      assert.equal(l.anchored.length, 1, 'not anchored twice');
      finish();
      for (let i = 0; i < 100 && readFileSync(join(d, 'accepted.jsonl'), 'utf8') !== ''; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(readFileSync(join(d, 'accepted.jsonl'), 'utf8'), '', 'finished: the journal empties');
      second.close();
    } finally {
      rmSync(join(d, '..'), { recursive: true, force: true });
    }
  });
  it('C1: with the storage key, readings are sealed at rest in the journal and the batch file, and still recover and prove after a restart', async () => {
    const d = join(mkdtempSync(join(tmpdir(), 'mvsec-sealed-')), 'telemetry');
    try {
      const l = ledger();
      const sealKey = randomBytes(32);
      const opts = {
        ledger: l as unknown as Ledger,
        dir: d,
        sealKey,
        batchMaxReadings: 2,
        batchMaxWaitMs: 5,
        cacheTtlMs: 0,
        verifyThreads: 1,
      };
      const signed = (seq: number) => {
        const r = { seq, time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), sensor: 'heart-rate-secret', value: seq };
        return { ...r, signature: signBytes(key.privateKey, readingBytes({ thingId: 'watch', ...r })) };
      };
      const first = new TelemetryService(opts);
      assert.equal((await first.ingest(caller, 'watch', [signed(1), signed(2), signed(3)])).accepted, 3);
      await first.flush(300); // ledger down: all three stay in the journal
      first.close();
      const journal = readFileSync(join(d, 'accepted.jsonl'), 'utf8');
      assert.ok(journal.length > 0);
      assert.doesNotMatch(journal, /heart-rate-secret|"seq"/, 'no reading in the clear');
      assert.match(journal, /^s1\./);

      // a start with another storage key reads nothing, says so, and keeps the journal as found
      const logs: string[] = [];
      const wrong = new TelemetryService({ ...opts, sealKey: randomBytes(32), log: (m) => void logs.push(m) });
      wrong.close();
      assert.match(logs.join('\n'), /1 journal lines could not be read .* kept in .*accepted\.jsonl\.unreadable-\d+/);
      const kept = readdirSync(d).filter((f) => f.startsWith('accepted.jsonl.unreadable-'));
      assert.equal(kept.length, 1);
      assert.equal(readFileSync(join(d, kept[0]), 'utf8'), journal);
      rmSync(join(d, kept[0]));
      writeFileSync(join(d, 'accepted.jsonl'), journal); // the operator puts it back under the right key

      l.down = false;
      const second = new TelemetryService(opts);
      assert.equal(second.seqs.get('watch'), 3, 'the replay marks are read back through the seal');
      await second.flush();
      assert.deepEqual(
        l.anchored.map((b) => b.leafCount),
        [2, 1],
      );
      second.close();
      const batches = readFileSync(join(d, 'batches-0.jsonl'), 'utf8');
      assert.equal(batches.trim().split('\n').length, 2);
      assert.doesNotMatch(batches, /heart-rate-secret/, 'anchored batches are sealed too');

      // a fresh process: the proof reads the sealed batch back from disk and verifies
      const third = new TelemetryService(opts);
      const p = await third.proof(caller, 'watch', 3);
      assert.equal(p.reading.sensor, 'heart-rate-secret');
      assert.equal(rootFromProof(p.leaf, p.proof), p.merkleRoot);
      third.close();
      // another key cannot read them: the journal is empty now, and the batches do not open
      const other = new TelemetryService({ ...opts, sealKey: randomBytes(32) });
      await assert.rejects(other.proof(caller, 'watch', 3), /no accepted reading 3 of thing watch/);
      other.close();
    } finally {
      rmSync(join(d, '..'), { recursive: true, force: true });
    }
  });
});
