/**
 * Trust rule 7 (PII), written against a hostile member's raw client: who may process transient
 * PII (the collection member's peers only, checked before the PII is read), the keyed public
 * fingerprint (HMAC-SHA256 under the thing's secret in the collection) and the entropy rule for
 * client-supplied salts and keys.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { piiFingerprintOf, weakness } from '../../src/data/pii';
import type { DataAnchor, PiiRecord, PiiStaged, Verification } from '../../src/data/data-types';
import { MemoryStub } from '../support/memory-ledger';
import { id, rejects, World } from '../support/fixtures';
import { anchorBody, freshSecret, piiTransient, storeAndAnchorPii } from '../support/pii';

const SHORT_PII = '1990';
const COLLECTION = 'pii_IoTPlatformMSP';
const privateKeys = (w: World) => [...(w.chain.ledger.privateData.get(COLLECTION)?.keys() ?? [])];

describe('trust rule 7: PII', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
  });

  describe('only a member peer processes transient PII', () => {
    it("a non-member org's peer refuses StorePII with DENIED before the transient value is read; nothing is written", async () => {
      const original = MemoryStub.prototype.getTransient;
      let readValue = false;
      MemoryStub.prototype.getTransient = function (this: MemoryStub) {
        const map = original.call(this);
        const get = map.get.bind(map);
        map.get = (k: string) => {
          readValue = true;
          return get(k);
        };
        return map;
      };
      try {
        for (const peer of ['MetaverseAMSP', 'MetaverseBMSP']) {
          await rejects(
            w.chain.submit(w.data, 'StorePII', id.alice, [{ dataId: 'd-1', thingId: 'watch-1' }], {
              transient: piiTransient(SHORT_PII, { key: freshSecret() }),
              peer,
            }),
            'DENIED',
            `PII of ${COLLECTION} may be endorsed only by IoTPlatformMSP peers; this peer is ${peer}'s`,
          );
        }
        assert.equal(readValue, false, 'the refusing peer never read the transient PII value');
      } finally {
        MemoryStub.prototype.getTransient = original;
      }
      assert.deepEqual(privateKeys(w), []);
    });

    it('a peer that does not know its organisation (CORE_PEER_LOCALMSPID unset) fails closed', async () => {
      await rejects(
        w.chain.submit(w.data, 'StorePII', id.alice, [{ dataId: 'd-1', thingId: 'watch-1' }], {
          transient: piiTransient(SHORT_PII, { key: freshSecret() }),
          peer: null,
        }),
        'DENIED',
        'CORE_PEER_LOCALMSPID unset',
      );
    });

    it('AnchorData with transient PII: DENIED on a non-member peer, INVALID (use StorePII) on a member peer; no anchor', async () => {
      const transient = piiTransient(SHORT_PII, { key: freshSecret() });
      await rejects(
        w.chain.submit(w.data, 'AnchorData', id.alice, [anchorBody('d-1')], { transient, peer: 'MetaverseAMSP' }),
        'DENIED',
        "this peer is MetaverseAMSP's",
      );
      await rejects(w.chain.submit(w.data, 'AnchorData', id.alice, [anchorBody('d-1')], { transient }), 'INVALID', 'StorePII');
      await rejects(w.chain.evaluate(w.data, 'GetData', id.alice, ['d-1']), 'NOT_FOUND');
    });

    it("PII goes to the caller's own collection only: a MetaverseA caller on IoT's peer is refused; on its own peer it lands in pii_MetaverseAMSP", async () => {
      await w.chain.submit(w.access, 'CreateGrant', id.alice, [
        {
          grantId: 'g-w',
          resourceType: 'THING',
          resourceId: 'watch-1',
          grantee: { type: 'MSP', id: 'MetaverseAMSP' },
          actions: ['write'],
          purpose: '*',
          validUntil: new Date(w.chain.now + 1e9).toISOString(),
        },
      ]);
      const args = [{ dataId: 'd-a', thingId: 'watch-1' }];
      await rejects(
        w.chain.submit(w.data, 'StorePII', id.aCreator, args, {
          transient: piiTransient(SHORT_PII, { key: freshSecret() }),
          peer: 'IoTPlatformMSP',
        }),
        'DENIED',
        "PII of pii_MetaverseAMSP may be endorsed only by MetaverseAMSP peers; this peer is IoTPlatformMSP's",
      );
      const staged = await w.chain.submit<PiiStaged>(w.data, 'StorePII', id.aCreator, args, {
        transient: piiTransient(SHORT_PII, { key: freshSecret() }),
      });
      assert.equal(staged.piiCollection, 'pii_MetaverseAMSP');
      assert.deepEqual(privateKeys(w), []);
      // an anchor cannot claim another collection's (or a made-up) fingerprint
      await rejects(w.chain.submit(w.data, 'AnchorData', id.alice, [anchorBody('d-a', staged.piiHash)]), 'CONFLICT', 'call StorePII first');
      await w.chain.submit(w.data, 'AnchorData', id.aCreator, [anchorBody('d-a', staged.piiHash)]);
    });

    it('AnchorData binds exactly the stored fingerprint: another hash, data id or thing is refused CONFLICT', async () => {
      const staged = await w.chain.submit<PiiStaged>(w.data, 'StorePII', id.alice, [{ dataId: 'd-1', thingId: 'watch-1' }], {
        transient: piiTransient(SHORT_PII, { key: freshSecret() }),
      });
      await rejects(w.chain.submit(w.data, 'AnchorData', id.alice, [anchorBody('d-1', 'c'.repeat(64))]), 'CONFLICT', 'call StorePII first');
      await rejects(w.chain.submit(w.data, 'AnchorData', id.alice, [anchorBody('d-2', staged.piiHash)]), 'CONFLICT', 'call StorePII first');
      // the fingerprint is checked by the private data's hash alone (any peer can)
      const a = await w.chain.submit<DataAnchor>(w.data, 'AnchorData', id.alice, [anchorBody('d-1', staged.piiHash)], {
        peer: 'MetaverseBMSP',
      });
      assert.equal(a.piiHash, staged.piiHash);
      await rejects(
        w.chain.submit(w.data, 'StorePII', id.alice, [{ dataId: 'd-1', thingId: 'watch-1' }], { transient: piiTransient(SHORT_PII) }),
        'CONFLICT',
        'already exists',
      );
    });
  });

  describe('salts and keys must be random (entropy, not only length)', () => {
    const weak: [string, string][] = [
      ['all zeros', '00'.repeat(32)],
      ['all the same byte', 'ab'.repeat(40)],
      ['few distinct bytes', '0102030401020304050607080102030405060708010203040506070801020304'],
      ['a counter', Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex')],
      ['a repeating pattern', Buffer.from(freshSecret().slice(0, 32), 'hex').toString('hex').repeat(4)],
      ['too short', freshSecret().slice(0, 62)],
      ['ASCII text', Buffer.from('password-password-password-12345').toString('base64')],
    ];
    for (const [what, value] of weak) {
      it(`${what} is refused INVALID as salt and as key; nothing is written`, async () => {
        await rejects(
          w.chain.submit(w.data, 'StorePII', id.alice, [{ dataId: 'd-1', thingId: 'watch-1' }], {
            transient: piiTransient(SHORT_PII, { salt: value, key: freshSecret() }),
          }),
          'INVALID',
          /transient pii\.salt (is not random enough|must be)/,
        );
        await rejects(
          w.chain.submit(w.data, 'StorePII', id.alice, [{ dataId: 'd-1', thingId: 'watch-1' }], {
            transient: piiTransient(SHORT_PII, { key: value }),
          }),
          'INVALID',
          /transient pii\.key (is not random enough|must be)/,
        );
        assert.deepEqual(privateKeys(w), []);
      });
    }

    it('random 32-byte values pass (hex and base64)', () => {
      for (let i = 0; i < 2000; i++) assert.equal(weakness(Buffer.from(freshSecret(), 'hex')), undefined);
    });

    it("the thing's first PII needs key material; later PII reuses the stored secret", async () => {
      await rejects(
        w.chain.submit(w.data, 'StorePII', id.alice, [{ dataId: 'd-1', thingId: 'watch-1' }], { transient: piiTransient(SHORT_PII) }),
        'INVALID',
        'first PII needs transient pii.key',
      );
      const key = freshSecret();
      const salt1 = freshSecret();
      const first = await storeAndAnchorPii(w, 'd-1', SHORT_PII, { salt: salt1, key });
      assert.equal(first.staged.keyCreated, true);
      const salt2 = freshSecret();
      const second = await storeAndAnchorPii(w, 'd-2', SHORT_PII, { salt: salt2, key: freshSecret() });
      assert.equal(second.staged.keyCreated, false);
      assert.equal(second.anchor.piiHash, piiFingerprintOf(Buffer.from(key, 'hex'), salt2, SHORT_PII), 'the first secret keys it');
      assert.notEqual(first.anchor.piiHash, second.anchor.piiHash, 'equal PII of one thing is not linkable (fresh salt)');
    });
  });

  describe('the public fingerprint is keyed', () => {
    it('a short PII value cannot be found from the public anchor by hashing guesses the old way; HMAC under the secret matches', async () => {
      const key = freshSecret();
      const salt = freshSecret();
      const { anchor } = await storeAndAnchorPii(w, 'd-1', SHORT_PII, { salt, key });
      const oldWay = (guess: string) => createHash('sha256').update(`${salt}:${guess}`).digest('hex');
      let found: string | undefined;
      for (let y = 1900; y <= 2030 && !found; y++) if (oldWay(String(y)) === anchor.piiHash) found = String(y);
      assert.equal(found, undefined, 'even knowing the salt, sha256(salt:details) guesses never match');
      assert.equal(anchor.piiHash, piiFingerprintOf(Buffer.from(key, 'hex'), salt, SHORT_PII));
      const ok = await w.chain.evaluate<Verification>(w.data, 'VerifyPII', id.alice, ['d-1', SHORT_PII]);
      assert.equal(ok.valid, true);
      const no = await w.chain.evaluate<Verification>(w.data, 'VerifyPII', id.alice, ['d-1', '1991']);
      assert.equal(no.valid, false);
      await rejects(w.chain.evaluate(w.data, 'VerifyPII', id.aUser, ['d-1', SHORT_PII]), 'DENIED');
      await rejects(
        w.chain.evaluate(w.data, 'VerifyPII', id.alice, ['d-1', SHORT_PII], { peer: 'MetaverseAMSP' }),
        'NOT_FOUND',
        'not on this peer',
      );
      for (const secret of [key, salt]) assert.equal(w.chain.ledger.publicBytes().includes(Buffer.from(secret)), false);
    });
  });

  describe('purge', () => {
    it("deletion by the holding org purges the PII and its staged fingerprint, PurgePII too; the thing's secret stays", async () => {
      await storeAndAnchorPii(w, 'd-1', SHORT_PII);
      const pii = await w.chain.evaluate<PiiRecord>(w.data, 'GetPII', id.alice, ['d-1']);
      assert.equal(pii.details, SHORT_PII);
      await rejects(w.chain.submit(w.data, 'PurgePII', id.iotAdmin, ['d-1']), 'CONFLICT', 'delete it first');
      await w.chain.submit(w.data, 'DeleteData', id.alice, ['d-1', 'owner request']);
      assert.deepEqual(
        privateKeys(w).map((k) => k.split('\u0000')[1]),
        ['piikey'],
      );
      await storeAndAnchorPii(w, 'd-2', SHORT_PII);
      await w.chain.submit(w.data, 'DeleteData', id.alice, ['d-2', 'owner request']);
      await w.chain.submit(w.data, 'PurgePII', id.iotAdmin, ['d-2']);
      await rejects(w.chain.evaluate(w.data, 'GetPII', id.alice, ['d-2']), 'DENIED', 'is deleted');
      assert.deepEqual(
        privateKeys(w).map((k) => k.split('\u0000')[1]),
        ['piikey'],
      );
    });
  });
});
