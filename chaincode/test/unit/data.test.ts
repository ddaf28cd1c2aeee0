import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { BatchAnchor, DataAnchor, DataAnchorPage, PiiRecord, Verification } from '../../src/data/data-types';
import { piiFingerprintOf } from '../../src/data/data-contract';
import { merkleRoot, sha256Hex } from 'mvsec-protocol';
import { id, rejects, SHA_A, SHA_B, World } from '../support/fixtures';
import { freshSecret, piiTransient, storeAndAnchorPii } from '../support/pii';

const PII_VALUE = 'Alice Example, born 1990-01-01, alice@example.org';
const SALT = freshSecret();
const KEY = freshSecret();

describe('data contract', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.avatars();
  });

  it('F2/S1: an anchor records fingerprint, size, category, classification, owner, storage and key id', async () => {
    await w.anchor('d-1', SHA_A);
    const d = await w.chain.evaluate<DataAnchor>(w.data, 'GetData', id.alice, ['d-1']);
    assert.equal(d.sha256, SHA_A);
    assert.equal(d.owner, 'alice');
    assert.equal(d.ownerMspId, 'IoTPlatformMSP');
    assert.equal(d.keyId, 'key-1');
    assert.equal(d.stage, 'COLLECTED');
    assert.deepEqual(d.storage, { placement: 'ON_PLATFORM', storeId: 'local', uri: 'local://d-1' });
    await rejects(w.anchor('d-1', SHA_B), 'CONFLICT', 'immutable');
  });

  it('keys per AnchorData by the owner: 4 point reads (among them the role issuers, trust rule 1, and the bound key of the principal, rule 8), 4 writes, no range read', async () => {
    const { stub } = await w.chain.submitTx(w.data, 'AnchorData', id.alice, [
      {
        dataId: 'd-k',
        thingId: 'watch-1',
        sha256: SHA_A,
        size: 1,
        category: 'c',
        classification: 'PUBLIC',
        storage: { placement: 'ON_PLATFORM', storeId: 'l', uri: '' },
        keyId: 'k',
        encrypted: true,
      },
    ]);
    assert.equal(stub.readKeys.size, 4);
    assert.equal(stub.writes.size, 4);
    assert.equal(stub.rangeQueries, 0);
  });

  it('F4: the autonomous thing anchors its own data; an avatar anchor must belong to the thing', async () => {
    await w.anchor('d-self', SHA_A, {}, id.watch);
    await w.anchor('d-av', SHA_A, { avatarId: 'av-a1' }, id.aAgent);
    await w.chain.submit(w.thing, 'RegisterThing', id.alice, [
      { thingId: 'other', platformId: 'iot-1', kind: 'SENSOR', accessMode: 'AUTONOMOUS', publicKey: 'pk', classification: 'PUBLIC' },
    ]);
    await rejects(w.anchor('d-x', SHA_A, { thingId: 'other', avatarId: 'av-a1' }), 'CONFLICT', 'not an avatar of thing other');
  });

  it('X5: placement and encryption follow the thing policy', async () => {
    await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, [
      'watch-1',
      { storage: 'EXTERNAL', storageIds: ['s3-eu'], encryptionRequired: true },
    ]);
    await rejects(w.anchor('d-1', SHA_A), 'DENIED', 'stores data EXTERNAL, not ON_PLATFORM');
    await rejects(
      w.anchor('d-1', SHA_A, { storage: { placement: 'EXTERNAL', storeId: 's3-us', uri: 's3://x' } }),
      'DENIED',
      'does not allow store s3-us',
    );
    await rejects(
      w.anchor('d-1', SHA_A, { storage: { placement: 'EXTERNAL', storeId: 's3-eu', uri: 's3://x' }, encrypted: false }),
      'DENIED',
      'requires encrypted data',
    );
    await w.anchor('d-1', SHA_A, { storage: { placement: 'EXTERNAL', storeId: 's3-eu', uri: 's3://x' } });
  });

  it("X7: PII goes only to the caller org's private collection; only a keyed fingerprint reaches the shared ledger", async () => {
    await storeAndAnchorPii(w, 'd-pii', PII_VALUE, { salt: SALT, key: KEY });
    const d = await w.chain.evaluate<DataAnchor>(w.data, 'GetData', id.alice, ['d-pii']);
    assert.equal(d.piiCollection, 'pii_IoTPlatformMSP');
    assert.equal(d.piiHash, piiFingerprintOf(Buffer.from(KEY, 'hex'), SALT, PII_VALUE));
    assert.notEqual(d.piiHash, sha256Hex(`${SALT}:${PII_VALUE}`));
    for (const secret of [PII_VALUE, 'alice@example.org', SALT, KEY])
      assert.equal(
        w.chain.ledger.publicBytes().includes(Buffer.from(secret)),
        false,
        'PII, salt and key must not be in public writes or events',
      );
    const pii = await w.chain.evaluate<PiiRecord>(w.data, 'GetPII', id.alice, ['d-pii']);
    assert.equal(pii.details, PII_VALUE);
    assert.equal(pii.salt, SALT);
  });

  it('X7: PII of another org is refused; a short salt is refused; a client-only org has no collection', async () => {
    await storeAndAnchorPii(w, 'd-pii', PII_VALUE, { salt: SALT, key: KEY });
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'g',
        resourceType: 'DATA',
        resourceId: 'd-pii',
        grantee: { type: 'MSP', id: 'MetaverseAMSP' },
        actions: ['read'],
        purpose: '*',
        validUntil: new Date(w.chain.now + 1e9).toISOString(),
      },
    ]);
    await rejects(w.chain.evaluate(w.data, 'GetPII', id.aUser, ['d-pii']), 'DENIED', 'is not a member');
    await rejects(
      w.chain.submit(w.data, 'StorePII', id.alice, [{ dataId: 'd-2', thingId: 'watch-1' }], {
        transient: piiTransient('x', { salt: 'short' }),
      }),
      'INVALID',
      'at least 32',
    );
    await rejects(
      w.chain.submit(w.data, 'StorePII', id.dpm1, [{ dataId: 'd-3', thingId: 'watch-1' }], {
        transient: piiTransient('x'),
        peer: 'IoTPlatformMSP',
      }),
      'DENIED',
      'no PII collection',
    );
  });

  it('M1/X7: lifecycle collected → stored → shared → deleted; deletion purges the PII and is recorded', async () => {
    await storeAndAnchorPii(w, 'd-1', PII_VALUE, { salt: SALT, key: KEY });
    await w.chain.submit(w.data, 'RecordLifecycle', id.alice, ['d-1', 'STORED', '*', 'in local store']);
    await rejects(w.chain.submit(w.data, 'RecordLifecycle', id.bUser, ['d-1', 'SHARED', 'analytics', 'x']), 'DENIED', "'share'");
    await w.chain.submit(w.data, 'RecordLifecycle', id.thingAgent, ['d-1', 'SHARED', 'analytics', 'to dashboard']);
    await rejects(w.chain.submit(w.data, 'DeleteData', id.bUser, ['d-1', 'x']), 'DENIED', "'delete'");
    const deleted = await w.chain.submit<DataAnchor>(w.data, 'DeleteData', id.alice, ['d-1', 'owner request']);
    assert.deepEqual(
      deleted.lifecycle.map((s) => s.stage),
      ['COLLECTED', 'STORED', 'SHARED', 'DELETED'],
    );
    // the PII record and its staged fingerprint are purged; the thing's secret stays (docs/chaincode.md "PII")
    assert.deepEqual(
      [...(w.chain.ledger.privateData.get('pii_IoTPlatformMSP')?.keys() ?? [])].map((k) => k.split('\u0000')[1]),
      ['piikey'],
    );
    const v = await w.chain.evaluate<Verification>(w.data, 'VerifyData', id.bUser, ['d-1', SHA_A]);
    assert.equal(v.valid, false);
    await rejects(w.chain.submit(w.data, 'RecordLifecycle', id.alice, ['d-1', 'STORED', '*', 'x']), 'DENIED', 'is deleted');
    await w.chain.evaluate(w.data, 'GetData', id.auditor, ['d-1']);
  });

  it("X7 retention: ExpireData records the deletion once the thing's retentionDays have passed, by the data's storage agent only", async () => {
    const storageAgent = { mspId: 'IoTPlatformMSP', role: 'storage-agent', principal: 'storage-1' } as const;
    await w.anchor('d-r', SHA_A);
    const anchored = await w.chain.evaluate<DataAnchor>(w.data, 'GetData', id.alice, ['d-r']);
    // the fixture thing keeps its data 30 days; rule 2: expirable once that plus the 300 s clock skew bound passed
    const due = Date.parse(anchored.createdAt) + 30 * 86_400_000 + 300_000;
    await rejects(
      w.chain.submit(w.data, 'ExpireData', storageAgent, ['d-r'], { at: due - 1 }),
      'CONFLICT',
      `kept until ${new Date(due - 300_000).toISOString()}: thing watch-1's policy keeps its data 30 days; it can be expired from ${new Date(due).toISOString()}`,
    );
    await rejects(w.chain.submit(w.data, 'ExpireData', id.alice, ['d-r'], { at: due }), 'DENIED', 'needs role storage-agent or admin');
    await rejects(
      w.chain.submit(w.data, 'ExpireData', id.bAdmin, ['d-r'], { at: due }),
      'DENIED',
      'IoTPlatformMSP needs its storage agent',
    );
    const expired = await w.chain.submit<DataAnchor>(w.data, 'ExpireData', storageAgent, ['d-r'], { at: due });
    assert.equal(expired.stage, 'DELETED');
    const step = expired.lifecycle[expired.lifecycle.length - 1];
    assert.equal(step.note, `retention: 30 days from ${anchored.createdAt}`);
    assert.equal(step.by.principal, 'storage-1');
    assert.equal(step.at, new Date(due).toISOString());
    assert.equal(expired.sha256, SHA_A, 'the fingerprint stays');
    await rejects(w.chain.submit(w.data, 'ExpireData', storageAgent, ['d-r'], { at: due + 1 }), 'CONFLICT', 'already deleted');

    // the current policy decides: shortened to 1 day, older data is due at once
    await w.anchor('d-s', SHA_B);
    const s = await w.chain.evaluate<DataAnchor>(w.data, 'GetData', id.alice, ['d-s']);
    await rejects(
      w.chain.submit(w.data, 'ExpireData', id.iotAdmin, ['d-s'], { at: Date.parse(s.createdAt) + 86_400_000 + 300_000 - 1 }),
      'CONFLICT',
      '30 days',
    );
    await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { retentionDays: 1 }]);
    const byAdmin = await w.chain.submit<DataAnchor>(w.data, 'ExpireData', id.iotAdmin, ['d-s'], {
      at: Date.parse(s.createdAt) + 86_400_000 + 300_000,
    });
    assert.equal(byAdmin.stage, 'DELETED');
  });

  it('S1: anyone with a role verifies a fingerprint; reading the anchor needs access or audit role', async () => {
    await w.anchor('d-1', SHA_A);
    assert.equal((await w.chain.evaluate<Verification>(w.data, 'VerifyData', id.bUser, ['d-1', SHA_A])).valid, true);
    assert.equal((await w.chain.evaluate<Verification>(w.data, 'VerifyData', id.bUser, ['d-1', SHA_B])).valid, false);
    await rejects(w.chain.evaluate(w.data, 'GetData', id.bUser, ['d-1']), 'DENIED');
    await w.chain.evaluate(w.data, 'GetData', id.monitor, ['d-1']);
  });

  it('C3: a batch anchors a Merkle root; inclusion proofs verify against it', async () => {
    const leaves = ['r1', 'r2', 'r3', 'r4'].map((r) => sha256Hex(r));
    const root = merkleRoot(leaves);
    await w.chain.submit(w.data, 'AnchorBatch', id.watch, [
      {
        batchId: 'b-1',
        thingId: 'watch-1',
        merkleRoot: root,
        leafCount: 4,
        firstReadingAt: '2025-03-01T09:00:00Z',
        lastReadingAt: '2025-03-01T09:59:59Z',
      },
    ]);
    const b = await w.chain.evaluate<BatchAnchor>(w.data, 'GetBatch', id.bUser, ['b-1']);
    assert.equal(b.merkleRoot, root);
    const pair = (a: string, c: string) => sha256Hex(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(c, 'hex')]));
    const proof = [
      { position: 'L', sha256: leaves[2] },
      { position: 'L', sha256: pair(leaves[0], leaves[1]) },
    ];
    assert.equal((await w.chain.evaluate<Verification>(w.data, 'VerifyInclusion', id.bUser, ['b-1', leaves[3], proof])).valid, true);
    assert.equal(
      (await w.chain.evaluate<Verification>(w.data, 'VerifyInclusion', id.bUser, ['b-1', sha256Hex('forged'), proof])).valid,
      false,
    );
    await rejects(
      w.chain.submit(w.data, 'AnchorBatch', id.bUser, [
        {
          batchId: 'b-2',
          thingId: 'watch-1',
          merkleRoot: root,
          leafCount: 4,
          firstReadingAt: '2025-03-01T09:00:00Z',
          lastReadingAt: '2025-03-01T09:59:59Z',
        },
      ]),
      'DENIED',
    );
  });

  it('data of a thing is paged with bookmarks (evaluate-only)', async () => {
    for (let i = 0; i < 5; i++) await w.anchor(`d-${i}`, SHA_A);
    const p1 = await w.chain.evaluate<DataAnchorPage>(w.data, 'ListDataOfThing', id.alice, ['watch-1', '2', '']);
    const p2 = await w.chain.evaluate<DataAnchorPage>(w.data, 'ListDataOfThing', id.alice, ['watch-1', '2', p1.bookmark]);
    const p3 = await w.chain.evaluate<DataAnchorPage>(w.data, 'ListDataOfThing', id.alice, ['watch-1', '2', p2.bookmark]);
    assert.deepEqual(
      [...p1.items, ...p2.items, ...p3.items].map((d) => d.dataId),
      ['d-0', 'd-1', 'd-2', 'd-3', 'd-4'],
    );
    assert.equal(p3.bookmark, '');
  });
});
