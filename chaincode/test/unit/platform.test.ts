import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Federation, Platform } from '../../src/platform/platform-types';
import { id, rejects, World } from '../support/fixtures';

describe('platform contract', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
  });

  it('R5/A2: an admin registers a platform bound to its own MSP', async () => {
    const p = await w.chain.evaluate<Platform>(w.platform, 'GetPlatform', id.bob, ['mv-a']);
    assert.equal(p.mspId, 'MetaverseAMSP');
    assert.equal(p.status, 'ACTIVE');
  });

  it('A2: a creator may not register a platform (wrong role)', async () => {
    await rejects(
      w.chain.submit(w.platform, 'RegisterPlatform', id.alice, [{ platformId: 'x', type: 'IOT', name: 'x', capabilityLevel: 1 }]),
      'DENIED',
      'needs role admin',
    );
  });

  it('R5: a metaverse platform needs a peer organisation (DPMProviderMSP refused)', async () => {
    await rejects(
      w.chain.submit(w.platform, 'RegisterPlatform', id.dpmAdmin, [
        { platformId: 'mv-x', type: 'METAVERSE', name: 'x', capabilityLevel: 1 },
      ]),
      'DENIED',
      'runs no peer',
    );
  });

  it('a duplicate id, an unknown field or a control character is refused', async () => {
    await rejects(
      w.chain.submit(w.platform, 'RegisterPlatform', id.aAdmin, [{ platformId: 'mv-a', type: 'METAVERSE', name: 'x', capabilityLevel: 1 }]),
      'CONFLICT',
      'already exists',
    );
    await rejects(
      w.chain.submit(w.platform, 'RegisterPlatform', id.aAdmin, [
        { platformId: 'p', type: 'METAVERSE', name: 'x', capabilityLevel: 1, colour: 'red' },
      ]),
      'INVALID',
      'input: unknown field "colour"',
    );
    await rejects(
      w.chain.submit(w.platform, 'RegisterPlatform', id.aAdmin, [
        { platformId: 'p\u0000q', type: 'METAVERSE', name: 'x', capabilityLevel: 1 },
      ]),
      'INVALID',
      /^INVALID: input\.platformId: .*U\+0000/,
    );
  });

  it('A1: only an admin of the owning MSP updates or suspends a platform (wrong MSP refused)', async () => {
    await rejects(
      w.chain.submit(w.platform, 'UpdatePlatform', id.bAdmin, ['mv-a', { capabilityLevel: 1 }]),
      'DENIED',
      'belongs to MetaverseAMSP',
    );
    await rejects(w.chain.submit(w.platform, 'SuspendPlatform', id.aCreator, ['mv-a', 'x']), 'DENIED');
    const p = await w.chain.submit<Platform>(w.platform, 'UpdatePlatform', id.aAdmin, ['mv-a', { capabilityLevel: 2 }]);
    assert.equal(p.capabilityLevel, 2);
    await w.chain.submit(w.platform, 'SuspendPlatform', id.aAdmin, ['mv-a', 'maintenance']);
    await rejects(w.chain.submit(w.platform, 'SuspendPlatform', id.aAdmin, ['mv-a', 'again']), 'CONFLICT', 'already SUSPENDED');
    await w.chain.submit(w.platform, 'ResumePlatform', id.aAdmin, ['mv-a']);
  });

  it('R5/X3: federation needs both sides; the federation key then needs both orgs to endorse', async () => {
    const proposed = await w.chain.submit<Federation>(w.platform, 'ProposeFederation', id.aAdmin, ['mv-a', 'mv-b', 'games']);
    assert.equal(proposed.status, 'PROPOSED');
    await rejects(w.chain.submit(w.platform, 'AcceptFederation', id.aAdmin, ['mv-a', 'mv-b']), 'CONFLICT', 'not by its proposer');
    await rejects(w.chain.submit(w.platform, 'AcceptFederation', id.aAdmin, ['mv-b', 'mv-a']), 'DENIED', 'needs an admin of MetaverseBMSP');
    // endorsed by MetaverseBMSP alone: the key-level policy names both orgs, so validation fails
    await assert.rejects(
      w.chain.submit(w.platform, 'AcceptFederation', id.bAdmin, ['mv-b', 'mv-a'], { endorsers: ['MetaverseBMSP', 'IoTPlatformMSP'] }),
      /ENDORSEMENT_POLICY_FAILURE.*MetaverseAMSP/,
    );
    const active = await w.chain.submit<Federation>(w.platform, 'AcceptFederation', id.bAdmin, ['mv-b', 'mv-a'], {
      endorsers: ['MetaverseAMSP', 'MetaverseBMSP'],
    });
    assert.equal(active.status, 'ACTIVE');
    await rejects(w.chain.submit(w.platform, 'RevokeFederation', id.iotAdmin, ['mv-a', 'mv-b', 'x']), 'DENIED');
    const revoked = await w.chain.submit<Federation>(w.platform, 'RevokeFederation', id.bAdmin, ['mv-a', 'mv-b', 'ended']);
    assert.equal(revoked.status, 'REVOKED');
  });

  it('R5: federation is only between active metaverse platforms', async () => {
    await rejects(w.chain.submit(w.platform, 'ProposeFederation', id.aAdmin, ['mv-a', 'dpm-1', 'x']), 'CONFLICT', 'not METAVERSE');
    await rejects(w.chain.submit(w.platform, 'ProposeFederation', id.aAdmin, ['mv-a', 'mv-a', 'x']), 'CONFLICT', 'itself');
  });

  it('M1: each registration wrote one activity record and exactly one event', async () => {
    // (rule 6: MetaverseAMSP already runs mv-a; IoTPlatformMSP runs no metaverse yet)
    const { txId, stub } = await w.chain.submitTx(w.platform, 'RegisterPlatform', id.iotAdmin, [
      { platformId: 'mv-c', type: 'METAVERSE', name: 'C', capabilityLevel: 1 },
    ]);
    assert.equal(stub.eventCount, 1);
    const events = w.chain.eventsOf(txId);
    assert.equal(events.length, 1);
    const payload = JSON.parse(Buffer.from(events[0].payload).toString());
    assert.equal(payload.changes[0].subjectId, 'mv-c');
    assert.equal(payload.fn, 'platform:RegisterPlatform');
  });

  it('A1: an identity without a role attribute is refused even for reads', async () => {
    await rejects(w.chain.evaluate(w.platform, 'GetPlatform', id.noRole, ['mv-a']), 'DENIED', "no known 'role'");
  });
});
