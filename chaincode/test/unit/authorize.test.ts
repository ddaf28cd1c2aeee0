import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Action, authorize, POLICIES } from '../../src/auth/authorize';
import type { Caller } from '../../src/auth/identity';
import { hasLevel } from '../../src/auth/rights';
import type { Thing } from '../../src/thing/thing-types';
import type { Transfer } from '../../src/transfer/transfer-types';

/** The actions the chaincode decided before the policy was split by domain. */
const ACTIONS = [
  'platform.register',
  'platform.manage',
  'platform.resume',
  'federation.propose',
  'federation.accept',
  'federation.revoke',
  'registry.read',
  'thing.register',
  'thing.manage',
  'thing.suspend',
  'thing.resume',
  'thing.revoke',
  'avatar.map',
  'avatar.approve',
  'avatar.reject',
  'avatar.manage',
  'avatar.resume',
  'migration.manage',
  'migration.start',
  'grant.manage',
  'grant.read',
  'grant.list',
  'resource.access',
  'data.read',
  'pii.read',
  'pii.write',
  'pii.purge',
  'data.expire',
  'data.placement',
  'transfer.request',
  'transfer.approveSource',
  'transfer.approveTarget',
  'transfer.consent',
  'transfer.execute',
  'transfer.reject',
  'transfer.revoke',
  'transfer.expire',
  'transfer.read',
  'dpm.submit',
  'dpm.process',
  'dpm.provider',
  'dpm.read',
  'dpm.list',
  'alert.raise',
  'alert.resolve',
  'alert.read',
  'audit.query',
  'bench.put',
  'governance.propose',
  'governance.approve',
  'governance.read',
  'identity.bind',
  'identity.rebind',
] as const satisfies readonly Action[];

/** Domain of each action prefix (the table beside that domain's contract). */
const DOMAIN_OF: Record<string, keyof typeof POLICIES> = {
  platform: 'platform',
  federation: 'platform',
  registry: 'platform',
  thing: 'thing',
  avatar: 'avatar',
  migration: 'avatar',
  grant: 'access',
  resource: 'access',
  data: 'data',
  pii: 'data',
  transfer: 'transfer',
  dpm: 'dpm',
  alert: 'alert',
  audit: 'audit',
  bench: 'bench',
  governance: 'governance',
  identity: 'identity',
};

const caller = (role: Caller['role'], mspId = 'IoTPlatformMSP'): Caller => ({ mspId, role, principal: 'p', id: 'x' });

describe('authorization by domain (policy tables)', () => {
  const tables = Object.entries(POLICIES).map(([domain, table]) => [domain, Object.keys(table)] as const);

  it('every action has exactly one rule, in its domain table, and no table lists an action nobody asked for', () => {
    const listed = tables.flatMap(([, actions]) => actions);
    assert.deepEqual([...listed].sort(), [...ACTIONS].sort());
    assert.equal(new Set(listed).size, listed.length, 'an action listed by two tables would be decided by whichever spreads last');
    for (const [domain, actions] of tables) {
      for (const action of actions) assert.equal(DOMAIN_OF[action.split('.')[0]], domain, `${action} is in the ${domain} table`);
    }
  });

  it('A1: a caller without a role is refused every action with the same reason', () => {
    for (const action of ACTIONS) {
      const d = authorize(caller(null), action, {} as never);
      assert.equal(d.allowed, false);
      assert.equal(d.reason, "the certificate of IoTPlatformMSP caller has no known 'role' attribute; ask your CA admin to issue one");
    }
  });

  it('A1: deny by default — names no table lists, including those every object inherits, are not actions', () => {
    for (const name of ['no.such.action', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', '']) {
      assert.deepEqual(authorize(caller('admin'), name as never), { allowed: false, reason: `action ${name} is not defined` });
    }
  });

  it('actions without facts need no facts argument', () => {
    assert.equal(authorize(caller('auditor'), 'registry.read').allowed, true);
    assert.equal(authorize(caller('monitor'), 'alert.raise').allowed, true);
    assert.deepEqual(authorize(caller('user'), 'audit.query'), {
      allowed: false,
      reason: 'reading the audit trail needs role auditor, monitor or admin; caller is p@IoTPlatformMSP (role user)',
    });
    assert.deepEqual(authorize(caller('creator'), 'alert.read'), authorize(caller('creator'), 'audit.query'));
  });

  it('rules shared by two actions keep each action’s own reason', () => {
    const platform = { platformId: 'mv-a', mspId: 'MetaverseAMSP', type: 'METAVERSE' } as never;
    const peer = { platformId: 'mv-b', mspId: 'MetaverseBMSP', type: 'METAVERSE' } as never;
    assert.match(
      authorize(caller('admin'), 'federation.propose', { platform, peer }).reason,
      /^proposing federation for mv-a needs an admin/,
    );
    assert.match(
      authorize(caller('admin'), 'federation.accept', { platform, peer }).reason,
      /^accepting federation for mv-a needs an admin/,
    );
    const transfer = { transferId: 't1', sourceMspId: 'MetaverseAMSP', targetMspId: 'IoTPlatformMSP' } as Transfer;
    assert.match(
      authorize(caller('admin'), 'transfer.approveSource', { transfer }).reason,
      /^approving transfer t1 as source needs an admin of MetaverseAMSP/,
    );
    assert.equal(
      authorize(caller('admin'), 'transfer.approveTarget', { transfer }).reason,
      "admin of the target platform's MSP IoTPlatformMSP",
    );
    assert.match(authorize(caller('user'), 'alert.resolve').reason, /^resolving alerts needs role monitor/);
  });

  it('facts are typed per action (checked by tsc, not run)', () => {
    const typeOnly = (thing: Thing, transfer: Transfer): void => {
      const c = caller('admin');
      authorize(c, 'transfer.execute', { transfer, thing, parties: { thing, avatars: [], platforms: [] }, now: 0 });
      // @ts-expect-error transfer.execute needs the thing and the time
      authorize(c, 'transfer.execute', { transfer });
      // @ts-expect-error transfer.execute is decided on a transfer, not a job
      authorize(c, 'transfer.execute', { job: transfer, thing, now: 0 });
      // @ts-expect-error an action that needs facts cannot be called without them
      authorize(c, 'thing.manage');
      // @ts-expect-error an action without facts takes none
      authorize(c, 'registry.read', { thing });
      // @ts-expect-error not an action
      authorize(c, 'thing.delete', { thing });
    };
    assert.equal(typeof typeOnly, 'function');
  });
});

describe('authorization module', () => {
  const caller = (role: Caller['role']): Caller => ({ mspId: 'IoTPlatformMSP', role, principal: 'p', id: 'x' });
  it('A2: rights are levelled user < creator < admin', () => {
    assert.equal(hasLevel(caller('user'), 'creator'), false);
    assert.equal(hasLevel(caller('creator'), 'creator'), true);
    assert.equal(hasLevel(caller('admin'), 'creator'), true);
    assert.equal(hasLevel(caller('auditor'), 'user'), false);
  });
  it('A1: deny by default — no role, or an action it does not know', () => {
    assert.match(authorize(caller(null), 'registry.read').reason, /no known 'role' attribute/);
    assert.equal(authorize(caller('admin'), 'no.such.action' as never).allowed, false);
  });
});
