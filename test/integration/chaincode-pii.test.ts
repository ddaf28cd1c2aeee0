/**
 * X7/F2 on the real network: PII passed as transient data (StorePII, endorsed by the holding org's
 * peer only; trust rule 7) lands only in the holding org's private data collection. Every block
 * committed since the test started is fetched as raw bytes and scanned for the PII, its salt and
 * the thing's key material; the same scan finds the keyed fingerprint (so it does look at the right blocks),
 * and the holding org's private-data delivery does carry the PII (so the scan can find it when it
 * is there). Only a member of the collection, on a member peer, reads it back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectAs, org, topology } from './support/network.js';
import {
  actor,
  blockBytes,
  buildWorld,
  channelHeight,
  contains,
  evaluate,
  IOT,
  MVA,
  MVB,
  piiHmac,
  piiSecrets,
  refused,
  storeAndAnchorPii,
  type Actor,
  type World,
} from './support/domain.js';

interface Anchor {
  dataId: string;
  piiHash?: string;
  piiCollection?: string;
}

describe('chaincode PII on the real network (X7, F2: private data collections, transient input)', () => {
  let w: World;
  let mvbAuditor: Actor;
  let startHeight: bigint;
  let dataId: string;
  let pii: ReturnType<typeof piiSecrets>;
  let committedAt: bigint;
  let storedAt: bigint;

  before(async () => {
    w = await buildWorld('x7');
    mvbAuditor = await actor(MVB, 'auditor');
    startHeight = await channelHeight(w.alice.conn);
    dataId = `d-${w.run}`;
    pii = piiSecrets(`PII-${randomUUID()} Jane Roe, born 1990-01-02, +44 20 7946 0000`);
    const { anchor, stored } = await storeAndAnchorPii(w.alice, w, dataId, pii);
    storedAt = stored.blockNumber;
    committedAt = anchor.tx.blockNumber;
  });
  after(() => {
    w?.close();
    mvbAuditor?.conn.close();
  });

  it('X7/F2: the shared ledger keeps only the keyed PII fingerprint and the collection name', async () => {
    const anchor = await evaluate<Anchor>(mvbAuditor.cc('data'), 'GetData', [dataId]);
    assert.equal(anchor.piiCollection, `pii_${IOT}`);
    assert.equal(anchor.piiHash, piiHmac(pii.key!, pii.salt, pii.details));
    assert.ok(!JSON.stringify(anchor).includes(pii.details));
  });

  it('X7/F2: the PII never appears in the raw bytes of any block committed since, on any peer', async () => {
    for (const via of [w.alice.conn, w.mvaAdmin.conn, mvbAuditor.conn]) {
      const blocks = await blockBytes(via, startHeight, committedAt);
      assert.equal(blocks.size, Number(committedAt - startHeight + 1n), 'every block from the start height to the last transaction');
      for (const [n, bytes] of blocks) {
        for (const secret of [pii.details, pii.salt, pii.key!]) {
          assert.equal(contains(bytes, secret), false, `block ${n} contains PII, its salt or the thing's key`);
        }
      }
      // positive control: the anchoring block does carry the keyed fingerprint and the data id
      const anchorBlock = blocks.get(committedAt)!;
      assert.ok(contains(anchorBlock, piiHmac(pii.key!, pii.salt, pii.details)), `block ${committedAt} should carry the PII hash`);
      assert.ok(contains(anchorBlock, dataId));
    }
  });

  it("X7: the holding org's private-data delivery carries the PII (the scan would find it), a non-member's does not", async () => {
    const pvtOf = async (conn: typeof w.alice.conn) => {
      const events = await conn.gateway.getNetwork(topology.channel).getBlockAndPrivateDataEvents({ startBlock: storedAt });
      try {
        for await (const b of events) return b.serializeBinary();
      } finally {
        events.close();
      }
      throw new Error('no block delivered');
    };
    const iotAdminBlock = await pvtOf(w.iotAdmin.conn);
    assert.ok(contains(iotAdminBlock, pii.details), "the holding org's peer delivers the private write set");
    const mvaAdminBlock = await pvtOf(w.mvaAdmin.conn);
    assert.equal(contains(mvaAdminBlock, pii.details), false, 'a non-member peer has no private write set to deliver');
  });

  it('X7/A1: GetPII works for the holding org on its own peer; another org is refused; a non-member peer does not hold it', async () => {
    const record = await evaluate<{ details: string; salt: string; collection: string }>(w.alice.cc('data'), 'GetPII', [dataId]);
    assert.equal(record.details, pii.details);
    assert.equal(record.salt, pii.salt);
    assert.equal(record.collection, `pii_${IOT}`);

    const other = await refused(() => evaluate(w.mvaAdmin.cc('data'), 'GetPII', [dataId]));
    assert.match(other, new RegExp(`DENIED: PII of ${dataId} is held in pii_${IOT}; ${MVA} is not a member`));
    const auditor = await refused(() => evaluate(mvbAuditor.cc('data'), 'GetPII', [dataId]));
    assert.match(auditor, /DENIED: /);

    // the owner asking through MetaverseA's peer: authorised, but that peer never received the PII
    const viaMva = connectAs(org(IOT), w.alice.name, { org: org(MVA) });
    try {
      const elsewhere = await refused(() =>
        evaluate(viaMva.gateway.getNetwork(topology.channel).getContract(topology.chaincode.name, 'data'), 'GetPII', [dataId]),
      );
      assert.match(elsewhere, new RegExp(`NOT_FOUND: PII of ${dataId} is not on this peer`));
    } finally {
      viaMva.close();
    }
  });
});
