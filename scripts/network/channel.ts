/**
 * The application channel: its configuration (configtx.yaml generated from the topology), the
 * genesis block, joining the orderers through the channel participation API (osnadmin — no
 * system channel) and joining every peer.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  applicationOrgs,
  endpoint,
  ordererOrg,
  peerOrgs,
  type Organization,
  type PeerNode,
  type Topology,
} from '../../network/topology.js';
import { bin } from '../fabric/install.js';
import { paths } from '../lib/paths.js';
import { run } from '../lib/proc.js';
import { retry } from '../lib/wait.js';
import { identityFiles, orgCaCert } from './ca.js';

const sig = (rule: string) => ({ Type: 'Signature', Rule: rule });
const meta = (rule: string) => ({ Type: 'ImplicitMeta', Rule: rule });

function orgSection(org: Organization) {
  const m = org.mspId;
  const section: Record<string, unknown> = {
    Name: m,
    ID: m,
    MSPDir: paths.orgMsp(org.key),
    Policies: {
      Readers: sig(`OR('${m}.member')`),
      Writers: sig(`OR('${m}.member')`),
      Admins: sig(`OR('${m}.admin')`),
      Endorsement: sig(`OR('${m}.peer')`),
    },
  };
  if (org.orderers.length) {
    delete (section.Policies as Record<string, unknown>).Endorsement;
    section.OrdererEndpoints = org.orderers.map(endpoint);
  }
  // Anchor peers in the genesis block: cross-org gossip and discovery work from the first block.
  if (org.peers.length) section.AnchorPeers = org.peers.map((p) => ({ Host: p.host, Port: p.port }));
  return section;
}

/** configtx.yaml for the channel profile, derived from the topology. */
export function configtx(t: Topology): string {
  const oOrg = ordererOrg(t);
  const consenters = oOrg.orderers.map((o) => {
    const f = identityFiles(oOrg.key, o.name);
    return { Host: o.host, Port: o.port, ClientTLSCert: f.tlsCert, ServerTLSCert: f.tlsCert };
  });
  const profile = {
    Policies: { Readers: meta('ANY Readers'), Writers: meta('ANY Writers'), Admins: meta('MAJORITY Admins') },
    // The pinned Fabric commit predates the V3_0 channel capability; V2_0 is the newest it knows.
    Capabilities: { V2_0: true },
    Orderer: {
      OrdererType: 'etcdraft',
      BatchTimeout: process.env.MVSEC_BATCH_TIMEOUT ?? '250ms',
      BatchSize: { MaxMessageCount: 500, AbsoluteMaxBytes: '10 MB', PreferredMaxBytes: '2 MB' },
      EtcdRaft: {
        Consenters: consenters,
        Options: { TickInterval: '500ms', ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: '16 MB' },
      },
      Organizations: [orgSection(oOrg)],
      Policies: {
        Readers: meta('ANY Readers'),
        Writers: meta('ANY Writers'),
        Admins: meta('MAJORITY Admins'),
        BlockValidation: meta('ANY Writers'),
      },
      Capabilities: { V2_0: true },
    },
    Application: {
      Organizations: applicationOrgs(t).map(orgSection),
      Policies: {
        Readers: meta('ANY Readers'),
        Writers: meta('ANY Writers'),
        Admins: meta('MAJORITY Admins'),
        LifecycleEndorsement: meta('MAJORITY Endorsement'),
        Endorsement: meta('MAJORITY Endorsement'),
      },
      Capabilities: { V2_5: true },
    },
  };
  return stringify({ Profiles: { MvsecChannel: profile } });
}

export const genesisBlock = () => join(paths.channel, 'genesis.block');

