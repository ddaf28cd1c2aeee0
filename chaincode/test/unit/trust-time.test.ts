/**
 * Rule 2 (issue "Chaincode trust rules"): time is the transaction timestamp, which the client
 * chooses. Endorsers refuse one further than 300 s from their own clock, and every expiry decision
 * leans to the safe side of that bound. Each attack is a legitimate member crafting the
 * timestamp (`at`) while the endorser's clock (`endorserAt`) says the true time.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { AccessDecision } from '../../src/access/grant-types';
import { MAX_SKEW_MS } from '../../src/common/time';
import type { DataAnchor } from '../../src/data/data-types';
import type { Transfer } from '../../src/transfer/transfer-types';
import { id, rejects, SHA_A, World } from '../support/fixtures';

const S = 1000;
const DAY = 24 * 3600 * S;

/** The committed ledger, to show that a refused call changed nothing. */
function snapshot(w: World): string {
  const state = [...w.chain.ledger.state.entries()].map(([k, v]) => [k, Buffer.from(v).toString('base64')]);
  return JSON.stringify({ state, events: w.chain.ledger.events.length });
}

describe('rule 2: time (clock skew bound and safe-side expiry)', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.federate();
    await w.watch();
    await w.avatars();
    await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' });
  });

  it('the bound is 300 s', () => {
    assert.equal(MAX_SKEW_MS, 300 * S);
  });

  it('a proposal timestamp more than 300 s behind or ahead of the endorser clock is refused INVALID, for writes and evaluations; nothing is written', async () => {
    const before = snapshot(w);
    const input = { platformId: 'iot-2', type: 'IOT', name: 'x', capabilityLevel: 1 };
    const now = w.chain.now;
    await rejects(
      w.chain.submit(w.platform, 'RegisterPlatform', id.iotAdmin, [input], { at: now - 301 * S, endorserAt: now }),
      'INVALID',
      /transaction timestamp .* is 301 s behind the endorser's clock .*; at most 300 s of clock skew is accepted/,
    );
    await rejects(
      w.chain.submit(w.platform, 'RegisterPlatform', id.iotAdmin, [input], { at: now + 301 * S, endorserAt: now }),
      'INVALID',
      /is 301 s ahead of the endorser's clock/,
    );
    await rejects(
      w.chain.evaluate(w.access, 'CheckAccess', id.alice, ['DATA', 'd-1', 'read', '*'], { at: now - 3600 * S, endorserAt: now }),
      'INVALID',
      'behind the endorser',
    );
    assert.equal(snapshot(w), before);
    // inside the bound it is accepted, and the record carries the transaction time (never the endorser's)
    const p = await w.chain.submit<{ createdAt: string }>(w.platform, 'RegisterPlatform', id.iotAdmin, [input], {
      at: now - 299 * S,
      endorserAt: now,
    });
    assert.equal(p.createdAt, new Date(now - 299 * S).toISOString());
  });

  describe('grants', () => {
    const grant = (extra: Record<string, unknown>) =>
      w.chain.submit(w.access, 'CreateGrant', id.alice, [
        {
          grantId: 'g1',
          resourceType: 'THING',
          resourceId: 'watch-1',
          grantee: { type: 'PRINCIPAL', id: 'b-user', mspId: 'MetaverseBMSP' },
          actions: ['read'],
          purpose: '*',
          ...extra,
        },
      ]);
    const check = (at: number, endorserAt = at) =>
      w.chain.evaluate<AccessDecision>(w.access, 'CheckAccess', id.bUser, ['THING', 'watch-1', 'read', 'analytics'], { at, endorserAt });

    it('A1: a grant expiring at T is refused from T − 300 s, also to a proposal backdated within the bound; allowed before', async () => {
      const T = w.chain.now + DAY;
      await grant({ validUntil: new Date(T).toISOString() });
      assert.equal((await check(T - 301 * S)).allowed, true, 'usable until T − skew');
      const late = await check(T - 299 * S, T); // true time T, backdated by 299 s
      assert.equal(late.allowed, false);
      assert.match(
        late.reason,
        new RegExp(`grant g1 expires at ${new Date(T).toISOString()}: refused from ${new Date(T - 300 * S).toISOString()}`),
      );
      await rejects(check(T - 301 * S, T), 'INVALID', 'behind the endorser'); // backdated beyond the bound
    });

    it('A1: a grant valid from a later F is usable from F + 300 s; a forward-dated proposal cannot use it early', async () => {
      const F = w.chain.now + DAY;
      await grant({ validFrom: new Date(F).toISOString(), validUntil: new Date(F + DAY).toISOString() });
      const early = await check(F + 299 * S, F); // true time F, forward-dated by 299 s
      assert.equal(early.allowed, false);
      assert.match(early.reason, /grant g1 is valid from .* \(usable from /);
      assert.equal((await check(F + 300 * S)).allowed, true);
    });

    it('a grant that could never be used (validUntil within 300 s) is refused INVALID at creation; a grant valid from its creation is usable at once', async () => {
      await rejects(grant({ validUntil: new Date(w.chain.now + 200 * S).toISOString() }), 'INVALID', 'more than 300 s after validFrom');
      await grant({ validUntil: new Date(w.chain.now + DAY).toISOString() });
      assert.equal((await check(w.chain.now + S)).allowed, true);
    });
  });

  describe('transfers', () => {
    const request = (expiresAt: number) =>
      w.chain.submit<Transfer>(w.transfer, 'RequestTransfer', id.aAgent, [
        {
          transferId: 'tr-1',
          kind: 'MOVE',
          sourceAvatarId: 'av-a1',
          targetMetaverseId: 'mv-b',
          targetAvatarId: 'av-b1',
          dataId: 'd-1',
          dataSha256: SHA_A,
          purpose: 'gameplay',
          expiresAt: new Date(expiresAt).toISOString(),
        },
      ]);
    const approveAll = async () => {
      await w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']);
      await w.chain.submit(w.transfer, 'ApproveTransferAsTarget', id.bAdmin, ['tr-1']);
      await w.chain.submit(w.transfer, 'ConsentTransfer', id.alice, ['tr-1']);
    };

    it('X3: a transfer expiring at T cannot be executed from T − 300 s (backdated proposal refused EXPIRED, ledger unchanged); before, it executes', async () => {
      const T = w.chain.now + 3600 * S;
      await request(T);
      await approveAll();
      const before = snapshot(w);
      await rejects(
        w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A], { at: T - 299 * S, endorserAt: T }),
        'EXPIRED',
        `transfer tr-1 expires at ${new Date(T).toISOString()}: no step from ${new Date(T - 300 * S).toISOString()}`,
      );
      assert.equal(snapshot(w), before);
      const done = await w.chain.submit<Transfer>(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A], { at: T - 301 * S });
      assert.equal(done.status, 'EXECUTED');
    });

    it('X3: a transfer cannot be marked expired before T + 300 s (forward-dated proposal refused CONFLICT); then it can', async () => {
      const T = w.chain.now + 3600 * S;
      await request(T);
      const before = snapshot(w);
      await rejects(
        w.chain.submit(w.transfer, 'ExpireTransfer', id.monitor, ['tr-1'], { at: T + 299 * S, endorserAt: T }),
        'CONFLICT',
        `it can be marked expired from ${new Date(T + 300 * S).toISOString()}`,
      );
      assert.equal(snapshot(w), before);
      const t = await w.chain.submit<Transfer>(w.transfer, 'ExpireTransfer', id.monitor, ['tr-1'], { at: T + 300 * S });
      assert.equal(t.status, 'EXPIRED');
    });

    it('a transfer expiring within 300 s of its request is refused INVALID', async () => {
      await rejects(request(w.chain.now + 200 * S), 'INVALID', 'expiresAt must be more than 300 s after the transaction time');
    });

    it("X5: the thing's transmit window holds for every clock within the bound (05:58 is refused for a 0–6 h window, 05:50 allowed)", async () => {
      await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, [
        'watch-1',
        { allowedMetaverses: ['mv-a', 'mv-b'], purposes: ['gameplay'], transmitWindow: { fromHour: 0, toHour: 6 } },
      ]);
      await request(w.chain.now + 5 * DAY);
      await approveAll();
      const day = Date.parse('2025-03-03T00:00:00.000Z');
      await rejects(
        w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A], { at: day + (5 * 60 + 58) * 60 * S }),
        'DENIED',
        'allows transmission only from 0:00 to 6:00 UTC',
      );
      const done = await w.chain.submit<Transfer>(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A], {
        at: day + (5 * 60 + 50) * 60 * S,
      });
      assert.equal(done.status, 'EXECUTED');
    });
  });

  it('X7: ExpireData only once anchoredAt + retention + 300 s passed; a forward-dated proposal cannot delete early', async () => {
    const storageAgent = { mspId: 'IoTPlatformMSP', role: 'storage-agent', principal: 'storage-1' } as const;
    const anchored = await w.chain.evaluate<DataAnchor>(w.data, 'GetData', id.alice, ['d-1']);
    const until = Date.parse(anchored.createdAt) + 30 * DAY;
    const before = snapshot(w);
    await rejects(
      w.chain.submit(w.data, 'ExpireData', storageAgent, ['d-1'], { at: until + 299 * S, endorserAt: until }),
      'CONFLICT',
      `it can be expired from ${new Date(until + 300 * S).toISOString()}`,
    );
    assert.equal(snapshot(w), before);
    const gone = await w.chain.submit<DataAnchor>(w.data, 'ExpireData', storageAgent, ['d-1'], { at: until + 300 * S });
    assert.equal(gone.stage, 'DELETED');
  });
});
