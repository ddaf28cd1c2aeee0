/**
 * X7 retention of stored objects with a ledger double: objects past their thing's retentionDays
 * are expired on the ledger (data:ExpireData as the data organisation's storage agent) and only
 * then erased with their keys; objects not due — by the index or by the ledger's own check — stay;
 * a deletion the ledger already holds is completed; a thing the ledger will not show is a failure
 * of that object only.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ownerKey } from '../../../gateway/src/r2-storage/keyring.js';
import { expireDue } from '../../../gateway/src/r2-storage/retention.js';
import { ObjectStore } from '../../../gateway/src/r2-storage/store.js';
import { FakeLedger } from '../gateway/support.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

describe('storage retention (X7, thing policy retentionDays)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mvsec-retention-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('expires what is due on the ledger first, then erases it and destroys its key; keeps the rest', async () => {
    const store = new ObjectStore({ dir, storageKey: randomBytes(32) });
    const put = async (dataId: string, thingId: string, mspId = 'IoTPlatformMSP') => {
      const o = await store.put(Readable.from([Buffer.from(`object ${dataId}`)]), { owner: ownerKey(mspId, 'alice') });
      await store.saveEntry({
        v: 1,
        ...o,
        dataId,
        thingId,
        ownerPrincipal: 'alice',
        ownerMspId: mspId,
        storedAt: new Date(T0).toISOString(),
        state: 'STORED',
      });
      return o;
    };
    const due = await put('d-due', 'short');
    const kept = await put('d-kept', 'long');
    await put('d-ledger-later', 'short-b', 'MetaverseAMSP'); // the index says due; the ledger's clock disagrees
    const already = await put('d-already', 'short');
    await put('d-unknown', 'ghost');

    const ledger = new FakeLedger()
      .on('thing:GetThing', ({ args }) => {
        if (args[0] === 'ghost') throw new Error('NOT_FOUND: thing ghost does not exist');
        return { thingId: args[0], policy: { retentionDays: args[0] === 'long' ? 365 : 1 } };
      })
      .on('data:ExpireData', ({ caller, args }) => {
        if (args[0] === 'd-already') throw new Error('CONFLICT: data d-already is already deleted');
        if (args[0] === 'd-ledger-later')
          throw new Error('CONFLICT: data d-ledger-later is kept until 2026-03-03T00:00:00.000Z: thing short-b…');
        return { dataId: args[0], stage: 'DELETED', lifecycle: [{ stage: 'DELETED', at: 'x', by: caller, note: 'retention: 1 days' }] };
      });

    const r = await expireDue(store, ledger, { now: T0 + 2 * DAY });
    assert.deepEqual(r.expired.sort(), ['d-already', 'd-due']);
    assert.equal(r.notDue, 2, 'd-kept by the index, d-ledger-later by the ledger');
    assert.deepEqual(r.failed, [{ dataId: 'd-unknown', reason: 'thing ghost: NOT_FOUND: thing ghost does not exist' }]);
    assert.equal(r.checked, 5);

    const asked = ledger.submits('data:ExpireData');
    assert.deepEqual(asked.map((c) => c.args[0]).sort(), ['d-already', 'd-due', 'd-ledger-later']);
    for (const c of asked) {
      assert.equal(c.caller.role, 'storage-agent');
      assert.equal(c.caller.principal, 'storage-retention');
    }
    assert.equal(asked.find((c) => c.args[0] === 'd-ledger-later')!.caller.mspId, 'MetaverseAMSP', "as the data's organisation");
    assert.equal(ledger.calls.filter((c) => c.fn === 'thing:GetThing' && c.args[0] === 'short').length, 1, 'one policy read per thing');

    const e = await store.entry('d-due');
    assert.equal(e?.state, 'DELETED');
    assert.equal(e?.deletion?.objectErased, true);
    assert.equal(e?.deletion?.keyDestroyed, true);
    assert.equal(e?.deletion?.txId?.startsWith('tx-'), true, 'the ledger transaction that recorded it');
    assert.equal(existsSync(join(dir, 'objects', due.address.slice(0, 2), due.address)), false, 'the object is gone');
    assert.equal((await store.entry('d-already'))?.deletion?.ledgerReason, 'data d-already is already deleted');
    assert.equal(existsSync(join(dir, 'objects', already.address.slice(0, 2), already.address)), false);
    assert.equal((await store.entry('d-kept'))?.state, 'STORED');
    assert.equal(existsSync(join(dir, 'objects', kept.address.slice(0, 2), kept.address)), true);

    const again = await expireDue(store, ledger, { now: T0 + 2 * DAY });
    assert.equal(again.checked, 3, 'deleted objects are not looked at again');
    assert.deepEqual(again.expired, []);
  });
});
