/**
 * The signature verification pool (issue 5): worker threads give the same verdicts as
 * `verifyReading` (r‖s base64url and base64, DER, tampered, another key, garbage), the same leaves
 * as `leafOf`, keep the readings' order across chunks and workers, and a request with a bad
 * signature among many is refused by the service with the 422 problem naming exactly that reading.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Caller } from '../../../gateway/src/auth/principal.js';
import { ApiError } from '../../../gateway/src/http/problem.js';
import { leafOf, readingBytes, readingText, canonicalJson } from 'mvsec-protocol';
import { TelemetryService } from '../../../gateway/src/r1-things/telemetry/service.js';
import { parsePublicKey, signBytes, signReadingSet, verifyReading } from '../../../gateway/src/r1-things/telemetry/signature.js';
import { merkleRoot } from 'mvsec-protocol';
import { VerifyPool } from '../../../gateway/src/r1-things/telemetry/verify-pool.js';
import { FakeLedger } from '../gateway/support.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = parsePublicKey(publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
const reading = (seq: number, value: unknown = seq) => ({
  thingId: 'watch',
  seq,
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
  sensor: 'wrist',
  value: value as number,
});

describe('telemetry: signature verification pool (issue 5)', () => {
  const pool = new VerifyPool(2, 32);
  after(() => pool.close());

  it('gives the verdicts of verifyReading and the leaves of leafOf', async () => {
    const r = reading(1, { x: 1, é: 'ü' }); // non-ASCII: the worker signs and hashes UTF-8
    const bytes = readingBytes(r);
    const p1363 = signBytes(privateKey, bytes);
    const cases: [string, string, string][] = [
      ['r‖s base64url', readingText(r), p1363],
      ['r‖s base64', readingText(r), Buffer.from(p1363, 'base64url').toString('base64')],
      ['DER', readingText(r), sign('sha256', bytes, privateKey).toString('base64')],
      ['tampered', readingText({ ...r, value: 2 }), p1363],
      ['another key', readingText(r), signBytes(other.privateKey, bytes)],
      ['too short', readingText(r), 'AAAA'],
      ['not base64', readingText(r), '!!not-base64!!'],
      ['72 bytes, not DER', readingText(r), Buffer.alloc(72, 1).toString('base64')],
      ['DER header, garbage inside', readingText(r), Buffer.from([0x30, 6, 2, 1, 0, 2, 1, 0]).toString('base64')],
    ];
    const got = await pool.verify(
      key,
      cases.map((c) => c[1]),
      cases.map((c) => c[2]),
    );
    const expected = await Promise.all(cases.map((c) => verifyReading(key, Buffer.from(c[1], 'utf8'), c[2])));
    assert.deepEqual(expected, [true, true, true, false, false, false, false, false, false]);
    cases.forEach(([name], i) => assert.equal(got.ok[i], expected[i], name));
    cases.forEach(([name, text], i) => assert.equal(got.leaves[i], leafOf(Buffer.from(text, 'utf8')), name));
    assert.equal(readingText(r), canonicalJson(r), 'the reading text is the canonical encoding');
  });

  it('keeps the order across chunks and workers: bad signatures are reported where they are', async () => {
    const n = 301; // 10 chunks of 32 on 2 workers
    const texts: string[] = [];
    const signatures: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = reading(i);
      texts.push(readingText(r));
      signatures.push(signBytes(privateKey, readingBytes(i % 37 === 5 ? { ...r, seq: i + 1 } : r)));
    }
    const got = await pool.verify(key, texts, signatures);
    assert.equal(got.ok.length, n);
    assert.deepEqual(
      got.ok.flatMap((ok, i) => (ok ? [] : [i])),
      Array.from({ length: n }, (_, i) => i).filter((i) => i % 37 === 5),
    );
    assert.equal(got.leaves[300], leafOf(Buffer.from(texts[300], 'utf8')));
  });

  it('verifies a signed set once: the leaves, the root of merkle.ts, and the signature over readingSetText', async () => {
    for (const n of [1, 2, 7, 300]) {
      const rs = Array.from({ length: n }, (_, i) => reading(i, i === 0 ? { ü: 'é' } : i));
      const texts = rs.map((r) => readingText(r));
      const sig = signReadingSet(privateKey, 'watch', rs);
      const v = await pool.verifySet(key, 'watch', texts, sig);
      assert.ok(v.ok, `set of ${n}`);
      assert.deepEqual(
        v.leaves,
        rs.map((r) => leafOf(readingBytes(r))),
      );
      assert.equal(v.root, merkleRoot(v.leaves));
      assert.equal((await pool.verifySet(key, 'other-thing', texts, sig)).ok, false, 'bound to the thing');
      if (n > 1) assert.equal((await pool.verifySet(key, 'watch', texts.slice(1), sig)).ok, false, 'a reading left out');
    }
    const texts = [readingText(reading(1))];
    const single = signBytes(privateKey, readingBytes(reading(1)));
    assert.equal((await pool.verifySet(key, 'watch', texts, single)).ok, false, "a reading's own signature is not a set signature");
    assert.equal(
      (await pool.verifySet(key, 'watch', texts, signReadingSet(other.privateKey, 'watch', [reading(1)]))).ok,
      false,
      'another key',
    );
    assert.equal((await pool.verifySet(key, 'watch', texts, 'not base64!')).ok, false);
  });

  it('replaces a worker that died: its tasks fail, the next verification works', async () => {
    const p = new VerifyPool(1, 16);
    try {
      const text = readingText(reading(3));
      const sig = signBytes(privateKey, Buffer.from(text, 'utf8'));
      assert.deepEqual((await p.verify(key, [text], [sig])).ok, [true]);
      const worker = (p as unknown as { slots: { worker: import('node:worker_threads').Worker }[] }).slots[0].worker;
      const dying = worker.terminate(); // stopped before it can read the next task
      const pending = p.verify(key, [text], [sig]);
      await dying;
      await assert.rejects(pending, /exited/);
      assert.deepEqual((await p.verify(key, [text, text], [sig, 'AAAA'])).ok, [true, false]);
    } finally {
      await p.close();
    }
    await assert.rejects(p.verify(key, ['x'], ['y']), /closed/);
  });
});

describe('telemetry: the service refuses a bad signature among many (pool, chunks)', () => {
  const caller: Caller = { principal: 'alice', mspId: 'IoTPlatformMSP', role: 'creator', issuer: 'gateway', amr: ['pwd'] };
  const ledger = new FakeLedger()
    .on('thing:GetThing', (c) => ({
      thingId: c.args[0],
      status: 'ACTIVE',
      accessMode: 'AUTONOMOUS',
      publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    }))
    .on('access:CheckAccess', () => ({ allowed: true, reason: 'owner' }));
  const svc = new TelemetryService({ ledger, verifyThreads: 2, batchMaxWaitMs: 60_000, log: () => {} });
  after(() => svc.close());
  const signedReading = (seq: number) => {
    const { thingId: _t, ...r } = reading(seq);
    return { ...r, signature: signBytes(privateKey, readingBytes(reading(seq))) };
  };

  it('422 invalid-signature naming only the forged reading; nothing accepted; then the same seqs are accepted', async () => {
    const readings = Array.from({ length: 600 }, (_, i) => signedReading(i));
    const forged = readings.map((r, i) => (i === 457 ? { ...r, value: -1 } : r));
    await assert.rejects(svc.ingest(caller, 'watch', forged), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 422);
      assert.equal(e.kind, 'invalid-signature');
      assert.deepEqual(e.toProblem().errors, [{ path: 'body.readings.457.signature', message: 'seq 457: signature does not verify' }]);
      return true;
    });
    assert.equal(svc.seqs.get('watch'), -1, 'the replay mark did not move');
    const ok = await svc.ingest(caller, 'watch', readings);
    assert.deepEqual(ok, { thingId: 'watch', accepted: 600, firstSeq: 0, lastSeq: 599, signer: 'watch' });
  });
});
