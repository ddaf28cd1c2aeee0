/**
 * M1/S1/X6: evidence bundle round trip on the real network. Export a subject's bundle as an
 * auditor, verify it offline against the orgs' CA certificates, then tamper with one byte in a
 * block's data, an orderer signature, an endorsement, a validation flag, a header and a Merkle
 * proof: each must fail and name the place.
 */
import './support/network.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { common } from '@hyperledger/fabric-protos';
import { exportBundle } from '../../audit/src/export.js';
import type { Bundle } from '../../audit/src/bundle.js';
import { blockSignatures, decodeEnvelope, META } from '../../audit/src/fabric.js';
import { anchorsFrom, verifyBundle, type Failure, type TrustAnchors } from '../../audit/src/verify.js';
import { paths } from '../../scripts/lib/paths.js';
import { actor, anchorInput, buildWorld, IOT, ok, type Actor, type World } from './support/domain.js';
import { topology } from './support/network.js';

const run = promisify(execFile);
const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const MVSEC = join(import.meta.dirname, '..', '..', 'audit', 'bin', 'mvsec.js');

/** The auditor's trust anchors: each org's CA certificate, read from the org's MSP folder (not from the bundle). */
function caFiles(): { mspId: string; file: string }[] {
  return topology.orgs.map((o) => ({ mspId: o.mspId, file: join(paths.orgMsp(o.key), 'cacerts', 'ca.pem') }));
}
const trustAnchors = (): TrustAnchors => anchorsFrom(caFiles().map((c) => ({ mspId: c.mspId, pem: readFileSync(c.file, 'utf8') })));

const clone = (b: Bundle): Bundle => JSON.parse(JSON.stringify(b)) as Bundle;
const decodeBlock = (b: Bundle, n: number) =>
  common.Block.deserializeBinary(Buffer.from(b.blocks.find((x) => x.number === n)!.block, 'base64'));
function putBlock(b: Bundle, block: common.Block): void {
  const n = Number(block.getHeader()!.getNumber());
  b.blocks.find((x) => x.number === n)!.block = Buffer.from(block.serializeBinary()).toString('base64');
}
/** Replace envelope `i` of block `n` with `edit(bytes)` (same length, so the protobuf stays well-formed). */
function editEnvelope(b: Bundle, n: number, i: number, edit: (env: Buffer) => void): void {
  const block = decodeBlock(b, n);
  const list = block
    .getData()!
    .getDataList_asU8()
    .map((x) => Buffer.from(x));
  edit(list[i]);
  block.getData()!.setDataList(list);
  putBlock(b, block);
}
const has = (fs: Failure[], want: Partial<Failure>) =>
  fs.some((f) => Object.entries(want).every(([k, v]) => (f as unknown as Record<string, unknown>)[k] === v));

