/**
 * Trust rule 7 (PII) on the real network, tried by a hostile member with a raw
 * @hyperledger/fabric-gateway client:
 * (a) explicit endorsers including a non-member organisation are refused by the non-member's
 *     peer (DENIED, before it reads the PII): nothing commits, the ledger is unchanged;
 * (b) an all-zero or low-entropy salt or key is refused INVALID and nothing is written;
 * (c) the public piiHash of a short PII value is not sha256(salt:details) — guessing the old way
 *     finds nothing, even knowing the salt — but HMAC-SHA256 under the thing's secret in the
 *     collection, which a member confirms (GetPII, VerifyPII);
 * (d) the positive path: a member stores and anchors PII, reads it back, deletion purges it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actor,
  anchorInput,
  buildWorld,
  channelHeight,
  evaluate,
  IOT,
  MVA,
  MVB,
  ok,
  piiHmac,
  piiSecrets,
  refused,
  sha256,
  storeAndAnchorPii,
  submit,
  type Actor,
  type PiiStaged,
  type World,
} from './support/domain.js';

const SHORT_PII = '1987';

describe('trust rule 7: PII on the real network (member peers only, keyed fingerprint, entropy)', () => {
  let w: World;
  let mvbAuditor: Actor;
  let n = 0;
  const nextId = () => `pii-${w.run}-${++n}`;
  const storeArgs = (dataId: string) => [JSON.stringify({ dataId, thingId: w.thingId })];

  before(async () => {
    w = await buildWorld('r7');
    mvbAuditor = await actor(MVB, 'auditor');
  });
  after(() => {
    w?.close();
    mvbAuditor?.conn.close();
  });

  it("(a) StorePII endorsed by [IoT, MetaverseA]: MetaverseA's peer refuses DENIED; nothing commits", async () => {
    const dataId = nextId();
    const pii = piiSecrets(SHORT_PII);
    const height = await channelHeight(w.alice.conn);
    const why = await refused(() =>
      submit(w.alice.cc('data'), 'StorePII', storeArgs(dataId), { transient: pii.transient, endorsingOrganizations: [IOT, MVA] }),
    );
    assert.match(why, new RegExp(`DENIED: PII of pii_${IOT} may be endorsed only by ${IOT} peers; this peer is ${MVA}'s`));
    assert.equal(await channelHeight(w.alice.conn), height, 'no transaction was ordered');
    // nothing was stored: the same data id is stored afresh (and the thing's secret is created now)
    const { value } = await ok<PiiStaged>(w.alice.cc('data'), 'StorePII', storeArgs(dataId), {
      transient: pii.transient,
      endorsingOrganizations: [IOT],
    });
    assert.equal(value.keyCreated, true);
  });

  it('(a) the old door, AnchorData with transient PII and [IoT, MetaverseA]: refused, the anchor does not exist', async () => {
    const dataId = nextId();
    const pii = piiSecrets(SHORT_PII);
    const why = await refused(() =>
      submit(w.alice.cc('data'), 'AnchorData', [JSON.stringify(anchorInput(w, dataId))], {
        transient: pii.transient,
        endorsingOrganizations: [IOT, MVA],
      }),
    );
    assert.match(why, new RegExp(`${MVA}: .*DENIED: PII of pii_${IOT} may be endorsed only by ${IOT} peers; this peer is ${MVA}'s`));
    const missing = await refused(() => evaluate(mvbAuditor.cc('data'), 'GetData', [dataId]));
    assert.match(missing, /NOT_FOUND/);
  });

  it("(a) a MetaverseA member cannot have its PII endorsed by IoT's peer either", async () => {
    const why = await refused(() =>
      submit(w.mvaAdmin.cc('data'), 'StorePII', storeArgs(nextId()), {
        transient: piiSecrets(SHORT_PII).transient,
        endorsingOrganizations: [IOT],
      }),
    );
    assert.match(why, new RegExp(`DENIED: PII of pii_${MVA} may be endorsed only by ${MVA} peers; this peer is ${IOT}'s`));
  });

  it('(b) an all-zero or low-entropy salt or key is refused INVALID; nothing is written', async () => {
    const weak = ['00'.repeat(32), '01'.repeat(48), Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex')];
    const fresh = await buildWorld('r7b'); // a thing without a PII secret yet
    try {
      const dataId = `pii-${fresh.run}-b`;
      for (const bad of weak) {
        for (const secrets of [{ salt: bad }, { key: bad }]) {
          const why = await refused(() =>
            submit(fresh.alice.cc('data'), 'StorePII', [JSON.stringify({ dataId, thingId: fresh.thingId })], {
              transient: piiSecrets(SHORT_PII, secrets).transient,
              endorsingOrganizations: [IOT],
            }),
          );
          assert.match(why, /INVALID: transient pii\.(salt|key) is not random enough/);
        }
      }
      // nothing was written: neither the PII nor the thing's secret (the next good call creates it)
      const { value } = await ok<PiiStaged>(fresh.alice.cc('data'), 'StorePII', [JSON.stringify({ dataId, thingId: fresh.thingId })], {
        transient: piiSecrets(SHORT_PII).transient,
        endorsingOrganizations: [IOT],
      });
      assert.equal(value.keyCreated, true);
    } finally {
      fresh.close();
    }
  });

  it("(c) the public piiHash of a short value is not sha256(salt:details): guesses fail; it is HMAC under the collection's secret", async () => {
    const fresh = await buildWorld('r7c');
    try {
      const dataId = `pii-${fresh.run}-c`;
      const pii = piiSecrets(SHORT_PII);
      await storeAndAnchorPii(fresh.alice, fresh, dataId, pii);
      const anchor = await evaluate<{ piiHash: string; piiCollection: string }>(mvbAuditor.cc('data'), 'GetData', [dataId]);
      assert.equal(anchor.piiCollection, `pii_${IOT}`);
      // a hostile member guessing the old way, even given the salt, finds nothing
      const hits = [];
      for (let y = 1900; y <= 2030; y++) if (sha256(`${pii.salt}:${y}`) === anchor.piiHash) hits.push(y);
      assert.deepEqual(hits, []);
      assert.notEqual(anchor.piiHash, sha256(`${pii.salt}:${pii.details}`));
      // a member reads the record back; the fingerprint is the HMAC under the thing's secret
      const record = await evaluate<{ salt: string; details: string }>(fresh.alice.cc('data'), 'GetPII', [dataId]);
      assert.equal(record.details, SHORT_PII);
      assert.equal(anchor.piiHash, piiHmac(pii.key!, record.salt, record.details));
      const yes = await evaluate<{ valid: boolean }>(fresh.alice.cc('data'), 'VerifyPII', [dataId, SHORT_PII]);
      const no = await evaluate<{ valid: boolean }>(fresh.alice.cc('data'), 'VerifyPII', [dataId, '1988']);
      assert.deepEqual([yes.valid, no.valid], [true, false]);
      assert.match(await refused(() => evaluate(mvbAuditor.cc('data'), 'VerifyPII', [dataId, SHORT_PII])), /DENIED/);
      // a second PII of the thing reuses the stored secret (supplied key material is ignored)
      const again = piiSecrets(SHORT_PII);
      const { staged } = await storeAndAnchorPii(fresh.alice, fresh, `${dataId}-2`, again);
      assert.equal(staged.keyCreated, false);
      assert.equal(staged.piiHash, piiHmac(pii.key!, again.salt, SHORT_PII));
    } finally {
      fresh.close();
    }
  });

  it('(d) a member stores, anchors and reads PII; deletion by the holding org purges it', async () => {
    const dataId = nextId();
    const pii = piiSecrets(`Jane Roe ${w.run}`);
    const { staged } = await storeAndAnchorPii(w.alice, w, dataId, pii);
    assert.equal(staged.piiCollection, `pii_${IOT}`);
    const record = await evaluate<{ details: string }>(w.alice.cc('data'), 'GetPII', [dataId]);
    assert.equal(record.details, pii.details);
    await ok(w.alice.cc('data'), 'DeleteData', [dataId, 'owner request']);
    await ok(w.iotAdmin.cc('data'), 'PurgePII', [dataId]);
    const activity = await evaluate<{ items: { action: string; details: string }[] }>(w.iotAdmin.cc('audit'), 'QueryActivityBySubject', [
      'data',
      dataId,
      '20',
      '',
    ]);
    const deleted = activity.items.find((a) => a.action === 'deleted');
    assert.equal(JSON.parse(deleted!.details).piiPurged, true);
    assert.ok(activity.items.some((a) => a.action === 'pii-purged'));
    assert.match(await refused(() => evaluate(w.alice.cc('data'), 'GetPII', [dataId])), /DENIED: .*deleted/);
  });
});
