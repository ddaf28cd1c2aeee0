/** What the integration tests share: the test network's topology, identities and connections. */
import '../../../scripts/lib/test-env.js';
import { randomUUID } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { loadTopology, ordererOrg, type Organization } from '../../../network/topology.js';
import { enroll } from '../../../scripts/network/ca.js';
import { connectAs, type FabricConnection } from '../../../scripts/network/client.js';

export const topology = loadTopology();
export const ordererOrganization = ordererOrg(topology);

export function org(mspId: string): Organization {
  const o = topology.orgs.find((x) => x.mspId === mspId);
  if (!o) throw new Error(`no org ${mspId} in the topology`);
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