describe('audit: evidence bundle export and offline verification (M1, S1, X6)', () => {
  let w: World;
  let auditor: Actor;
  let bundle: Bundle;
  let dir: string;
  const leaves = ['r0', 'r1', 'r2', 'r3'].map((r) => hex(r));
  let batchId: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mvsec-audit-'));
    w = await buildWorld('audit');
    auditor = await actor(IOT, 'auditor');
    for (let k = 0; k < 3; k++) {
      // data anchors are activity of the data (blocks in between, kept as headers); agent changes are the thing's
      await ok(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, `d${k}-${w.run}`))]);
      if (k < 2) await ok(w.alice.cc('thing'), 'SetThingAgents', [w.thingId, JSON.stringify([`agent-${k}`])]);
    }
    const pair = (a: string, b: string) =>
      createHash('sha256')
        .update(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(b, 'hex')]))
        .digest('hex');
    const root = pair(pair(leaves[0], leaves[1]), pair(leaves[2], leaves[3]));
    batchId = `batch-${w.run}`;
    await ok(w.alice.cc('data'), 'AnchorBatch', [
      JSON.stringify({
        batchId,
        thingId: w.thingId,
        merkleRoot: root,
        leafCount: 4,
        firstReadingAt: '2025-03-01T10:00:00Z',
        lastReadingAt: '2025-03-01T10:05:00Z',
      }),
    ]);
    bundle = await exportBundle({
      gateway: auditor.conn.gateway,
      channel: topology.channel,
      chaincode: topology.chaincode.name,
      subject: { type: 'thing', id: w.thingId },
      proofs: [
        {
          batchId,
          leafSha256: leaves[2],
          proof: [
            { position: 'R', sha256: leaves[3] },
            { position: 'L', sha256: pair(leaves[0], leaves[1]) },
          ],
        },
      ],
    });
  });

  after(() => {
    w?.close();
    auditor?.conn.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('S1: the exported bundle verifies against the CA certificates the auditor holds', () => {
    const report = verifyBundle(bundle, { anchors: trustAnchors() });
    assert.deepEqual(report.failures, []);
    assert.equal(report.ok, true);
    // registration, mapping, the owner's approval of it, two agent changes and the batch are the thing's activity
    const fns = bundle.transactions.flatMap((t) => (t.activity ?? []).map((a) => (a as { fn: string }).fn));
    assert.equal(report.counts.transactions, 6, fns.join(','));
    assert.deepEqual(fns.sort(), [
      'avatar:ApproveMapping',
      'avatar:MapAvatar',
      'data:AnchorBatch',
      'thing:RegisterThing',
      'thing:SetThingAgents',
      'thing:SetThingAgents',
    ]);
    assert.ok(
      bundle.blocks.some((b) => !b.full),
      'blocks between the subject’s blocks are kept as headers',
    );
    assert.equal(report.counts.proofs, 1);
    assert.equal(report.counts.links, bundle.blocks.length - 1);
    assert.ok(report.counts.ordererSignatures >= bundle.blocks.length);
    assert.ok(report.counts.endorsements >= 2 * report.counts.transactions);
    assert.equal(bundle.proofs[0].chaincodeAnswer && (bundle.proofs[0].chaincodeAnswer as { valid: boolean }).valid, true);
    // the bundle's CA copies (from the channel config) are the same certificates the auditor holds
    for (const c of caFiles()) {
      const mine = readFileSync(c.file, 'utf8').replace(/\s+/g, '');
      assert.ok(
        bundle.cas.find((x) => x.mspId === c.mspId)?.pem.some((p) => p.replace(/\s+/g, '') === mine),
        c.mspId,
      );
    }
  });

  test('X6: one byte changed in a block’s data fails the data hash of that block and the creator signature of that tx', () => {
    const t = bundle.transactions.find((x) => x.role === 'activity')!;
    const b = clone(bundle);
    editEnvelope(b, t.blockNumber, t.txIndex, (env) => {
      const at = env.indexOf(Buffer.from(w.thingId));
      assert.ok(at > 0);
      env[at] ^= 0x01;
    });
    const r = verifyBundle(b, { anchors: trustAnchors() });
    assert.equal(r.ok, false);
    assert.ok(has(r.failures, { check: 'data-hash', block: t.blockNumber }), JSON.stringify(r.failures));
    assert.ok(has(r.failures, { check: 'creator-signature', block: t.blockNumber, txId: t.txId }), JSON.stringify(r.failures));
    assert.ok(
      r.failures.every((f) => f.block === t.blockNumber),
      JSON.stringify(r.failures),
    );
  });

  test('X6: one byte changed in an orderer signature fails that signature of that block', () => {
    const n = bundle.blocks[Math.floor(bundle.blocks.length / 2)].number;
    const b = clone(bundle);
    const block = decodeBlock(b, n);
    const list = block
      .getMetadata()!
      .getMetadataList_asU8()
      .map((x) => Buffer.from(x));
    const md = common.Metadata.deserializeBinary(list[META.SIGNATURES]);
    const s = md.getSignaturesList()[0];
    const sig = Buffer.from(s.getSignature_asU8());
    sig[sig.length - 1] ^= 0x01;
    s.setSignature(sig);
    list[META.SIGNATURES] = Buffer.from(md.serializeBinary());
    block.getMetadata()!.setMetadataList(list);
    putBlock(b, block);
    assert.equal(blockSignatures(decodeBlock(b, n)).signatures.length, 1);
    const r = verifyBundle(b, { anchors: trustAnchors() });
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.failures.map((f) => [f.check, f.block, f.signature]),
      [['orderer-signature', n, 0]],
    );
  });

  test('X6: one byte changed in an endorsement signature fails that endorsement of that tx', () => {
    const t = bundle.transactions.find((x) => x.role === 'activity')!;
    const b = clone(bundle);
    const env = decodeBlock(b, t.blockNumber).getData()!.getDataList_asU8()[t.txIndex];
    const e = decodeEnvelope(t.txIndex, env).actions[0].endorsements[1];
    editEnvelope(b, t.blockNumber, t.txIndex, (bytes) => {
      const at = bytes.indexOf(Buffer.from(e.signature));
      assert.ok(at > 0);
      bytes[at + e.signature.length - 1] ^= 0x01;
    });
    const r = verifyBundle(b, { anchors: trustAnchors() });
    assert.equal(r.ok, false);
    assert.ok(has(r.failures, { check: 'endorsement-signature', txId: t.txId, endorsement: 1 }), JSON.stringify(r.failures));
    // the tampered tx is also caught by its block's data hash; nothing outside that block fails
    assert.ok(has(r.failures, { check: 'data-hash', block: t.blockNumber }));
    assert.ok(r.failures.every((f) => f.block === t.blockNumber));
  });

  test('X6: a validation flag changed to invalid (metadata the orderer does not sign) is reported for that tx', () => {
    const t = bundle.transactions.at(-1)!;
    const b = clone(bundle);
    const block = decodeBlock(b, t.blockNumber);
    const list = block
      .getMetadata()!
      .getMetadataList_asU8()
      .map((x) => Buffer.from(x));
    list[META.TRANSACTIONS_FILTER][t.txIndex] = 11; // MVCC_READ_CONFLICT
    block.getMetadata()!.setMetadataList(list);
    putBlock(b, block);
    const r = verifyBundle(b, { anchors: trustAnchors() });
    assert.deepEqual(
      r.failures.map((f) => [f.check, f.block, f.txId]),
      [['validation-flag', t.blockNumber, t.txId]],
    );
    assert.match(r.failures[0].message, /MVCC_READ_CONFLICT/);
  });

  test('X6: a changed previous-hash breaks the chain at that block', () => {
    const n = bundle.blocks[1].number;
    const b = clone(bundle);
    const block = decodeBlock(b, n);
    const prev = Buffer.from(block.getHeader()!.getPreviousHash_asU8());
    prev[0] ^= 0x01;
    block.getHeader()!.setPreviousHash(prev);
    putBlock(b, block);
    const r = verifyBundle(b, { anchors: trustAnchors() });
    assert.ok(has(r.failures, { check: 'header-chain', block: n }), JSON.stringify(r.failures));
    // the orderer signed the original header: its signature no longer matches either
    assert.ok(has(r.failures, { check: 'orderer-signature', block: n, signature: 0 }));
  });

  test('X6: a block left out of the range breaks the chain', () => {
    const b = clone(bundle);
    const gone = b.blocks.splice(1, 1)[0].number;
    b.transactions = b.transactions.filter((t) => t.blockNumber !== gone);
    const r = verifyBundle(b, { anchors: trustAnchors() });
    assert.ok(has(r.failures, { check: 'header-chain', block: gone + 1 }), JSON.stringify(r.failures));
  });

  test('C3: one byte changed in a Merkle proof fails that proof', () => {
    const b = clone(bundle);
    const step = b.proofs[0].proof[0];
    step.sha256 = (step.sha256[0] === '0' ? '1' : '0') + step.sha256.slice(1);
    const r = verifyBundle(b, { anchors: trustAnchors() });
    assert.deepEqual(
      r.failures.map((f) => [f.check, f.proof]),
      [['merkle-proof', 0]],
    );
    assert.match(r.failures[0].message, new RegExp(batchId));
  });

  test('A1: signatures that chain to another org’s CA, or a stricter policy, are refused', () => {
    const anchors = trustAnchors();
    anchors.set('OrdererMSP', anchors.get('MetaverseAMSP')!);
    const r = verifyBundle(bundle, { anchors });
    assert.equal(r.ok, false);
    assert.ok(r.failures.some((f) => f.check === 'orderer-signature' && /does not chain to the CA of OrdererMSP/.test(f.message)));
    const strict = verifyBundle(bundle, {
      anchors: trustAnchors(),
      policy: "AND('IoTPlatformMSP.peer','MetaverseAMSP.peer','MetaverseBMSP.peer')",
    });
    assert.ok(
      strict.failures.length > 0 && strict.failures.every((f) => f.check === 'endorsement-policy'),
      JSON.stringify(strict.failures),
    );
  });

  test('M1: the subject binding refuses a transaction that is not the subject’s', () => {
    const b = clone(bundle);
    b.subject = { type: 'thing', id: `${w.thingId}-other` };
    const r = verifyBundle(b, { anchors: trustAnchors() });
    const activity = bundle.transactions.filter((t) => t.role === 'activity');
    assert.equal(r.failures.filter((f) => f.check === 'subject-binding').length, activity.length);
  });

  test('S1: exported with every block in full, the bundle is complete; a claim left out is found', async () => {
    const full = await exportBundle({
      gateway: auditor.conn.gateway,
      channel: topology.channel,
      chaincode: topology.chaincode.name,
      subject: { type: 'thing', id: w.thingId },
      fullBlocks: true,
    });
    const r = verifyBundle(full, { anchors: trustAnchors() });
    assert.deepEqual(r.failures, []);
    assert.equal(r.complete, true);
    assert.ok(full.blocks.every((b) => b.full));
    const dropped = full.transactions.splice(2, 1)[0];
    const r2 = verifyBundle(full, { anchors: trustAnchors() });
    assert.deepEqual(
      r2.failures.map((f) => [f.check, f.block, f.txId]),
      [['completeness', dropped.blockNumber, dropped.txId]],
    );
  });

  test('the mvsec CLI exports as the auditor, verifies (exit 0), and names the place of a tampered byte (exit 1)', async () => {
    const file = join(dir, 'bundle.json');
    const exp = await run(process.execPath, [
      MVSEC,
      'export',
      '--org',
      'iot',
      '--user',
      auditor.name,
      '--subject-type',
      'THING',
      '--subject-id',
      w.thingId,
      '--out',
      file,
    ]);
    assert.match(exp.stdout, /transactions in blocks/);
    const cas = caFiles().flatMap((c) => ['--ca', `${c.mspId}=${c.file}`]);
    const okRun = await run(process.execPath, [MVSEC, 'verify', file, ...cas]);
    assert.match(okRun.stdout, /VERIFIED/);
    const exported = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
    const t = exported.transactions[0];
    editEnvelope(exported, t.blockNumber, t.txIndex, (env) => {
      env[env.indexOf(Buffer.from(w.thingId))] ^= 0x01;
    });
    writeFileSync(file, JSON.stringify(exported));
    const bad = await run(process.execPath, [MVSEC, 'verify', file, '--json', ...cas]).then(
      () => assert.fail('verify should exit non-zero'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(bad.code, 1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; failures: Failure[] };
    assert.equal(report.ok, false);
    assert.ok(has(report.failures, { check: 'data-hash', block: t.blockNumber }));
    // bare file names map to MSPs by the bundle's list only when the certificate matches
    const bare = await run(process.execPath, [MVSEC, 'verify', file, ...caFiles().flatMap((c) => ['--ca', c.file])]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal((bare as { code?: number }).code, 1);
    assert.match((bare as { stdout: string }).stdout, new RegExp(`block ${t.blockNumber}.*data-hash`));
  });
});
