/** `network:status`: each node's health, block heights and the committed chaincode definition. */
import { endpoint, loadTopology, ordererOrg, peerOrgs, type Topology } from '../../network/topology.js';
import { log } from '../lib/log.js';
import { daemonPid } from '../lib/proc.js';
import { caRunning, orgCaCert } from './ca.js';
import { ordererChannelInfo, peerHeight } from './channel.js';
import { queryCommitted } from './chaincode.js';
import { healthz, ordererDaemon, peerDaemon } from './nodes.js';

interface Row {
  node: string;
  address: string;
  pid: string;
  health: string;
  height: string;
}

async function health(host: string, port: number, ca: string): Promise<string> {
  try {
    const h = await healthz(host, port, ca);
    return h.status === 'OK' ? 'OK' : `${h.status} ${JSON.stringify(h.failed_checks ?? [])}`;
  } catch (e) {
    return `unreachable (${(e as Error).message})`;
  }
}

const settle = async (p: Promise<number | string | undefined>) => {
  try {
    const v = await p;
    return v === undefined ? '-' : String(v);
  } catch {
    return '?';
  }
};

/** Print the status table; resolves to true when every node is healthy. */
export async function networkStatus(t: Topology = loadTopology()): Promise<boolean> {
  const rows: Row[] = [];
  let healthy = true;
  for (const org of t.orgs) {
    const up = caRunning(org);
    healthy &&= up;
    rows.push({
      node: `${org.ca.name} (CA)`,
      address: endpoint(org.ca),
      pid: up ? 'running' : 'stopped',
      health: up ? 'OK' : '-',
      height: '',
    });
  }
  const oOrg = ordererOrg(t);
  for (const o of oOrg.orderers) {
    const pid = daemonPid(ordererDaemon(oOrg, o), 'orderer');
    const h = pid ? await health(o.host, o.operationsPort, orgCaCert(oOrg.key)) : '-';
    healthy &&= h === 'OK';
    const height = pid ? await settle(ordererChannelInfo(t, o).then((i) => i?.height)) : '';
    rows.push({ node: `${o.name} (orderer)`, address: endpoint(o), pid: pid ? String(pid) : 'stopped', health: h, height });
  }
  for (const org of peerOrgs(t)) {
    for (const p of org.peers) {
      const pid = daemonPid(peerDaemon(org, p), 'peer');
      const h = pid ? await health(p.host, p.operationsPort, orgCaCert(org.key)) : '-';
      healthy &&= h === 'OK';
      const height = pid ? await settle(peerHeight(t, org, p)) : '';
      rows.push({ node: `${p.name}.${org.mspId} (peer)`, address: endpoint(p), pid: pid ? String(pid) : 'stopped', health: h, height });
    }
    const cc = daemonPid(`chaincode.${org.key}`, 'fabric-shim/cli.js');
    healthy &&= cc !== undefined;
    rows.push({
      node: `chaincode.${org.mspId} (CCaaS)`,
      address: endpoint(org.peers[0].chaincodeServer),
      pid: cc ? String(cc) : 'stopped',
      health: cc ? 'OK' : '-',
      height: '',
    });
  }
  const widths = (['node', 'address', 'pid', 'health', 'height'] as const).map((k) => Math.max(k.length, ...rows.map((r) => r[k].length)));
  const line = (r: Row) => [r.node, r.address, r.pid, r.health, r.height].map((v, i) => v.padEnd(widths[i])).join('  ');
  console.log(line({ node: 'NODE', address: 'ADDRESS', pid: 'PID', health: 'HEALTH', height: 'HEIGHT' }));
  for (const r of rows) console.log(line(r));

  const firstPeerOrg = peerOrgs(t).find((o) => daemonPid(peerDaemon(o, o.peers[0]), 'peer'));
  if (firstPeerOrg) {
    try {
      const def = await queryCommitted(t, firstPeerOrg);
      if (def) {
        console.log(`\nchaincode ${t.chaincode.name} on channel ${t.channel}: version ${def.version}, sequence ${def.sequence}`);
        console.log(
          `  approvals: ${Object.entries(def.approvals)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}`,
        );
      } else {
        console.log(`\nchaincode ${t.chaincode.name}: not committed on channel ${t.channel}`);
        healthy = false;
      }
    } catch (e) {
      log.warn(`cannot query the committed chaincode: ${(e as Error).message}`);
      healthy = false;
    }
  }
  return healthy;
}
