/**
 * The chaincode upgrade path: a new definition (next sequence, new package, restarted chaincode
 * servers) keeps the ledger and serves the data written before it.
 */
import '../../scripts/lib/test-env.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queryCommitted } from '../../scripts/network/chaincode.js';
import { deploy } from '../../scripts/network/lifecycle.js';
import { connectAs, contractOf, newUser, org, topology, utf8 } from './support/network.js';

describe('chaincode upgrade (CCaaS, new sequence)', () => {
  it('commits the next sequence, restarts the chaincode servers and keeps the ledger', async () => {
    const iot = org('IoTPlatformMSP');
    const user = await newUser(iot, { role: 'user' });
    const marker = `before-upgrade-${Date.now()}`;
    let conn = connectAs(iot, user.name);
    try {
      await contractOf(conn, 'diagnostics').submitTransaction('PutProbe', 'upgrade', marker);
    } finally {
      conn.close();
    }
    const before = await queryCommitted(topology, iot);
    assert.ok(before, 'a definition is committed');

    const after = await deploy(topology, { versionSuffix: `u${before.sequence + 1}` });
    assert.equal(after.sequence, before.sequence + 1);
    const committed = await queryCommitted(topology, org('MetaverseBMSP'));
    assert.equal(committed?.version, after.version, 'every org sees the new definition');
    assert.notEqual(committed?.version, before.version);

    conn = connectAs(iot, user.name);
    try {
      const back = utf8(await contractOf(conn, 'diagnostics').evaluateTransaction('GetProbe', 'IoTPlatformMSP', 'upgrade'));
      assert.equal(back, marker, 'data written before the upgrade is served by the upgraded chaincode');
    } finally {
      conn.close();
    }
  });
});
