/**
 * The offline verifier on synthetic blocks (a throw-away PKI, fabric-protos) and on a real
 * two-block bundle captured from the network: every check passes on good input and fails, naming
 * the place, on bad input.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { common } from '@hyperledger/fabric-protos';
import type { Bundle } from '../../../audit/src/bundle.js';
import { main } from '../../../audit/src/cli.js';
import { anchorsFrom, describe as describeFailure, verifyBundle, type Failure, type TrustAnchors } from '../../../audit/src/verify.js';
import { activityKey, bundleOf, chain, endorserTx, Pki, type Signer } from './synthetic.js';

const IOT = 'IoTPlatformMSP';
const MVA = 'MetaverseAMSP';
const MVB = 'MetaverseBMSP';
const ORD = 'OrdererMSP';
const has = (fs: Failure[], want: Partial<Failure>) =>
  fs.some((f) => Object.entries(want).every(([k, v]) => (f as unknown as Record<string, unknown>)[k] === v));
const show = (fs: Failure[]) => fs.map(describeFailure).join('\n');

describe('audit verify: synthetic blocks', () => {
  const pki = new Pki();
  let orderer: Signer, alice: Signer, peerIot: Signer, peerMva: Signer, peerMvb: Signer;
  let anchors: TrustAnchors;

  before(() => {
    for (const m of [ORD, IOT, MVA, MVB]) pki.ca(m);
    orderer = pki.leaf(ORD, 'orderer', 'orderer1');
    alice = pki.leaf(IOT, 'client', 'alice');
    peerIot = pki.leaf(IOT, 'peer', 'peer0.iot');
    peerMva = pki.leaf(MVA, 'peer', 'peer0.mva');
    peerMvb = pki.leaf(MVB, 'peer', 'peer0.mvb');
    anchors = anchorsFrom([...pki.cas].map(([mspId, pem]) => ({ mspId, pem })));
  });
  after(() => pki.dispose());

  /** Blocks 10..12; block 10 and 12 hold one subject tx each (endorsed by `endorsers`), block 11 another tx. */
  function world(endorsers?: Signer[], creator?: Signer) {
    const tx = (tag: string, subject = 'watch-1') =>
      endorserTx({
        creator: creator ?? alice,
        endorsers: endorsers ?? [peerIot, peerMva],
        writes: [{ key: activityKey('thing', subject, tag), value: '{}' }],
      });
    const a = tx('a');
    const other = tx('o', 'watch-2');
    const c = tx('c');
    const blocks = chain(10, [[a.envelope], [other.envelope], [c.envelope]], orderer);
    return {
      blocks,
      bundle: bundleOf(
        blocks,
        [
          [10, 0, a.txId],
          [12, 0, c.txId],
        ],
        pki.cas,
        () => false,
      ),
      a,
      c,
    };
  }

  test('S1: a consistent bundle verifies, counting what it checked; the middle block is header only', () => {
    const { bundle } = world();
    const r = verifyBundle(bundle, { anchors });
    assert.equal(r.ok, true, show(r.failures));
    assert.deepEqual(r.counts, { blocks: 3, fullBlocks: 2, links: 2, ordererSignatures: 3, transactions: 2, endorsements: 4, proofs: 0 });
    assert.equal(r.trustAnchors, 'auditor');
    const r2 = verifyBundle(world([peerMva, peerMvb]).bundle, { anchors });
    assert.equal(r2.ok, true, show(r2.failures));
  });

  test('A1: one endorsing org does not satisfy OutOf(2, …): the tx is named', () => {
    const { bundle, a } = world([peerMva]);
    const r = verifyBundle(bundle, { anchors });
    assert.ok(has(r.failures, { check: 'endorsement-policy', block: 10, txIndex: 0, txId: a.txId }), show(r.failures));
  });

  test('A1: an endorsement by a client certificate (OU=client) is not a peer’s', () => {
    const bob = pki.leaf(MVB, 'client', 'bob');
    const { bundle, a } = world([peerIot, bob]);
    const r = verifyBundle(bundle, { anchors });
    assert.ok(has(r.failures, { check: 'endorsement-signature', txId: a.txId, endorsement: 1 }), show(r.failures));
    assert.match(r.failures.find((f) => f.endorsement === 1)!.message, /OU client, not peer/);
    assert.ok(has(r.failures, { check: 'endorsement-policy', txId: a.txId }));
  });

  test('A1: a peer certificate claiming MetaverseBMSP but issued by another CA does not chain', () => {
    const rogue = pki.leaf(MVB, 'peer', 'peer0.mvb', 'RogueCA');
    const { bundle, a } = world([peerIot, rogue]);
    const r = verifyBundle(bundle, { anchors });
    assert.ok(has(r.failures, { check: 'endorsement-signature', txId: a.txId, endorsement: 1 }), show(r.failures));
    assert.match(show(r.failures), /does not chain to the CA of MetaverseBMSP/);
  });

  test('X6: blocks signed by a peer instead of an orderer are refused, per block and signature', () => {
    const tx = endorserTx({
      creator: alice,
      endorsers: [peerIot, peerMva],
      writes: [{ key: activityKey('thing', 'watch-1', 'x'), value: '{}' }],
    });
    const peerAsOrderer = { ...peerIot, mspId: ORD };
    const blocks = chain(5, [[tx.envelope]], pki.leaf(ORD, 'peer', 'not-an-orderer'));
    const r = verifyBundle(bundleOf(blocks, [[5, 0, tx.txId]], pki.cas), { anchors });
    assert.deepEqual(
      r.failures.map((f) => [f.check, f.block, f.signature]),
      [['orderer-signature', 5, 0]],
    );
    assert.match(r.failures[0].message, /OU peer, not orderer/);
    const r2 = verifyBundle(bundleOf(chain(5, [[tx.envelope]], peerAsOrderer), [[5, 0, tx.txId]], pki.cas), { anchors });
    assert.ok(has(r2.failures, { check: 'orderer-signature', block: 5, signature: 0 }), show(r2.failures));
  });

  test('X6: a creator signature by a key that is not the certificate’s fails that tx', () => {
    const impostor = { ...pki.leaf(IOT, 'client', 'mallory'), pem: alice.pem, id: alice.id };
    const { bundle, a } = world(undefined, impostor);
    const r = verifyBundle(bundle, { anchors });
    assert.ok(has(r.failures, { check: 'creator-signature', block: 10, txId: a.txId }), show(r.failures));
  });

  test('S1: with every block in full, a valid transaction of the subject left out of the claims is reported', () => {
    const { bundle, blocks, a, c } = world();
    assert.equal(verifyBundle(bundle, { anchors }).complete, false);
    const full = bundleOf(
      blocks,
      [
        [10, 0, a.txId],
        [12, 0, c.txId],
      ],
      pki.cas,
    );
    const r = verifyBundle(full, { anchors });
    assert.equal(r.ok, true, show(r.failures));
    assert.equal(r.complete, true);
    full.transactions.pop();
    const r2 = verifyBundle(full, { anchors });
    assert.deepEqual(
      r2.failures.map((f) => [f.check, f.block, f.txIndex, f.txId]),
      [['completeness', 12, 0, c.txId]],
    );
  });

  test('X6: a claim naming the wrong tx id for a place is refused', () => {
    const { bundle, c } = world();
    bundle.transactions[0].txId = c.txId;
    const r = verifyBundle(bundle, { anchors });
    assert.ok(has(r.failures, { check: 'tx-id', block: 10, txIndex: 0 }), show(r.failures));
  });

  test('M1: a transaction outside the bundle’s time range is reported', () => {
    const { bundle, a } = world();
    bundle.range = { from: '2025-03-02T00:00:00.000Z' };
    const r = verifyBundle(bundle, { anchors });
    assert.ok(has(r.failures, { check: 'time-range', txId: a.txId }), show(r.failures));
  });

  test('X6: a header-only block whose header was replaced breaks the chain after it', () => {
    const { blocks, a, c } = world();
    const forged = common.Block.deserializeBinary(blocks[1].serializeBinary());
    forged.getHeader()!.setDataHash(Buffer.alloc(32, 7));
    const bundle = bundleOf(
      [blocks[0], forged, blocks[2]],
      [
        [10, 0, a.txId],
        [12, 0, c.txId],
      ],
      pki.cas,
      () => false,
    );
    const r = verifyBundle(bundle, { anchors });
    assert.ok(has(r.failures, { check: 'header-chain', block: 12 }), show(r.failures));
    assert.ok(has(r.failures, { check: 'orderer-signature', block: 11, signature: 0 }), show(r.failures));
  });

  test('S1: without trust anchors verification refuses to run unless the bundle’s copies are accepted explicitly', () => {
    const { bundle } = world();
    assert.throws(() => verifyBundle(bundle), /no trust anchors/);
    const r = verifyBundle(bundle, { trustBundleCas: true });
    assert.equal(r.ok, true, show(r.failures));
    assert.equal(r.trustAnchors, 'bundle');
    assert.match(r.warnings.join(), /internal consistency only/);
  });
});