/** Write configtx.yaml and the channel's genesis block (once; the block is the channel's identity). */
export async function createGenesisBlock(t: Topology): Promise<string> {
  const block = genesisBlock();
  if (existsSync(block)) return block;
  mkdirSync(paths.channel, { recursive: true });
  writeFileSync(join(paths.channel, 'configtx.yaml'), configtx(t));
  await run(bin('configtxgen'), ['-configPath', paths.channel, '-profile', 'MvsecChannel', '-channelID', t.channel, '-outputBlock', block]);
  return block;
}

/** osnadmin's TLS client credentials: the orderer org admin's TLS certificate. */
function osnadminArgs(t: Topology, adminPort: number, host: string): string[] {
  const org = ordererOrg(t);
  const f = identityFiles(org.key, 'orgadmin');
  return ['-o', `${host}:${adminPort}`, '--ca-file', orgCaCert(org.key), '--client-cert', f.tlsCert, '--client-key', f.tlsKey];
}

export interface OrdererChannelInfo {
  name: string;
  status: string;
  consensusRelation: string;
  height: number;
}

/** The channel as one orderer sees it (osnadmin channel list), or undefined if it has not joined. */
export async function ordererChannelInfo(t: Topology, o: { host: string; adminPort: number }): Promise<OrdererChannelInfo | undefined> {
  try {
    const { stdout } = await run(bin('osnadmin'), ['channel', 'list', '--channelID', t.channel, ...osnadminArgs(t, o.adminPort, o.host)], {
      timeoutMs: 15_000,
    });
    const body = stdout.slice(stdout.indexOf('{'));
    const info = JSON.parse(body) as OrdererChannelInfo & { error?: string };
    return info.name ? info : undefined;
  } catch (e) {
    if (/404|cannot find channel|not found/i.test((e as Error).message)) return undefined;
    throw e;
  }
}

export async function joinOrderers(t: Topology): Promise<void> {
  const block = genesisBlock();
  for (const o of ordererOrg(t).orderers) {
    if (await ordererChannelInfo(t, o)) continue;
    await run(bin('osnadmin'), [
      'channel',
      'join',
      '--channelID',
      t.channel,
      '--config-block',
      block,
      ...osnadminArgs(t, o.adminPort, o.host),
    ]);
  }
}

/** Environment for the peer CLI acting as an org's admin against one of its peers. */
export function peerCliEnv(org: Organization, p: PeerNode): NodeJS.ProcessEnv {
  const admin = identityFiles(org.key, 'orgadmin');
  return {
    FABRIC_CFG_PATH: paths.nodeConfig,
    FABRIC_LOGGING_SPEC: 'WARNING',
    CORE_PEER_LOCALMSPID: org.mspId,
    CORE_PEER_MSPCONFIGPATH: admin.msp,
    CORE_PEER_ADDRESS: endpoint(p),
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_TLS_ROOTCERT_FILE: orgCaCert(org.key),
  };
}

/** Block height of the channel on a peer (`peer channel getinfo`). */
export async function peerHeight(t: Topology, org: Organization, p: PeerNode): Promise<number> {
  const { stdout } = await run(bin('peer'), ['channel', 'getinfo', '-c', t.channel], { env: peerCliEnv(org, p), timeoutMs: 15_000 });
  const m = /Blockchain info: (\{.*\})/.exec(stdout);
  if (!m) throw new Error(`unexpected getinfo output: ${stdout.slice(0, 200)}`);
  return Number(JSON.parse(m[1]).height);
}

export async function joinPeers(t: Topology): Promise<void> {
  for (const org of peerOrgs(t)) {
    for (const p of org.peers) {
      const env = peerCliEnv(org, p);
      const { stdout } = await run(bin('peer'), ['channel', 'list'], { env, timeoutMs: 15_000 });
      if (stdout.split('\n').some((l) => l.trim() === t.channel)) continue;
      await retry(
        `${p.name}.${org.key} to join ${t.channel}`,
        () => run(bin('peer'), ['channel', 'join', '-b', genesisBlock()], { env, timeoutMs: 30_000 }),
        { timeoutMs: 30_000 },
      );
    }
  }
}
