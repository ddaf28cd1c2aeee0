/** What the integration tests share: the test network's topology, identities and connections. */
import '../../../scripts/lib/test-env.js';
import type { Contract, Status, Transaction } from '@hyperledger/fabric-gateway';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextDecoder } from 'node:util';
import { loadTopology, ordererOrg, type Organization } from '../../../network/topology.js';
import { enroll } from '../../../scripts/network/ca.js';
import { connectAs, type FabricConnection } from '../../../scripts/network/client.js';
import { localFabricNetwork } from '../../../scripts/gateway-config.js';
import type { FabricNetwork, GatewayOrganization } from '../../../gateway/src/config/schema.js';

export const topology = loadTopology();
export const ordererOrganization = ordererOrg(topology);

export function org(mspId: string): Organization {
  const o = topology.orgs.find((x) => x.mspId === mspId);
  if (!o) throw new Error(`no org ${mspId} in the topology`);
  return o;
}

let network: FabricNetwork | undefined;

/** The test network as a gateway's configuration names it (CA certificates and registrar secrets in a temporary folder). */
export function gatewayNetwork(): FabricNetwork {
  return (network ??= localFabricNetwork(topology, mkdtempSync(join(tmpdir(), 'mvsec-gw-network-'))));
}

/** A served organisation of `gatewayNetwork()`. */
export function gatewayOrg(mspId: string): GatewayOrganization {
  const o = gatewayNetwork().organizations.find((x) => x.mspId === mspId);
  if (!o) throw new Error(`the gateway serves no org ${mspId}`);
  return o;
}

/** Register and enroll a fresh identity at the org's Fabric CA, carrying role and principal attributes. */
export async function newUser(o: Organization, attrs: { role: string; principal?: string }): Promise<{ name: string; principal: string }> {
  const name = `it-${attrs.role}-${randomUUID().slice(0, 8)}`;
  const principal = attrs.principal ?? `${name}@${o.key}`;
  await enroll(o, { name, type: 'client', attrs: { role: attrs.role, principal } });
  return { name, principal };
}

export function contractOf(conn: FabricConnection, contractName = '') {
  return conn.gateway.getNetwork(topology.channel).getContract(topology.chaincode.name, contractName);
}

export { connectAs };

export const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * Hand an endorsed transaction to the ordering service until it is accepted, then wait for its
 * commit status. While Raft elects a new leader the orderers answer SERVICE_UNAVAILABLE (14);
 * resending the same signed transaction cannot commit it twice (same tx id).
 */
export async function commitEndorsed(tx: Transaction, timeoutMs = 30_000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 200; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await (await tx.submit()).getStatus();
    } catch (e) {
      if ((e as { code?: number }).code !== 14 || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Submit as a careful client does: endorse once, then commit the same signed transaction. */
export async function submitAndCommit(contract: Contract, name: string, args: string[], timeoutMs = 30_000): Promise<Status> {
  return commitEndorsed(await contract.newProposal(name, { arguments: args }).endorse(), timeoutMs);
}
