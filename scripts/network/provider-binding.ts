/**
 * Trust rule 8 for the local network's flows (demos, tests): the DPM organisation's admin binds
 * its provider's signing identity on the ledger (`platform:BindProviderIdentity`), with its own
 * admin key through its own Fabric client — as a DPM operator does after its provider identity
 * (the account its gateway holds for the provider, or a worker) is enrolled.
 */
import { randomUUID } from 'node:crypto';
import { applicationOrgs, type Topology } from '../../network/topology.js';
import { enroll } from './ca.js';
import { connectAs } from './client.js';

/** Bind `certificatePem` to DPM provider `providerId` (of `mspId`); a key already bound is left as it is. */
export async function bindProviderIdentity(
  topology: Topology,
  providerId: string,
  certificatePem: string,
  mspId = 'DPMProviderMSP',
): Promise<void> {
  const orgs = applicationOrgs(topology);
  const org = orgs.find((o) => o.mspId === mspId);
  if (!org) throw new Error(`no organisation ${mspId} in the topology`);
  // an organisation without a peer (the DPM provider's) reaches the channel through another org's peer
  const via = org.peers.length ? org : orgs.find((o) => o.peers.length > 0)!;
  const name = `admin-bind-${randomUUID().slice(0, 8)}`;
  await enroll(org, { name, type: 'client', attrs: { role: 'admin', principal: name } });
  const conn = connectAs(org, name, { org: via });
  try {
    const contract = conn.gateway.getNetwork(topology.channel).getContract(topology.chaincode.name, 'platform');
    for (let attempt = 0; ; attempt++) {
      try {
        const tx = await contract.newProposal('BindProviderIdentity', { arguments: [providerId, certificatePem] }).endorse();
        const status = await (await tx.submit()).getStatus();
        if (status.successful) return;
        if (attempt >= 3) throw new Error(`BindProviderIdentity ${providerId} was invalidated at commit (code ${status.code})`);
      } catch (e) {
        const text = [
          String((e as Error).message),
          ...((e as { details?: { message: string }[] }).details ?? []).map((d) => d.message),
        ].join(' ');
        if (/already bound/.test(text)) return;
        // right after the network starts a peer may not know the others yet (UNAVAILABLE)
        if ((e as { code?: number }).code !== 14 || attempt >= 10)
          throw new Error(`BindProviderIdentity ${providerId}: ${text}`, { cause: e });
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
      }
    }
  } finally {
    conn.close();
  }
}
