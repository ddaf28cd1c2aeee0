import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Avatar, Migration } from '../../src/avatar/avatar-types';
import { id, rejects, SHA_A, World } from '../support/fixtures';

describe('avatar contract', () => {
  let w: World;
  beforeEach(async () => {
    w = new World();
    await w.platforms();
    await w.watch();
    await w.avatars();
  });

  it('X1: one thing maps into two metaverses and twice into one', async () => {
    const all = await w.chain.evaluate<Avatar[]>(w.avatar, 'ListAvatarsOfThing', id.bob, ['watch-1', '']);
    assert.deepEqual(all.map((a) => a.avatarId).sort(), ['av-a1', 'av-a2', 'av-b1']);
    const inA = await w.chain.evaluate<Avatar[]>(w.avatar, 'ListAvatarsOfThing', id.bob, ['watch-1', 'mv-a']);
    assert.equal(inA.length, 2);
    assert.equal(inA[0].mspId, 'MetaverseAMSP');
  });

  it('X1: mapping needs the metaverse MSP (wrong MSP), a mapping role (wrong role) and the thing policy', async () => {
    const input = { avatarId: 'av-x', thingId: 'watch-1', metaverseId: 'mv-a', mode: 'ACTIVE', capabilityLevel: 1 };
    await rejects(w.chain.submit(w.avatar, 'MapAvatar', id.bAdmin, [input]), 'DENIED', 'belongs to MetaverseAMSP');
    await rejects(w.chain.submit(w.avatar, 'MapAvatar', id.aUser, [input]), 'DENIED', 'needs role admin, creator or avatar-agent');
    await w.chain.submit(w.thing, 'SetThingPolicy', id.alice, ['watch-1', { allowedMetaverses: ['mv-b'] }]);
    await rejects(w.chain.submit(w.avatar, 'MapAvatar', id.aAdmin, [input]), 'DENIED', 'does not allow metaverse mv-a');
  });

  it('X1: a suspended thing cannot be mapped; capability cannot exceed the metaverse level', async () => {
    await rejects(
      w.chain.submit(w.avatar, 'MapAvatar', id.bAdmin, [
        { avatarId: 'av-x', thingId: 'watch-1', metaverseId: 'mv-b', mode: 'ACTIVE', capabilityLevel: 3 },
      ]),
      'CONFLICT',
      'exceeds',
    );
    await w.chain.submit(w.thing, 'SuspendThing', id.alice, ['watch-1', 'lost']);
    await rejects(
      w.chain.submit(w.avatar, 'MapAvatar', id.bAdmin, [
        { avatarId: 'av-x', thingId: 'watch-1', metaverseId: 'mv-b', mode: 'ACTIVE', capabilityLevel: 1 },
      ]),
      'DENIED',
      'is SUSPENDED',
    );
  });

  it('unmap by the owner, the avatar agent or the metaverse admin; not by an agent of another avatar', async () => {
    await rejects(w.chain.submit(w.avatar, 'UnmapAvatar', id.bAgent, ['av-a1', 'x']), 'DENIED');
    const a = await w.chain.submit<Avatar>(w.avatar, 'UnmapAvatar', id.aAgent, ['av-a1', 'moved']);
    assert.equal(a.status, 'UNMAPPED');
    const inA = await w.chain.evaluate<Avatar[]>(w.avatar, 'ListAvatarsOfThing', id.bob, ['watch-1', 'mv-a']);
    assert.deepEqual(
      inA.map((x) => x.avatarId),
      ['av-a2'],
    );
    await rejects(w.chain.submit(w.avatar, 'UnmapAvatar', id.alice, ['av-a1', 'x']), 'CONFLICT', 'already UNMAPPED');
  });

  it('suspend by a controller, resume only by the metaverse admin', async () => {
    await w.chain.submit(w.avatar, 'SuspendAvatar', id.alice, ['av-b1', 'odd']);
    await rejects(w.chain.submit(w.avatar, 'ResumeAvatar', id.alice, ['av-b1']), 'DENIED', 'needs an admin of MetaverseBMSP');
    await w.chain.submit(w.avatar, 'ResumeAvatar', id.bAdmin, ['av-b1']);
  });

  describe('migration within one metaverse (X2)', () => {
    beforeEach(async () => {
      await w.anchor('d-1', SHA_A); // CONFIDENTIAL (level 2)
    });

    it('X2: target capability below the data classification is refused', async () => {
      await rejects(
        w.chain.submit(w.avatar, 'StartMigration', id.aAgent, [
          { migrationId: 'm1', sourceAvatarId: 'av-a1', targetAvatarId: 'av-a2', dataId: 'd-1', backupRef: 'bk-1' },
        ]),
        'DENIED',
        'capability level 1',
      );
    });

    it('X2: capable target, backup recorded, completion bound to the data hash; rollback after completion refused', async () => {
      await w.chain.submit(w.avatar, 'MapAvatar', id.aAdmin, [
        { avatarId: 'av-a3', thingId: 'watch-1', metaverseId: 'mv-a', mode: 'PASSIVE', capabilityLevel: 2 },
      ]);
      await w.chain.submit(w.avatar, 'ApproveMapping', id.alice, ['av-a3']);
      const m = await w.chain.submit<Migration>(w.avatar, 'StartMigration', id.aAgent, [
        { migrationId: 'm1', sourceAvatarId: 'av-a1', targetAvatarId: 'av-a3', dataId: 'd-1', backupRef: 'bk-1' },
      ]);
      assert.equal(m.status, 'IN_PROGRESS');
      await rejects(w.chain.submit(w.avatar, 'CompleteMigration', id.aAgent, ['m1', 'c'.repeat(64)]), 'CONFLICT', 'does not match');
      const done = await w.chain.submit<Migration>(w.avatar, 'CompleteMigration', id.aAgent, ['m1', SHA_A]);
      assert.equal(done.status, 'COMPLETED');
      await rejects(w.chain.submit(w.avatar, 'RollbackMigration', id.aAgent, ['m1', 'x']), 'CONFLICT', 'already COMPLETED');
    });

    it('X2: rollback records recovery; migration across metaverses is refused; outsiders are refused', async () => {
      await w.chain.submit(w.avatar, 'MapAvatar', id.aAdmin, [
        { avatarId: 'av-a3', thingId: 'watch-1', metaverseId: 'mv-a', mode: 'PASSIVE', capabilityLevel: 3 },
      ]);
      await w.chain.submit(w.avatar, 'ApproveMapping', id.alice, ['av-a3']);
      await rejects(
        w.chain.submit(w.avatar, 'StartMigration', id.aAgent, [
          { migrationId: 'm2', sourceAvatarId: 'av-a1', targetAvatarId: 'av-b1', dataId: 'd-1', backupRef: 'bk' },
        ]),
        'CONFLICT',
        'within one metaverse',
      );
      await rejects(
        w.chain.submit(w.avatar, 'StartMigration', id.bAgent, [
          { migrationId: 'm2', sourceAvatarId: 'av-a1', targetAvatarId: 'av-a3', dataId: 'd-1', backupRef: 'bk' },
        ]),
        'DENIED',
      );
      await w.chain.submit(w.avatar, 'StartMigration', id.alice, [
        { migrationId: 'm2', sourceAvatarId: 'av-a1', targetAvatarId: 'av-a3', dataId: 'd-1', backupRef: 'bk-2' },
      ]);
      const rb = await w.chain.submit<Migration>(w.avatar, 'RollbackMigration', id.alice, ['m2', 'connection lost']);
      assert.equal(rb.status, 'ROLLED_BACK');
      assert.equal(rb.backupRef, 'bk-2');
    });
  });
});
