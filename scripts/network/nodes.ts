/**
 * Orderer and peer processes: their environment (overriding Fabric's sample core.yaml and
 * orderer.yaml), start with a health wait, and stop.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { endpoint, ordererOrg, type Organization, type OrdererNode, type PeerNode, type Topology } from '../../network/topology.js';
import { bin } from '../fabric/install.js';
import { OperatorError } from '../lib/log.js';
import { paths } from '../lib/paths.js';
import { assertPortFree, daemonPid, logTail, startDaemon, stopDaemon, tcpOpen } from '../lib/proc.js';
import { waitFor } from '../lib/wait.js';
import { identityFiles, listenHost, orgCaCert } from './ca.js';

export const ordererDaemon = (org: Organization, o: OrdererNode) => `${o.name}.${org.key}`;
export const peerDaemon = (org: Organization, p: PeerNode) => `${p.name}.${org.key}`;
export const nodeId = (org: Organization, n: { name: string }) => `${n.name}.${org.domain}`;

/** core.yaml for our peers: Fabric's sample with Docker disabled and our CCaaS builder registered. */
export function writePeerCoreYaml(): void {
  const doc = parseDocument(readFileSync(join(paths.fabricConfig, 'core.yaml'), 'utf8'));
  // An empty environment variable does not override vm.endpoint; it must be empty in the file.
  doc.setIn(['vm', 'endpoint'], '');
  doc.setIn(
    ['chaincode', 'externalBuilders'],
    [{ name: 'mvsec-ccaas', path: join(paths.builders, 'ccaas'), propagateEnvironment: ['HOME'] }],
  );
  mkdirSync(paths.nodeConfig, { recursive: true });
  writeFileSync(join(paths.nodeConfig, 'core.yaml'), doc.toString());
}

function tlsEnvFiles(org: Organization, name: string) {
  const f = identityFiles(org.key, name);
  return { cert: f.tlsCert, key: f.tlsKey, ca: orgCaCert(org.key), msp: f.msp };
}

export function ordererEnv(t: Topology, o: OrdererNode): NodeJS.ProcessEnv {
  const org = ordererOrg(t);
  const tls = tlsEnvFiles(org, o.name);
  const dir = paths.node(org.key, o.name);
  const host = listenHost(o.host);
  return {
    PATH: process.env.PATH,
    FABRIC_CFG_PATH: paths.fabricConfig,
    FABRIC_LOGGING_SPEC: process.env.MVSEC_ORDERER_LOG ?? 'INFO',
    ORDERER_GENERAL_LISTENADDRESS: host,
    ORDERER_GENERAL_LISTENPORT: String(o.port),
    ORDERER_GENERAL_LOCALMSPID: org.mspId,
    ORDERER_GENERAL_LOCALMSPDIR: tls.msp,
    ORDERER_GENERAL_BOOTSTRAPMETHOD: 'none',
    ORDERER_GENERAL_TLS_ENABLED: 'true',
    ORDERER_GENERAL_TLS_CERTIFICATE: tls.cert,
    ORDERER_GENERAL_TLS_PRIVATEKEY: tls.key,
    ORDERER_GENERAL_TLS_ROOTCAS: `[${tls.ca}]`,
    // Raft traffic reuses the general listener with the node's TLS certificate.
    ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE: tls.cert,
    ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY: tls.key,
    ORDERER_GENERAL_CLUSTER_ROOTCAS: `[${tls.ca}]`,
    ORDERER_CHANNELPARTICIPATION_ENABLED: 'true',
    ORDERER_ADMIN_LISTENADDRESS: `${host}:${o.adminPort}`,
    ORDERER_ADMIN_TLS_ENABLED: 'true',
    ORDERER_ADMIN_TLS_CERTIFICATE: tls.cert,
    ORDERER_ADMIN_TLS_PRIVATEKEY: tls.key,
    ORDERER_ADMIN_TLS_ROOTCAS: `[${tls.ca}]`,
    ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED: 'true',
    ORDERER_ADMIN_TLS_CLIENTROOTCAS: `[${tls.ca}]`,
    ORDERER_FILELEDGER_LOCATION: join(dir, 'ledger'),
    ORDERER_CONSENSUS_WALDIR: join(dir, 'etcdraft', 'wal'),
    ORDERER_CONSENSUS_SNAPDIR: join(dir, 'etcdraft', 'snapshot'),
    ORDERER_OPERATIONS_LISTENADDRESS: `${host}:${o.operationsPort}`,
    ORDERER_OPERATIONS_TLS_ENABLED: 'true',
    ORDERER_OPERATIONS_TLS_CERTIFICATE: tls.cert,
    ORDERER_OPERATIONS_TLS_PRIVATEKEY: tls.key,
    ORDERER_METRICS_PROVIDER: 'prometheus',
  };
}

