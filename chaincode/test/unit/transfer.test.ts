import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { KeyEndorsementPolicy } from 'fabric-shim';
import type { DataAnchor } from '../../src/data/data-types';
import type { Transfer } from '../../src/transfer/transfer-types';
import { id, rejects, SHA_A, SHA_B, World } from '../support/fixtures';

const HOUR = 3600 * 1000;

describe('transfer contract', () => {
  let w: World;
  const request = (overrides: Record<string, unknown> = {}, who = id.aAgent) =>
    w.chain.submit<Transfer>(w.transfer, 'RequestTransfer', who, [
      {
        transferId: 'tr-1',
        kind: 'MOVE',
        sourceAvatarId: 'av-a1',
        targetMetaverseId: 'mv-b',
        targetAvatarId: 'av-b1',
        dataId: 'd-1',
        dataSha256: SHA_A,
        items: ['sword-1'],
        purpose: 'gameplay',
        expiresAt: new Date(w.chain.now + 2 * HOUR).toISOString(),
        ...overrides,
      },
    ]);
  const approveAll = async () => {
    await w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']);
    await w.chain.submit(w.transfer, 'ApproveTransferAsTarget', id.bAdmin, ['tr-1']);
    await w.chain.submit(w.transfer, 'ConsentTransfer', id.alice, ['tr-1']);
  };

  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.avatars();
    await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' }); // data of avatar av-a1: mv-a holds it (trust rule 3)
  });

  it('X3: no interoperation before both metaverses federated', async () => {
    await rejects(request(), 'DENIED', 'not federated');
    await w.chain.submit(w.platform, 'ProposeFederation', id.aAdmin, ['mv-a', 'mv-b', 'games']);
    await rejects(request(), 'DENIED', 'is PROPOSED');
  });

  describe('with federated metaverses', () => {
    beforeEach(async () => {
      await w.federate();
    });

    it('X3/R3: requested → source approved → target approved → consented → executed once, bound to the hash', async () => {
      const t = await request();
      assert.equal(t.status, 'REQUESTED');
      assert.deepEqual(t.endorsingMsps, ['MetaverseAMSP', 'MetaverseBMSP']);
      await approveAll();
      const done = await w.chain.submit<Transfer>(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]);
      assert.equal(done.status, 'EXECUTED');
      assert.deepEqual(
        done.steps.map((s) => s.status),
        ['REQUESTED', 'SOURCE_APPROVED', 'TARGET_APPROVED', 'CONSENTED', 'EXECUTED'],
      );
      const data = await w.chain.evaluate<DataAnchor>(w.data, 'GetData', id.alice, ['d-1']);
      assert.equal(data.stage, 'SHARED');
    });

    it('X3: the transfer key carries a key-level policy naming both metaverse orgs (state-based endorsement)', async () => {
      await request();
      const key = w.chain.ledger.sortedKeys().find((k) => k.startsWith('\u0000transfer\u0000'))!;
      const policy = new KeyEndorsementPolicy(w.chain.ledger.validationParams.get(key));
      assert.deepEqual(policy.listOrgs().sort(), ['MetaverseAMSP', 'MetaverseBMSP']);
    });

    it('X3: an approval endorsed by one metaverse org alone is invalidated at commit', async () => {
      await request();
      await assert.rejects(
        w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1'], { endorsers: ['MetaverseAMSP', 'IoTPlatformMSP'] }),
        /ENDORSEMENT_POLICY_FAILURE.*MetaverseBMSP/,
      );
      const t = await w.chain.evaluate<Transfer>(w.transfer, 'GetTransfer', id.aAdmin, ['tr-1']);
      assert.equal(t.status, 'REQUESTED');
    });

    it('X3: steps out of order are refused', async () => {
      await request();
      await rejects(
        w.chain.submit(w.transfer, 'ApproveTransferAsTarget', id.bAdmin, ['tr-1']),
        'CONFLICT',
        'approveTarget needs SOURCE_APPROVED',
      );
      await rejects(w.chain.submit(w.transfer, 'ConsentTransfer', id.alice, ['tr-1']), 'CONFLICT', 'consent needs TARGET_APPROVED');
      await rejects(w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]), 'CONFLICT', 'execute needs CONSENTED');
    });

    it('X3: each approval needs the right side (wrong MSP), an admin (wrong role), and consent the owner (wrong principal)', async () => {
      await request();
      await rejects(
        w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.bAdmin, ['tr-1']),
        'DENIED',
        'needs an admin of MetaverseAMSP',
      );
      await rejects(
        w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aCreator, ['tr-1']),
        'DENIED',
        'needs an admin of MetaverseAMSP',
      );
      await w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']);
      await rejects(
        w.chain.submit(w.transfer, 'ApproveTransferAsTarget', id.aAdmin, ['tr-1']),
        'DENIED',
        'needs an admin of MetaverseBMSP',
      );
      await w.chain.submit(w.transfer, 'ApproveTransferAsTarget', id.bAdmin, ['tr-1']);
      await rejects(w.chain.submit(w.transfer, 'ConsentTransfer', id.carol, ['tr-1']), 'DENIED', 'only owner alice@IoTPlatformMSP');
      await rejects(
        w.chain.submit(w.transfer, 'ConsentTransfer', { ...id.alice, mspId: 'MetaverseBMSP' }, ['tr-1']),
        'DENIED',
        'only owner',
      );
    });

    it('C2: a second execution is refused (single use); a hash mismatch is refused', async () => {
      await request();
      await approveAll();
      await rejects(
        w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_B]),
        'CONFLICT',
        'does not match the fingerprint',
      );
      await w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]);
      await rejects(w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]), 'CONFLICT', 'already executed');
    });

    it('X3: the request must carry the anchored hash, a target allowed by the thing policy, and share rights', async () => {
      await rejects(request({ dataSha256: SHA_B }), 'CONFLICT', 'does not match the fingerprint anchored');
      await rejects(request({}, id.bUser), 'DENIED', "'share'");
      await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { allowedMetaverses: ['mv-a'], purposes: ['gameplay'] }]);
      await rejects(request(), 'DENIED', 'does not allow metaverse mv-b');
    });

    it('expiry: steps after expiresAt are refused; ExpireTransfer records EXPIRED', async () => {
      await request({ expiresAt: new Date(w.chain.now + 600_000).toISOString() });
      await rejects(w.chain.submit(w.transfer, 'ExpireTransfer', id.monitor, ['tr-1']), 'CONFLICT', 'not yet');
      w.chain.now += 1_000_000; // past expiresAt + 300 s (clock skew bound)
      await rejects(w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']), 'EXPIRED', 'expired at');
      const t = await w.chain.submit<Transfer>(w.transfer, 'ExpireTransfer', id.monitor, ['tr-1']);
      assert.equal(t.status, 'EXPIRED');
      await rejects(w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']), 'CONFLICT', 'EXPIRED, a final state');
    });

    it('a suspended thing cannot be moved even after every approval', async () => {
      await request();
      await approveAll();
      await w.chain.submit(w.thing, 'SuspendThing', id.iotAdmin, ['watch-1', 'stolen']);
      await rejects(w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]), 'DENIED', 'thing watch-1 is SUSPENDED');
    });

    it("X5: execution outside the thing's transmit window is refused", async () => {
      await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, [
        'watch-1',
        { allowedMetaverses: ['mv-a', 'mv-b'], purposes: ['gameplay'], transmitWindow: { fromHour: 0, toHour: 6 } },
      ]);
      await request();
      await approveAll();
      await rejects(
        w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]),
        'DENIED',
        'allows transmission only from 0:00 to 6:00 UTC',
      );
    });

    it('X3/X5: the policy is re-checked at execution: a metaverse withdrawn after the request receives nothing', async () => {
      await request();
      await approveAll();
      await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { allowedMetaverses: ['mv-a'], purposes: ['gameplay'] }]);
      await rejects(
        w.chain.submit(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]),
        'DENIED',
        'policy no longer allows metaverse mv-b',
      );
      const t = await w.chain.evaluate<Transfer>(w.transfer, 'GetTransfer', id.alice, ['tr-1']);
      assert.equal(t.status, 'CONSENTED');
    });

    it('reject by a party ends the transfer; revoke only by requester or owner', async () => {
      await request();
      await rejects(w.chain.submit(w.transfer, 'RevokeTransfer', id.bAdmin, ['tr-1', 'x']), 'DENIED');
      await rejects(w.chain.submit(w.transfer, 'RejectTransfer', id.iotAdmin, ['tr-1', 'x']), 'DENIED');
      const r = await w.chain.submit<Transfer>(w.transfer, 'RejectTransfer', id.bAdmin, ['tr-1', 'capacity']);
      assert.equal(r.status, 'REJECTED');
      await rejects(w.chain.submit(w.transfer, 'RevokeTransfer', id.aAgent, ['tr-1', 'x']), 'CONFLICT', 'final state');
      await request({ transferId: 'tr-2' });
      const v = await w.chain.submit<Transfer>(w.transfer, 'RevokeTransfer', id.aAgent, ['tr-2', 'changed mind']);
      assert.equal(v.status, 'REVOKED');
    });

    it('M1: execution changes two records yet emits exactly one event listing both', async () => {
      await request();
      await approveAll();
      const { txId, stub } = await w.chain.submitTx(w.transfer, 'ExecuteTransfer', id.bAgent, ['tr-1', SHA_A]);
      assert.equal(stub.eventCount, 1);
      const [event] = w.chain.eventsOf(txId);
      const payload = JSON.parse(Buffer.from(event.payload).toString());
      assert.deepEqual(
        payload.changes.map((c: { subjectType: string; action: string }) => `${c.subjectType}:${c.action}`),
        ['transfer:executed', 'data:shared'],
      );
    });

    it('transfers are readable by the parties and auditors only', async () => {
      await request();
      await w.chain.evaluate(w.transfer, 'GetTransfer', id.auditor, ['tr-1']);
      await w.chain.evaluate(w.transfer, 'GetTransfer', id.bUser, ['tr-1']);
      await rejects(w.chain.evaluate(w.transfer, 'GetTransfer', id.dpm1, ['tr-1']), 'DENIED');
    });
  });
});
