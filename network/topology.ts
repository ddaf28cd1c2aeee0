/**
 * The network definition: organisations, nodes, hosts and ports. Everything runs on loopback by
 * default; an operator spreading the network over several hosts writes a JSON file with the same
 * shape (only the fields to change) and points MVSEC_TOPOLOGY at it. See docs/operator.md.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface Endpoint {
  /** Host other nodes and clients use to reach this node. */
  host: string;
  port: number;
}

export interface CaNode extends Endpoint {
  name: string;
  operationsPort: number;
}

export interface OrdererNode extends Endpoint {
  name: string;
  adminPort: number;
  operationsPort: number;
}

export interface PeerNode extends Endpoint {
  name: string;
  /** Port the peer listens on for legacy chaincode launches (unused with CCaaS but must not clash). */
  chaincodeListenPort: number;
  operationsPort: number;
  /** Where this org's chaincode-as-a-service process listens; the peer dials it. */
  chaincodeServer: Endpoint;
}

export interface Organization {
  /** Short name used for folders and identities. */
  key: string;
  mspId: string;
  /** DNS-style domain used in certificate subjects. */
  domain: string;
  ca: CaNode;
  peers: PeerNode[];
  orderers: OrdererNode[];
}

export interface Topology {
  channel: string;
  chaincode: { name: string; signaturePolicy: string };
  orgs: Organization[];
}

const LOOPBACK = '127.0.0.1';

function peer(name: string, port: number, ccPort: number, opsPort: number): PeerNode {
  return {
    name,
    host: LOOPBACK,
    port,
    chaincodeListenPort: port + 1,
    operationsPort: opsPort,
    chaincodeServer: { host: LOOPBACK, port: ccPort },
  };
}

function orderer(name: string, port: number, opsPort: number): OrdererNode {
  return { name, host: LOOPBACK, port, adminPort: port + 3, operationsPort: opsPort };
}

function ca(name: string, port: number): CaNode {
  return { name, host: LOOPBACK, port, operationsPort: port + 1000 };
}

export const DEFAULT_TOPOLOGY: Topology = {
  channel: 'mvsec',
  chaincode: {
    name: 'mvsec',
    // A majority of the three peer organisations (ARCHITECTURE §2).
    signaturePolicy: "OutOf(2,'IoTPlatformMSP.peer','MetaverseAMSP.peer','MetaverseBMSP.peer')",
  },
  orgs: [
    {
      key: 'orderer',
      mspId: 'OrdererMSP',
      domain: 'orderer.mvsec.local',
      ca: ca('ca-orderer', 7054),
      peers: [],
      orderers: [orderer('orderer1', 7050, 9441), orderer('orderer2', 7150, 9442), orderer('orderer3', 7250, 9443)],
    },
    {
      key: 'iot',
      mspId: 'IoTPlatformMSP',
      domain: 'iot.mvsec.local',
      ca: ca('ca-iot', 7055),
      peers: [peer('peer0', 7051, 9991, 9451)],
      orderers: [],
    },
    {
      key: 'mva',
      mspId: 'MetaverseAMSP',
      domain: 'mva.mvsec.local',
      ca: ca('ca-mva', 7056),
      peers: [peer('peer0', 8051, 9992, 9452)],
      orderers: [],
    },
    {
      key: 'mvb',
      mspId: 'MetaverseBMSP',
      domain: 'mvb.mvsec.local',
      ca: ca('ca-mvb', 7057),
      peers: [peer('peer0', 9051, 9993, 9453)],
      orderers: [],
    },
    {
      key: 'dpm',
      mspId: 'DPMProviderMSP',
      domain: 'dpm.mvsec.local',
      ca: ca('ca-dpm', 7058),
      peers: [],
      orderers: [],
    },
  ],
};

/** Deep-merge `override` into `base`; arrays of named nodes merge by `key`/`name`, others replace. */
function merge<T>(base: T, override: unknown): T {
  if (override === undefined) return base;
  if (Array.isArray(base) && Array.isArray(override)) {
    const id = (x: Record<string, unknown>) => (x.key ?? x.name) as string | undefined;
    const merged = base.map((b: Record<string, unknown>) => {
      const o = (override as Record<string, unknown>[]).find((x) => id(x) !== undefined && id(x) === id(b));
      return o ? merge(b, o) : b;
    });
    const extra = (override as Record<string, unknown>[]).filter((o) => !base.some((b: Record<string, unknown>) => id(b) === id(o)));
    return [...merged, ...extra] as T;
  }
  if (base !== null && typeof base === 'object' && override !== null && typeof override === 'object') {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(override as Record<string, unknown>)) {
      out[k] = merge((base as Record<string, unknown>)[k], v);
    }
    return out as T;
  }
  return override as T;
}

/** Shift every port by `offset`, so a second network (e.g. the tests') can run beside the first. */
function shiftPorts<T>(value: T, offset: number): T {
  if (Array.isArray(value)) return value.map((v) => shiftPorts(v, offset)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === 'number' && /port$/i.test(k) ? v + offset : shiftPorts(v, offset);
  }
  return out as T;
}

/**
 * The topology in force: the default, with MVSEC_TOPOLOGY's JSON merged over it and every port
 * shifted by MVSEC_PORT_OFFSET (default 0).
 */
export function loadTopology(env: NodeJS.ProcessEnv = process.env): Topology {
  const offset = Number(env.MVSEC_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || offset > 50_000) {
    throw new Error(`MVSEC_PORT_OFFSET must be an integer between 0 and 50000, not "${env.MVSEC_PORT_OFFSET}"`);
  }
  return shiftPorts(baseTopology(env), offset);
}

function baseTopology(env: NodeJS.ProcessEnv): Topology {
  const file = env.MVSEC_TOPOLOGY;
  if (!file) return DEFAULT_TOPOLOGY;
  if (!existsSync(file)) throw new Error(`MVSEC_TOPOLOGY points at ${file}, which does not exist`);
  let override: unknown;
  try {
    override = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`MVSEC_TOPOLOGY file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  return merge(DEFAULT_TOPOLOGY, override);
}

export const ordererOrg = (t: Topology) => t.orgs.find((o) => o.orderers.length > 0)!;
export const peerOrgs = (t: Topology) => t.orgs.filter((o) => o.peers.length > 0);
export const applicationOrgs = (t: Topology) => t.orgs.filter((o) => o.orderers.length === 0);
export const endpoint = (e: Endpoint) => `${e.host}:${e.port}`;
