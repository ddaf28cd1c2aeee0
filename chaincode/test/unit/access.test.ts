import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { AccessDecision, Grant } from '../../src/access/grant-types';
import { id, rejects, SHA_A, World } from '../support/fixtures';

const DAY = 24 * 3600 * 1000;

describe('access contract', () => {
  let w: World;
  const until = () => new Date(w.chain.now + 10 * DAY).toISOString();
  const check = (who: (typeof id)[keyof typeof id], type: string, rid: string, action: string, purpose = 'analytics') =>
    w.chain.evaluate<AccessDecision>(w.access, 'CheckAccess', who, [type, rid, action, purpose]);

  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.avatars();
    await w.anchor('d-1', SHA_A);
  });

  it('A1: owner, agent and MSP admin are allowed; anyone else is denied by default with a reason', async () => {
    assert.equal((await check(id.alice, 'DATA', 'd-1', 'read')).allowed, true);
    assert.equal((await check(id.thingAgent, 'THING', 'watch-1', 'write')).allowed, true);
    assert.equal((await check(id.iotAdmin, 'THING', 'watch-1', 'delete')).allowed, true);
    const d = await check(id.bUser, 'DATA', 'd-1', 'read');
    assert.equal(d.allowed, false);
    assert.match(d.reason, /no grant gives b-user@MetaverseBMSP \(role user\) 'read' on DATA d-1/);
  });

  it('F4: an autonomous thing writes its own data with its own identity', async () => {
    assert.equal((await check(id.watch, 'THING', 'watch-1', 'write')).allowed, true);
    assert.equal((await check(id.watch, 'THING', 'watch-1', 'share')).allowed, false);
  });

  it('A1/X5: a principal grant allows exactly the action, purpose and principal it names', async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'g1',
        resourceType: 'DATA',
        resourceId: 'd-1',
        grantee: { type: 'PRINCIPAL', id: 'b-user', mspId: 'MetaverseBMSP' },
        actions: ['read'],
        purpose: 'analytics',
        validUntil: until(),
      },
    ]);
    const ok = await check(id.bUser, 'DATA', 'd-1', 'read');
    assert.deepEqual(ok, { allowed: true, reason: "grant g1 gives 'read' on DATA d-1 for 'analytics'", grantId: 'g1' });
    assert.match((await check(id.bUser, 'DATA', 'd-1', 'share')).reason, /does not include 'share'/);
    assert.match((await check(id.bUser, 'DATA', 'd-1', 'read', 'marketing')).reason, /is for purpose 'analytics'/);
    assert.equal((await check(id.bAgent, 'DATA', 'd-1', 'read')).allowed, false, 'wrong principal');
    assert.equal(
      (await check({ mspId: 'MetaverseAMSP', role: 'user', principal: 'b-user' }, 'DATA', 'd-1', 'read')).allowed,
      false,
      'wrong MSP',
    );
  });

  it('A1: MSP and role grants; a thing grant covers its data', async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'g-msp',
        resourceType: 'THING',
        resourceId: 'watch-1',
        grantee: { type: 'MSP', id: 'MetaverseAMSP' },
        actions: ['read'],
        purpose: '*',
        validUntil: until(),
      },
    ]);
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'g-role',
        resourceType: 'DATA',
        resourceId: 'd-1',
        grantee: { type: 'ROLE', id: 'auditor' },
        actions: ['read'],
        purpose: 'audit',
        validUntil: until(),
      },
    ]);
    assert.equal((await check(id.aUser, 'DATA', 'd-1', 'read', 'anything')).grantId, 'g-msp');
    assert.equal((await check(id.auditor, 'DATA', 'd-1', 'read', 'audit')).grantId, 'g-role');
    assert.equal((await check(id.bUser, 'DATA', 'd-1', 'read')).allowed, false);
  });

  it('A1: an expired grant is refused with its expiry; a revoked one with its status', async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'g1',
        resourceType: 'THING',
        resourceId: 'watch-1',
        grantee: { type: 'PRINCIPAL', id: 'b-user', mspId: 'MetaverseBMSP' },
        actions: ['read'],
        purpose: '*',
        validUntil: new Date(w.chain.now + 600_000).toISOString(),
      },
    ]);
    assert.equal((await check(id.bUser, 'THING', 'watch-1', 'read')).allowed, true);
    // rule 2: refused from validUntil − 300 s (clock skew bound), then plainly expired
    w.chain.now += 360_000;
    assert.match((await check(id.bUser, 'THING', 'watch-1', 'read')).reason, /grant g1 expires at .*: refused from/);
    w.chain.now += 360_000;
    assert.match((await check(id.bUser, 'THING', 'watch-1', 'read')).reason, /grant g1 expired at/);
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'g2',
        resourceType: 'THING',
        resourceId: 'watch-1',
        grantee: { type: 'PRINCIPAL', id: 'b-user', mspId: 'MetaverseBMSP' },
        actions: ['read'],
        purpose: '*',
        validUntil: until(),
      },
    ]);
    await rejects(w.chain.submit(w.access, 'RevokeGrant', id.bUser, ['g2', 'x']), 'DENIED');
    const revoked = await w.chain.submit<Grant>(w.access, 'RevokeGrant', id.alice, ['g2', 'no longer needed']);
    assert.equal(revoked.status, 'REVOKED');
    assert.match((await check(id.bUser, 'THING', 'watch-1', 'read')).reason, /grant g2 is REVOKED/);
  });

  it('A1: a suspended thing denies every access, even its owner and valid grants', async () => {
    await w.chain.submit(w.thing, 'SuspendThing', id.alice, ['watch-1', 'lost']);
    const d = await check(id.alice, 'DATA', 'd-1', 'read');
    assert.equal(d.allowed, false);
    assert.match(d.reason, /thing watch-1 is SUSPENDED \(lost\)/);
  });

  it('A2: a user-level owner may use but not grant; a non-controller creator may not grant', async () => {
    const g = {
      grantId: 'g1',
      resourceType: 'THING',
      resourceId: 'watch-1',
      grantee: { type: 'MSP', id: 'MetaverseBMSP' },
      actions: ['read'],
      purpose: '*',
      validUntil: until(),
    };
    await rejects(w.chain.submit(w.access, 'CreateGrant', id.aliceAsUser, [g]), 'DENIED', 'needs role creator, admin or an agent role');
    await rejects(w.chain.submit(w.access, 'CreateGrant', id.carol, [g]), 'DENIED', 'does not control THING watch-1');
    assert.equal((await check(id.aliceAsUser, 'THING', 'watch-1', 'read')).allowed, true);
  });

  it('grants are validated: expiry in the future and bounded, principal grants name an MSP', async () => {
    const g = {
      grantId: 'g1',
      resourceType: 'THING',
      resourceId: 'watch-1',
      grantee: { type: 'PRINCIPAL', id: 'b-user' },
      actions: ['read'],
      purpose: '*',
      validUntil: until(),
    };
    await rejects(w.chain.submit(w.access, 'CreateGrant', id.alice, [g]), 'INVALID', 'input.grantee.mspId: is required');
    await rejects(
      w.chain.submit(w.access, 'CreateGrant', id.alice, [
        { ...g, grantee: { type: 'MSP', id: 'X' }, validUntil: new Date(w.chain.now - 1000).toISOString() },
      ]),
      'INVALID',
      'validUntil must be after',
    );
    await rejects(
      w.chain.submit(w.access, 'CreateGrant', id.alice, [
        { ...g, grantee: { type: 'MSP', id: 'X' }, validUntil: new Date(w.chain.now + 400 * DAY).toISOString() },
      ]),
      'INVALID',
      '366 days',
    );
    await rejects(
      w.chain.submit(w.access, 'CreateGrant', id.alice, [{ ...g, grantee: { type: 'MSP', id: 'X' }, actions: ['steal'] }]),
      'INVALID',
      'actions[0]',
    );
  });

  it('grants are readable by grantor, grantee and auditors, listable by controllers', async () => {
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'g1',
        resourceType: 'THING',
        resourceId: 'watch-1',
        grantee: { type: 'PRINCIPAL', id: 'b-user', mspId: 'MetaverseBMSP' },
        actions: ['read'],
        purpose: '*',
        validUntil: until(),
      },
    ]);
    await w.chain.evaluate(w.access, 'GetGrant', id.bUser, ['g1']);
    await w.chain.evaluate(w.access, 'GetGrant', id.auditor, ['g1']);
    await rejects(w.chain.evaluate(w.access, 'GetGrant', id.aUser, ['g1']), 'DENIED');
    const list = await w.chain.evaluate<Grant[]>(w.access, 'ListGrants', id.alice, ['THING', 'watch-1']);
    assert.equal(list.length, 1);
    await rejects(w.chain.evaluate(w.access, 'ListGrants', id.bUser, ['THING', 'watch-1']), 'DENIED');
  });

  it('A1: write functions enforce the same rule — a grantee with write anchors data, without it is refused', async () => {
    await rejects(w.anchor('d-2', SHA_A, {}, id.bAgent), 'DENIED', "'write' on THING watch-1");
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [
      {
        grantId: 'gw',
        resourceType: 'THING',
        resourceId: 'watch-1',
        grantee: { type: 'PRINCIPAL', id: 'b-agent', mspId: 'MetaverseBMSP' },
        actions: ['write'],
        purpose: '*',
        validUntil: until(),
      },
    ]);
    await w.anchor('d-2', SHA_A, {}, id.bAgent);
  });
});