export function peerEnv(org: Organization, p: PeerNode): NodeJS.ProcessEnv {
  const tls = tlsEnvFiles(org, p.name);
  const dir = paths.node(org.key, p.name);
  const host = listenHost(p.host);
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FABRIC_CFG_PATH: paths.nodeConfig,
    FABRIC_LOGGING_SPEC: process.env.MVSEC_PEER_LOG ?? 'INFO',
    CORE_PEER_ID: nodeId(org, p),
    CORE_PEER_ADDRESS: endpoint(p),
    CORE_PEER_LISTENADDRESS: `${host}:${p.port}`,
    CORE_PEER_CHAINCODEADDRESS: `${p.host}:${p.chaincodeListenPort}`,
    CORE_PEER_CHAINCODELISTENADDRESS: `${host}:${p.chaincodeListenPort}`,
    CORE_PEER_GOSSIP_BOOTSTRAP: endpoint(p),
    CORE_PEER_GOSSIP_EXTERNALENDPOINT: endpoint(p),
    CORE_PEER_LOCALMSPID: org.mspId,
    CORE_PEER_MSPCONFIGPATH: tls.msp,
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_TLS_CERT_FILE: tls.cert,
    CORE_PEER_TLS_KEY_FILE: tls.key,
    CORE_PEER_TLS_ROOTCERT_FILE: tls.ca,
    CORE_PEER_FILESYSTEMPATH: join(dir, 'data'),
    CORE_LEDGER_SNAPSHOTS_ROOTDIR: join(dir, 'snapshots'),
    CORE_LEDGER_HISTORY_ENABLEHISTORYDATABASE: 'true',
    CORE_PEER_GATEWAY_ENABLED: 'true',
    // Commit a block without private data that no endorser sent after 5 s, not Fabric's 60 s:
    // otherwise one transaction endorsed without the collection's org stalls that org's peer.
    CORE_PEER_GOSSIP_PVTDATA_PULLRETRYTHRESHOLD: '5s',
    CORE_OPERATIONS_LISTENADDRESS: `${host}:${p.operationsPort}`,
    CORE_OPERATIONS_TLS_ENABLED: 'true',
    CORE_OPERATIONS_TLS_CERT_FILE: tls.cert,
    CORE_OPERATIONS_TLS_KEY_FILE: tls.key,
    CORE_METRICS_PROVIDER: 'prometheus',
  };
}

/** GET https://host:opsPort/healthz with the node's CA; resolves to the JSON status or throws. */
export function healthz(host: string, port: number, caFile: string): Promise<{ status: string; failed_checks?: unknown[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/healthz', ca: readFileSync(caFile), timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`unexpected /healthz answer (${res.statusCode}): ${body.slice(0, 200)}`));
        }
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function startNode(
  name: string,
  binary: 'orderer' | 'peer',
  args: string[],
  env: NodeJS.ProcessEnv,
  ports: { host: string; port: number; what: string }[],
  health: { host: string; port: number; ca: string },
  /** Listeners that come up after /healthz reports OK (e.g. the orderer's admin endpoint). */
  alsoListening: { host: string; port: number }[] = [],
): Promise<void> {
  if (daemonPid(name, binary) === undefined) {
    for (const p of ports) await assertPortFree(p.host, p.port, `${name} (${p.what})`);
    const dataDir = env.ORDERER_FILELEDGER_LOCATION ?? env.CORE_PEER_FILESYSTEMPATH;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    startDaemon({ name, cmd: bin(binary), args, env, marker: binary });
  }
  await waitFor(
    `${name} to report healthy on ${health.host}:${health.port}/healthz`,
    async () => {
      if (daemonPid(name, binary) === undefined) throw new OperatorError(`${name} exited during start\n${logTail(name)}`);
      const h = await healthz(health.host, health.port, health.ca);
      if (h.status !== 'OK') return undefined;
      for (const l of alsoListening) if (!(await tcpOpen(l.host, l.port))) return undefined;
      return true;
    },
    { timeoutMs: 60_000, onTimeout: () => logTail(name) },
  );
}

export async function startOrderer(t: Topology, o: OrdererNode): Promise<void> {
  const org = ordererOrg(t);
  const h = listenHost(o.host);
  await startNode(
    ordererDaemon(org, o),
    'orderer',
    [],
    ordererEnv(t, o),
    [
      { host: h, port: o.port, what: 'listener' },
      { host: h, port: o.adminPort, what: 'admin' },
      { host: h, port: o.operationsPort, what: 'operations' },
    ],
    { host: o.host, port: o.operationsPort, ca: orgCaCert(org.key) },
    [{ host: o.host, port: o.adminPort }],
  );
}

export async function startPeer(org: Organization, p: PeerNode): Promise<void> {
  if (!existsSync(join(paths.nodeConfig, 'core.yaml'))) writePeerCoreYaml();
  const h = listenHost(p.host);
  await startNode(
    peerDaemon(org, p),
    'peer',
    ['node', 'start'],
    peerEnv(org, p),
    [
      { host: h, port: p.port, what: 'listener' },
      { host: h, port: p.chaincodeListenPort, what: 'chaincode listener' },
      { host: h, port: p.operationsPort, what: 'operations' },
    ],
    { host: p.host, port: p.operationsPort, ca: orgCaCert(org.key) },
    [{ host: p.host, port: p.port }],
  );
}

export const stopOrderer = (org: Organization, o: OrdererNode) => stopDaemon(ordererDaemon(org, o), 'orderer');
export const stopPeer = (org: Organization, p: PeerNode) => stopDaemon(peerDaemon(org, p), 'peer');
