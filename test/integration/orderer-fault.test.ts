/**
 * Crash fault tolerance of the ordering service: one of three Raft orderers is killed with
 * SIGKILL mid-stream; transactions keep committing; restarted, it catches up to the same height.
 */
import '../../scripts/lib/test-env.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FabricConnection } from '../../scripts/network/client.js';
import { ordererChannelInfo } from '../../scripts/network/channel.js';
import { ordererDaemon, startOrderer } from '../../scripts/network/nodes.js';
import { daemonPid, killDaemon } from '../../scripts/lib/proc.js';
import { waitFor } from '../../scripts/lib/wait.js';
import { connectAs, contractOf, newUser, org, ordererOrganization, submitAndCommit, topology } from './support/network.js';

describe('Raft ordering survives a killed orderer (X6: availability, backup and recovery)', () => {
  const iot = org('IoTPlatformMSP');
  const victim = ordererOrganization.orderers[0];
  let conn: FabricConnection;

  before(async () => {
    const user = await newUser(iot, { role: 'user' });
    conn = connectAs(iot, user.name);
  });
  after(async () => {
    conn?.close();
    // Leave the network whole for the tests that follow, whatever happened above.
    if (daemonPid(ordererDaemon(ordererOrganization, victim), 'orderer') === undefined) await startOrderer(topology, victim);
    await waitFor(
      `${victim.name} to rejoin the channel`,
      async () => ((await ordererChannelInfo(topology, victim))?.status === 'active' ? true : undefined),
      { timeoutMs: 60_000 },
    );
  });

  const submitMany = async (n: number, tag: string) => {
    const contract = contractOf(conn, 'diagnostics');
    for (let i = 0; i < n; i++) {
      const status = await submitAndCommit(contract, 'PutProbe', [`${tag}-${i}`, String(i)]);
      assert.equal(status.successful, true, `${tag}-${i} failed with ${status.code}`);
    }
  };

  it('keeps committing with one orderer SIGKILLed and the restarted orderer catches up', async () => {
    await submitMany(3, 'before-kill');
    const pid = killDaemon(ordererDaemon(ordererOrganization, victim), 'orderer');
    assert.ok(pid, `${victim.name} was running`);
    await waitFor(
      `${victim.name} to be gone`,
      async () => (daemonPid(ordererDaemon(ordererOrganization, victim), 'orderer') === undefined ? true : undefined),
      { timeoutMs: 10_000 },
    );

    await submitMany(5, 'during-outage');

    const survivors = ordererOrganization.orderers.slice(1);
    const heights = await Promise.all(survivors.map((o) => ordererChannelInfo(topology, o)));
    const target = Math.max(...heights.map((h) => h?.height ?? 0));
    assert.ok(target > 0);

    await startOrderer(topology, victim);
    const caughtUp = await waitFor(
      `${victim.name} to catch up to height ${target}`,
      async () => {
        const info = await ordererChannelInfo(topology, victim);
        return info && info.height >= target ? info : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(caughtUp.height, target, 'no new blocks were ordered meanwhile, so the heights must be equal');
    assert.equal(caughtUp.status, 'active');
  });
});
