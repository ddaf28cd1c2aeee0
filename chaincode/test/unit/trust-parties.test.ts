/**
 * Rule 6 (issue "Chaincode trust rules"): double verification needs two different organisations
 * and the owner's own consent. Each attack is a legitimate member acting alone.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Federation, Platform } from '../../src/platform/platform-types';
import type { Thing } from '../../src/thing/thing-types';
import type { Transfer } from '../../src/transfer/transfer-types';
import { id, rejects, SHA_A, World } from '../support/fixtures';

const HOUR = 3600 * 1000;
const key = (type: string, ...attrs: string[]) => `\u0000${type}\u0000${attrs.map((a) => `${a}\u0000`).join('')}`;

function snapshot(w: World): string {
  const state = [...w.chain.ledger.state.entries()].map(([k, v]) => [k, Buffer.from(v).toString('base64')]);
  return JSON.stringify({ state, events: w.chain.ledger.events.length });
}

/** Write a record straight into committed state: a ledger written before rule 6 existed. */
function legacy(w: World, k: string, record: unknown): void {
  w.chain.ledger.state.set(k, Buffer.from(JSON.stringify(record)));
}

describe('rule 6: distinct parties', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
  });

  describe('one ACTIVE metaverse platform per MSP', () => {
    it('X3/R5: an MSP that runs an ACTIVE metaverse may not register a second one (DENIED, nothing written)', async () => {
      const before = snapshot(w);
      await rejects(
        w.chain.submit(w.platform, 'RegisterPlatform', id.aAdmin, [
          { platformId: 'mv-a2', type: 'METAVERSE', name: 'A2', capabilityLevel: 3 },
        ]),
        'DENIED',
        'MetaverseAMSP already runs metaverse platform mv-a (ACTIVE); an organisation runs one metaverse platform',
      );
      assert.equal(snapshot(w), before);
      // other platform types are not limited
      await w.chain.submit(w.platform, 'RegisterPlatform', id.aAdmin, [
        { platformId: 'st-a', type: 'STORAGE', name: 'S', capabilityLevel: 3 },
      ]);
    });

    it('R5: a suspended metaverse may be replaced; it is then not resumed while the replacement is ACTIVE', async () => {
      await w.chain.submit(w.platform, 'SuspendPlatform', id.aAdmin, ['mv-a', 'replaced']);
      const p = await w.chain.submit<Platform>(w.platform, 'RegisterPlatform', id.aAdmin, [
        { platformId: 'mv-a2', type: 'METAVERSE', name: 'A2', capabilityLevel: 3 },
      ]);
      assert.equal(p.status, 'ACTIVE');
      await rejects(w.chain.submit(w.platform, 'ResumePlatform', id.aAdmin, ['mv-a']), 'DENIED', 'already runs metaverse platform mv-a2');
      await w.chain.submit(w.platform, 'SuspendPlatform', id.aAdmin, ['mv-a2', 'back to the old one']);
      const back = await w.chain.submit<Platform>(w.platform, 'ResumePlatform', id.aAdmin, ['mv-a']);
      assert.equal(back.status, 'ACTIVE');
      await rejects(w.chain.submit(w.platform, 'ResumePlatform', id.aAdmin, ['mv-a2']), 'DENIED', 'already runs metaverse platform mv-a');
    });
  });

  describe('two metaverses of one MSP (state from before the rule)', () => {
    beforeEach(() => {
      const a2: Platform = {
        docType: 'platform',
        platformId: 'mv-a2',
        type: 'METAVERSE',
        name: 'A2',
        mspId: 'MetaverseAMSP',
        capabilityLevel: 3,
        status: 'ACTIVE',
        registeredBy: { mspId: 'MetaverseAMSP', principal: 'a-admin', role: 'admin' },
        createdAt: '2025-03-01T09:00:00.000Z',
        updatedAt: '2025-03-01T09:00:00.000Z',
      } as Platform;
      legacy(w, key('platform', 'mv-a2'), a2);
    });

    it('X3/R5: ProposeFederation between two platforms of one MSP is refused DENIED; nothing written', async () => {
      const before = snapshot(w);
      await rejects(
        w.chain.submit(w.platform, 'ProposeFederation', id.aAdmin, ['mv-a', 'mv-a2', 'self']),
        'DENIED',
        'federation needs two different organisations (double verification, X3): mv-a and mv-a2 both belong to MetaverseAMSP',
      );
      assert.equal(snapshot(w), before);
      const ok = await w.chain.submit<Federation>(w.platform, 'ProposeFederation', id.aAdmin, ['mv-a', 'mv-b', 'games']);
      assert.equal(ok.status, 'PROPOSED');
    });

    it('X3/R5: AcceptFederation of a same-MSP proposal is refused DENIED', async () => {
      legacy(w, key('federation', 'mv-a', 'mv-a2'), {
        docType: 'federation',
        federationId: 'mv-a~mv-a2',
        proposerPlatformId: 'mv-a',
        proposerMspId: 'MetaverseAMSP',
        accepterPlatformId: 'mv-a2',
        accepterMspId: 'MetaverseAMSP',
        terms: 'self',
        status: 'PROPOSED',
        proposedBy: { mspId: 'MetaverseAMSP', principal: 'a-admin', role: 'admin' },
        createdAt: '2025-03-01T09:00:00.000Z',
        updatedAt: '2025-03-01T09:00:00.000Z',
      });
      const before = snapshot(w);
      await rejects(w.chain.submit(w.platform, 'AcceptFederation', id.aAdmin, ['mv-a2', 'mv-a']), 'DENIED', 'both belong to MetaverseAMSP');
      assert.equal(snapshot(w), before);
    });

    it('X3: a transfer between two metaverses of one MSP is refused at request and at each approval', async () => {
      await w.federate();
      await w.watch({
        policy: { storage: 'ANY', allowedMetaverses: ['mv-a', 'mv-a2', 'mv-b'], purposes: ['gameplay'], encryptionRequired: true },
      });
      await w.avatars();
      await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' });
      legacy(w, key('federation', 'mv-a', 'mv-a2'), {
        docType: 'federation',
        federationId: 'mv-a~mv-a2',
        proposerPlatformId: 'mv-a',
        proposerMspId: 'MetaverseAMSP',
        accepterPlatformId: 'mv-a2',
        accepterMspId: 'MetaverseAMSP',
        terms: 'self',
        status: 'ACTIVE',
      });
      const input = {
        transferId: 'tr-self',
        kind: 'MOVE',
        sourceAvatarId: 'av-a1',
        targetMetaverseId: 'mv-a2',
        dataId: 'd-1',
        dataSha256: SHA_A,
        purpose: 'gameplay',
        expiresAt: new Date(w.chain.now + 2 * HOUR).toISOString(),
      };
      const before = snapshot(w);
      await rejects(
        w.chain.submit(w.transfer, 'RequestTransfer', id.aAdmin, [input]),
        'DENIED',
        'a transfer needs two different organisations (double verification, X3): mv-a and mv-a2 both belong to MetaverseAMSP',
      );
      assert.equal(snapshot(w), before);
      const t = await w.chain.submit<Transfer>(w.transfer, 'RequestTransfer', id.aAdmin, [
        { ...input, transferId: 'tr-ok', targetMetaverseId: 'mv-b' },
      ]);
      legacy(w, key('transfer', 'tr-self'), { ...t, transferId: 'tr-self', targetMetaverseId: 'mv-a2', targetMspId: 'MetaverseAMSP' });
      for (const fn of ['ApproveTransferAsSource', 'ApproveTransferAsTarget'])
        await rejects(
          w.chain.submit(w.transfer, fn, id.aAdmin, ['tr-self']),
          'DENIED',
          'transfer tr-self needs two different organisations',
        );
      await w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-ok']);
    });
  });

  describe("the owner's consent", () => {
    beforeEach(async () => {
      await w.federate();
      await w.watch();
      await w.avatars();
      await w.anchor('d-1', SHA_A, { avatarId: 'av-a1' });
    });
    const input = () => ({
      transferId: 'tr-1',
      kind: 'MOVE',
      sourceAvatarId: 'av-a1',
      targetMetaverseId: 'mv-b',
      dataId: 'd-1',
      dataSha256: SHA_A,
      purpose: 'gameplay',
      expiresAt: new Date(w.chain.now + 2 * HOUR).toISOString(),
    });

    it('X3: the requester cannot name the owner; the owner bound to the thing at registration consents, nobody else (same name in another MSP refused)', async () => {
      await rejects(
        w.chain.submit(w.transfer, 'RequestTransfer', id.aAgent, [{ ...input(), owner: 'a-agent', ownerMspId: 'MetaverseAMSP' }]),
        'INVALID',
        'owner',
      );
      const t = await w.chain.submit<Transfer>(w.transfer, 'RequestTransfer', id.aAgent, [input()]);
      assert.equal(t.owner, 'alice');
      assert.equal(t.ownerMspId, 'IoTPlatformMSP');
      await w.chain.submit(w.transfer, 'ApproveTransferAsSource', id.aAdmin, ['tr-1']);
      await w.chain.submit(w.transfer, 'ApproveTransferAsTarget', id.bAdmin, ['tr-1']);
      const before = snapshot(w);
      for (const who of [
        { mspId: 'MetaverseAMSP', role: 'admin', principal: 'alice' },
        { mspId: 'MetaverseBMSP', role: 'user', principal: 'alice' },
        id.aAgent,
        id.iotAdmin,
      ])
        await rejects(
          w.chain.submit(w.transfer, 'ConsentTransfer', who, ['tr-1']),
          'DENIED',
          'only owner alice@IoTPlatformMSP may consent',
        );
      assert.equal(snapshot(w), before);
      const c = await w.chain.submit<Transfer>(w.transfer, 'ConsentTransfer', id.aliceAsUser, ['tr-1']);
      assert.equal(c.status, 'CONSENTED');
    });
  });

  describe('a thing agent registers things only for known owners of its own MSP', () => {
    const thing = (thingId: string, owner?: string) => ({
      thingId,
      platformId: 'iot-1',
      kind: 'SENSOR',
      accessMode: 'AUTONOMOUS',
      publicKey: 'pk',
      classification: 'PUBLIC',
      ...(owner ? { owner } : {}),
    });
    beforeEach(async () => {
      await w.watch(); // alice (creator of IoTPlatformMSP) registered her own thing: she is a known owner there
    });

    it('A2: an owner unknown in the MSP is refused DENIED, nothing written; a known owner or the agent itself is accepted and bound to the MSP', async () => {
      const before = snapshot(w);
      await rejects(
        w.chain.submit(w.thing, 'RegisterThing', id.thingAgent, [thing('t-m', 'mallory')]),
        'DENIED',
        'a thing agent registers things only for owners of its own organisation known on the ledger; mallory owns no thing in IoTPlatformMSP',
      );
      assert.equal(snapshot(w), before);
      const forAlice = await w.chain.submit<Thing>(w.thing, 'RegisterThing', id.thingAgent, [thing('t-a', 'alice')]);
      assert.equal(forAlice.owner, 'alice');
      assert.equal(forAlice.mspId, 'IoTPlatformMSP');
      const own = await w.chain.submit<Thing>(w.thing, 'RegisterThing', id.thingAgent, [thing('t-self')]);
      assert.equal(own.owner, 'agent-t1');
    });

    it("A2: an agent of another MSP cannot register on this MSP's IoT platform, even naming a known owner", async () => {
      const foreignAgent = { mspId: 'MetaverseAMSP', role: 'thing-agent', principal: 'a-thing-agent' };
      // Trust rule 1: by default MetaverseAMSP may not issue thing-agent at all.
      await rejects(
        w.chain.submit(w.thing, 'RegisterThing', foreignAgent, [thing('t-f', 'alice')]),
        'DENIED',
        'role thing-agent from MetaverseAMSP is not recognised',
      );
      // Once the majority lets MetaverseAMSP issue thing agents, the IoT platform still belongs to IoTPlatformMSP.
      await w.chain.submit(w.governance, 'ProposeRoleIssuers', id.aAdmin, [
        { proposalId: 'p-ta', issuers: { 'thing-agent': ['IoTPlatformMSP', 'MetaverseAMSP'] } },
      ]);
      await w.chain.submit(w.governance, 'ApproveRoleIssuers', id.bAdmin, ['p-ta']);
      await rejects(w.chain.submit(w.thing, 'RegisterThing', foreignAgent, [thing('t-f', 'alice')]), 'DENIED', 'belongs to IoTPlatformMSP');
    });
  });
});
