import '../../../scripts/lib/test-env.js';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OperatorError } from '../../../scripts/lib/log.js';
import { paths } from '../../../scripts/lib/paths.js';
import { assertPortFree, daemonPid, startDaemon, stopDaemon } from '../../../scripts/lib/proc.js';
import { retry, waitFor } from '../../../scripts/lib/wait.js';

describe('process management of the network scripts', () => {
  it('detects a stale pid file (process gone) and removes it', () => {
    mkdirSync(paths.run, { recursive: true });
    writeFileSync(join(paths.run, 'unit-stale.pid'), '999999999\n');
    assert.equal(daemonPid('unit-stale', 'sleep'), undefined);
  });

  it('does not mistake a reused pid for its daemon (command line must match)', () => {
    mkdirSync(paths.run, { recursive: true });
    writeFileSync(join(paths.run, 'unit-reused.pid'), `${process.pid}\n`);
    assert.equal(daemonPid('unit-reused', 'definitely-not-this-program'), undefined);
  });

  it('starts a detached daemon with a pid file and stops it', async () => {
    const pid = startDaemon({ name: 'unit-sleep', cmd: 'sleep', args: ['30'], env: process.env, marker: 'sleep' });
    assert.equal(daemonPid('unit-sleep', 'sleep'), pid);
    assert.equal(await stopDaemon('unit-sleep', 'sleep', 2000), true);
    assert.equal(daemonPid('unit-sleep', 'sleep'), undefined);
  });

  it('refuses a port already in use with a message naming the port and the node', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      await assert.rejects(
        assertPortFree('127.0.0.1', port, 'peer0.test'),
        (e: Error) => e instanceof OperatorError && e.message.includes(String(port)) && e.message.includes('peer0.test'),
      );
    } finally {
      srv.close();
    }
  });

  it('waitFor gives up after its deadline with what it waited for and the last error', async () => {
    await assert.rejects(
      waitFor(
        'the impossible',
        async () => {
          throw new Error('still no');
        },
        { timeoutMs: 300, intervalMs: 50, onTimeout: () => 'log tail here' },
      ),
      (e: Error) =>
        /timed out after 0.3s waiting for the impossible/.test(e.message) && /still no/.test(e.message) && /log tail here/.test(e.message),
    );
  });

  it('waitFor stops at once when the probe reports a permanent failure', async () => {
    let calls = 0;
    await assert.rejects(
      waitFor(
        'a node',
        async () => {
          calls++;
          throw new OperatorError('node exited during start');
        },
        { timeoutMs: 60_000 },
      ),
      /exited during start/,
    );
    assert.equal(calls, 1);
  });

  it('retry tries a failed command again (e.g. "no Raft leader" right after a restart) until it succeeds', async () => {
    let calls = 0;
    const out = await retry(
      'an approval',
      async () => {
        if (++calls < 3) throw new OperatorError('peer lifecycle chaincode approveformyorg failed: SERVICE_UNAVAILABLE -- no Raft leader');
        return 'approved';
      },
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    assert.equal(out, 'approved');
    assert.equal(calls, 3);
  });
});
