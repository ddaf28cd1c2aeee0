/**
 * Network lifecycle: up (CAs, identities, orderers, channel, peers), down, reset and the
 * readiness probe. Every step is idempotent, so `up` after `down` resumes on the same ledger.
 */
import { existsSync, rmSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import { endpoint, loadTopology, ordererOrg, peerOrgs, type Topology } from '../../network/topology.js';
import { installFabric } from '../fabric/install.js';
import { log } from '../lib/log.js';
import { DATA } from '../lib/paths.js';
import { waitFor } from '../lib/wait.js';
import { enroll, startCa, stopCa } from './ca.js';
import { createGenesisBlock, joinOrderers, joinPeers } from './channel.js';
import { deployChaincode, stopChaincodeServers } from './chaincode.js';
import { connectAs } from './client.js';
import { startOrderer, startPeer, stopOrderer, stopPeer, writePeerCoreYaml } from './nodes.js';

/** Register and enroll every node and admin identity (no-ops for those already enrolled). */
async function enrollIdentities(t: Topology): Promise<void> {
  for (const org of t.orgs) {
    await enroll(org, {
      name: 'orgadmin',
      type: 'admin',
      attrs: { role: 'admin', principal: `admin@${org.key}` },
      tlsHosts: ['localhost'],
    });
    for (const o of org.orderers) await enroll(org, { name: o.name, type: 'orderer', tlsHosts: [o.host] });
    for (const p of org.peers) await enroll(org, { name: p.name, type: 'peer', tlsHosts: [p.host] });
    if (org.peers.length) {
      await enroll(org, { name: 'ccaas', type: 'client', tlsOnly: true, tlsHosts: org.peers.map((p) => p.chaincodeServer.host) });
    }
  }
}

export async function networkUp(t: Topology = loadTopology()): Promise<void> {
  await installFabric();
  log.step('starting certificate authorities');
  for (const org of t.orgs) await startCa(org);
  await enrollIdentities(t);
  log.ok(`CAs ready: ${t.orgs.map((o) => `${o.ca.name}@${endpoint(o.ca)}`).join(', ')}`);

  log.step('starting Raft orderers');
  await createGenesisBlock(t);
  await Promise.all(ordererOrg(t).orderers.map((o) => startOrderer(t, o)));
  await joinOrderers(t);
  log.ok(`orderers ready: ${ordererOrg(t).orderers.map(endpoint).join(', ')}`);

  log.step('starting peers');
  writePeerCoreYaml();
  await Promise.all(peerOrgs(t).flatMap((org) => org.peers.map((p) => startPeer(org, p))));
  await joinPeers(t);
  log.ok(
    `peers joined channel ${t.channel}: ${peerOrgs(t)
      .flatMap((o) => o.peers.map((p) => `${o.mspId}@${endpoint(p)}`))
      .join(', ')}`,
  );
}

/**
 * Wait until a transaction endorsed by every peer org commits: after a (re)start or an upgrade,
 * gossip and discovery need some seconds before a peer's Gateway service finds the other orgs'
 * peers with the current chaincode (until then: "failed to find any endorsing peers").
 */
export async function waitUntilReady(t: Topology = loadTopology()): Promise<void> {
  const orgs = peerOrgs(t);
  const conn = connectAs(orgs[0], 'orgadmin');
  try {
    const contract = conn.gateway.getNetwork(t.channel).getContract(t.chaincode.name, 'diagnostics');
    await waitFor(
      'endorsement by every peer org through the Gateway service (gossip and discovery settling)',
      async () => {
        const stamp = new Date().toISOString();
        const tx = await contract
          .newProposal('PutProbe', { arguments: ['startup', stamp], endorsingOrganizations: orgs.map((o) => o.mspId) })
          .endorse();
        const status = await (await tx.submit()).getStatus();
        if (!status.successful) return undefined;
        const back = new TextDecoder().decode(await contract.evaluateTransaction('GetProbe', orgs[0].mspId, 'startup'));
        return back === stamp ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
  } finally {
    conn.close();
  }
}

export async function deploy(
  t: Topology = loadTopology(),
  opts: { versionSuffix?: string } = {},
): Promise<{ version: string; sequence: number }> {
  log.step(`deploying chaincode ${t.chaincode.name} from chaincode/ (as a service)`);
  const deployed = await deployChaincode(t, opts);
  log.ok(`chaincode ${t.chaincode.name} ${deployed.version} committed at sequence ${deployed.sequence}`);
  await waitUntilReady(t);
  log.ok('network ready: cross-org endorsement and commit verified');
  return deployed;
}

export async function networkDown(t: Topology = loadTopology()): Promise<void> {
  // Clients of a tier stop before the tier they depend on; nodes within a tier stop together.
  await stopChaincodeServers(t);
  await Promise.all(peerOrgs(t).flatMap((org) => org.peers.map((p) => stopPeer(org, p))));
  await Promise.all(ordererOrg(t).orderers.map((o) => stopOrderer(ordererOrg(t), o)));
  await Promise.all(t.orgs.map((org) => stopCa(org)));
  log.ok('network stopped (ledgers kept; `npm run network:reset` removes them)');
}

export async function networkReset(t: Topology = loadTopology()): Promise<void> {
  await networkDown(t);
  if (existsSync(DATA)) rmSync(DATA, { recursive: true, force: true });
  log.ok(`removed all network state in ${DATA}`);
}
