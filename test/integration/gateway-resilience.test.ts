/**
 * Submissions under contention and peer loss, through the gateway's FabricLedger on the real
 * network (P1, P2): concurrent writes to one record collide on MVCC and are retried with backoff
 * until each commits exactly once; a peer of the caller's org that does not answer is skipped
 * (failover to the next configured peer); with none reachable the answer is a 503 naming each peer.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Caller } from '../../gateway/src/auth/principal.js';
import { testConfig } from '../../gateway/src/config.js';
import { FabricLedger } from '../../gateway/src/ledger/fabric-ledger.js';
import { IdentityService } from '../../gateway/src/ledger/identities.js';
import { ledgerProblem } from '../../gateway/src/http/ledger-errors.js';
import { LedgerUnavailable } from '../../gateway/src/ledger/errors.js';
import type { FabricNetwork } from '../../gateway/src/config/schema.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';
import { gatewayNetwork } from './support/network.js';

const IOT = 'IoTPlatformMSP';

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The topology with `dead` peers of the IoT org placed before its real one. */
function withDeadPeers(t: FabricNetwork, ports: number[], keepReal: boolean): FabricNetwork {
  return {
    ...t,
    organizations: t.organizations.map((o) => {
      if (o.mspId !== IOT) return o;
      const real = o.peers[0];
      const dead = ports.map((port, i) => ({ ...real, name: `dead${i}`, endpoint: `127.0.0.1:${port}` }));
      return { ...o, peers: keepReal ? [...dead, real] : dead };
    }),
  };
}

describe('gateway submissions under contention and peer loss (P1, P2)', () => {
  let gw: LiveGateway;
  let admin: Client, owner: Client;
  let thingId: string;
  let caller: Caller;

  before(async () => {
    gw = await startLiveGateway();
    [admin, owner] = await Promise.all([gw.as(IOT, 'admin'), gw.as(IOT, 'creator')]);
    const platformId = `rs-iot-${gw.run}`;
    thingId = `rs-thing-${gw.run}`;
    assert.equal((await admin.call('POST', '/r5/platforms', { platformId, type: 'IOT', name: 'IoT', capabilityLevel: 3 })).status, 201);
    const t = await owner.call('POST', '/r1/things', {
      thingId,
      platformId,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-${gw.run}`,
      classification: 'INTERNAL',
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    caller = { principal: owner.principal, mspId: IOT, role: 'creator', issuer: 'gateway', amr: ['pwd'] };
  });
  after(() => gw?.close());

  it('P1: eight concurrent policy updates of one thing collide on MVCC and all commit, each exactly once', async () => {
    const n = 8;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => owner.call('PUT', `/r1/things/${thingId}/policy`, { purposes: [`p${i}`], retentionDays: i + 1 })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 200),
      JSON.stringify(answers.map((a) => a.body)),
    );
    assert.equal(new Set(answers.map((a) => a.body.txId)).size, n);
    const history = (await gw.ledger.evaluate(
      { ...caller, principal: admin.principal, role: 'admin', amr: ['pwd', 'otp'] },
      'audit:GetHistory',
      ['thing', thingId],
    )) as unknown[];
    // registration + one version per update: nothing lost, nothing twice
    assert.equal(history.length, n + 1);
  });

  it('P2: an unreachable peer of the org is skipped; with none reachable the answer is 503 naming them', async () => {
    const ports = [await deadPort(), await deadPort()];
    // A second gateway process's view: its own sealed identities, the same principal.
    const identities = new IdentityService(gatewayNetwork(), testConfig({}).storageKey);
    const failover = new FabricLedger(withDeadPeers(gatewayNetwork(), ports, true), identities);
    const dead = new FabricLedger(withDeadPeers(gatewayNetwork(), ports, false), identities);
    try {
      const thing = (await failover.evaluate(caller, 'thing:GetThing', [thingId])) as { thingId: string };
      assert.equal(thing.thingId, thingId);
      const committed = await failover.submit(caller, 'thing:SetThingPolicy', [thingId, JSON.stringify({ purposes: ['after-failover'] })]);
      assert.match(committed.txId, /^[0-9a-f]{64}$/);
      const ready = await failover.ready();
      assert.match(ready.detail, new RegExp(`127\\.0\\.0\\.1:${ports[0]} unreachable`));

      await assert.rejects(
        () => dead.evaluate(caller, 'thing:GetThing', [thingId]),
        (e: unknown) =>
          e instanceof LedgerUnavailable && ledgerProblem(e)?.status === 503 && ports.every((p) => e.message.includes(`:${p}`)),
      );
    } finally {
      failover.close();
      dead.close();
    }
  });
});