describe('audit verify: a real two-block bundle and the CLI', () => {
  const file = join(import.meta.dirname, 'fixtures', 'real-bundle.json');
  const real = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
  const realAnchors = () => anchorsFrom(real.cas.flatMap((c) => c.pem.map((pem) => ({ mspId: c.mspId, pem }))));
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mvsec-cli-'));
    for (const c of real.cas) writeFileSync(join(dir, `${c.mspId}.pem`), c.pem.join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cas = () => real.cas.flatMap((c) => ['--ca', `${c.mspId}=${join(dir, `${c.mspId}.pem`)}`]);

  test('S1: real Fabric blocks verify: Raft leader signature, two-org endorsements, flags', () => {
    const r = verifyBundle(real, { anchors: realAnchors() });
    assert.equal(r.ok, true, show(r.failures));
    assert.equal(r.counts.links, 1);
    assert.ok(r.counts.ordererSignatures >= 2);
    assert.ok(r.counts.endorsements >= 4);
  });

  test('X6: a flipped byte in a real block’s data hash is reported for that block', () => {
    const b = JSON.parse(JSON.stringify(real)) as Bundle;
    const block = common.Block.deserializeBinary(Buffer.from(b.blocks[0].block, 'base64'));
    const dh = Buffer.from(block.getHeader()!.getDataHash_asU8());
    dh[5] ^= 0x10;
    block.getHeader()!.setDataHash(dh);
    b.blocks[0].block = Buffer.from(block.serializeBinary()).toString('base64');
    const r = verifyBundle(b, { anchors: realAnchors() });
    const n = b.blocks[0].number;
    assert.ok(has(r.failures, { check: 'data-hash', block: n }), show(r.failures));
    assert.ok(has(r.failures, { check: 'orderer-signature', block: n, signature: 0 }), show(r.failures));
    assert.ok(has(r.failures, { check: 'header-chain', block: n + 1 }), show(r.failures));
  });

  test('CLI: exit 0 when verified, 1 with the places when not, 2 without trust anchors or with a non-bundle', async () => {
    const lines: string[] = [];
    assert.equal(await main(['verify', file, ...cas()], (s) => lines.push(s)), 0);
    assert.match(lines.join('\n'), /VERIFIED/);

    const b = JSON.parse(JSON.stringify(real)) as Bundle;
    b.transactions[0].txIndex = 7;
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(b));
    lines.length = 0;
    assert.equal(await main(['verify', bad, '--json', ...cas()], (s) => lines.push(s)), 1);
    const report = JSON.parse(lines.join('\n')) as { ok: boolean; failures: Failure[] };
    assert.equal(report.ok, false);
    assert.ok(has(report.failures, { check: 'bundle', txIndex: 7, txId: b.transactions[0].txId }));

    assert.equal(await main(['verify', file], () => {}), 2);
    const notBundle = join(dir, 'x.json');
    writeFileSync(notBundle, '{"format":"other"}');
    assert.equal(await main(['verify', notBundle, ...cas()], () => {}), 2);
    assert.equal(await main(['nonsense'], () => {}), 2);
  });

  test('CLI: a bare --ca file is accepted only when the bundle names that certificate', async () => {
    const bare = real.cas.flatMap((c) => ['--ca', join(dir, `${c.mspId}.pem`)]);
    assert.equal(await main(['verify', file, ...bare], () => {}), 0);
    const stranger = new Pki();
    try {
      const other = join(dir, 'other.pem');
      writeFileSync(other, stranger.ca('Stranger'));
      assert.equal(await main(['verify', file, '--ca', other], () => {}), 2);
    } finally {
      stranger.dispose();
    }
  });
});
