/**
 * Operating the network: `network:down` leaves no Fabric or chaincode process behind, `up` on the
 * same data resumes the same ledger, `network:reset` removes all state. Runs last.
 */
import '../../scripts/lib/test-env.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { peerHeight } from '../../scripts/network/channel.js';
import { DATA, paths, ROOT } from '../../scripts/lib/paths.js';
import { connectAs, contractOf, newUser, org, topology, utf8 } from './support/network.js';

/** Every live process started from this project's Fabric binaries, chaincode or this test's data. */
function ourProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    const environ = (() => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        return '';
      }
    })();
    const fabric = cmd.startsWith(paths.fabricBin) || cmd.includes('fabric-shim/cli.js');
    if (fabric && (environ.includes(DATA) || cmd.includes(DATA) || cmd.includes(String(topology.orgs[1].ca.port))))
      found.push(`${pid}: ${cmd}`);
  }
  return found;
}

/** Run `scripts/network.ts <command>` as an operator would. */
async function network(command: string): Promise<void> {
  // Without NODE_TEST_CONTEXT: a child that inherits it talks the test runner's protocol instead.
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/network.ts', command], { cwd: ROOT, env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `network ${command} failed:\n${out}`);
}

describe('network lifecycle (operator guide)', () => {
  const iot = org('IoTPlatformMSP');

  it('down stops every node and chaincode server; up resumes the same ledger; reset removes all state', async () => {
    const user = await newUser(iot, { role: 'user' });
    let conn = connectAs(iot, user.name);
    const marker = `kept-${Date.now()}`;
    await contractOf(conn, 'diagnostics').submitTransaction('PutProbe', 'survives-restart', marker);
    const heightBefore = await peerHeight(topology, iot, iot.peers[0]);
    conn.close();
    assert.ok(ourProcesses().length >= 14, 'CAs, orderers, peers and chaincode servers are running');

    await network('down');
    assert.deepEqual(ourProcesses(), [], 'no Fabric or chaincode process may survive network:down');

    await network('up');
    conn = connectAs(iot, user.name);
    try {
      const back = utf8(await contractOf(conn, 'diagnostics').evaluateTransaction('GetProbe', 'IoTPlatformMSP', 'survives-restart'));
      assert.equal(back, marker, 'the ledger written before the restart is still there');
    } finally {
      conn.close();
    }
    assert.ok((await peerHeight(topology, iot, iot.peers[0])) >= heightBefore);

    await network('reset');
    assert.deepEqual(ourProcesses(), []);
    assert.equal(existsSync(DATA), false, `${DATA} must be gone after reset`);
  });
});
