/**
 * The gateway's configuration file for the local network (gateway/src/config/schema.ts): the
 * application organisations of the topology as the organisations it serves (every one, as the
 * gateway always did), their peers, CAs and registrars, and the other organisations' CA
 * certificates. The one place that turns the development layout (network/topology.ts, .data/)
 * into what a deployed gateway is given; `npm start` and the tests use it.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FabricNetwork, GatewayFile } from '../gateway/src/config/schema.js';
import { applicationOrgs, endpoint, type Organization, type Topology } from '../network/topology.js';
import { orgCaCert, registrarOf } from './network/ca.js';

/** A TLS server name for a host: certificates name hosts by DNS name, an IP address is not a valid SNI name. */
const hostOverride = (host: string) => (/^[\d.]+$/.test(host) ? { hostOverride: 'localhost' } : {});

export interface NetworkFiles {
  /** The org's CA certificate (also the TLS root of its peers and of its CA server). */
  caCert(org: Organization): string;
  /** A file holding only the registrar's secret. */
  registrarSecret(org: Organization): string;
}

/**
 * Write each org's CA certificate and registrar secret (mode 600) into `dir`, so the configuration
 * names nothing of the .data/ layout.
 */
export function copyNetworkFiles(topology: Topology, dir: string): NetworkFiles {
  mkdirSync(join(dir, 'ca'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  for (const org of topology.orgs) copyFileSync(orgCaCert(org.key), join(dir, 'ca', `${org.key}.pem`));
  for (const org of applicationOrgs(topology)) {
    const f = join(dir, 'secrets', `${org.key}-registrar.secret`);
    writeFileSync(f, `${registrarOf(org).secret}\n`, { mode: 0o600 });
    chmodSync(f, 0o600);
  }
  return {
    caCert: (org) => join(dir, 'ca', `${org.key}.pem`),
    registrarSecret: (org) => join(dir, 'secrets', `${org.key}-registrar.secret`),
  };
}

/** The gateway's view of the network: served organisations, their peers and CAs, trusted CAs. */
export function fabricNetworkOf(topology: Topology, files: NetworkFiles): FabricNetwork {
  const served = applicationOrgs(topology);
  return {
    channel: topology.channel,
    chaincode: topology.chaincode.name,
    organizations: served.map((org) => ({
      mspId: org.mspId,
      name: org.key,
      caCert: files.caCert(org),
      peers: org.peers.map((p) => ({ name: p.name, endpoint: endpoint(p), tlsRootCert: files.caCert(org), ...hostOverride(p.host) })),
      ca: {
        url: `https://${org.ca.host}:${org.ca.port}`,
        caName: org.ca.name,
        tlsRootCert: files.caCert(org),
        registrar: { enrollmentId: registrarOf(org).enrollmentId, secretFile: files.registrarSecret(org) },
      },
    })),
    trustedCas: topology.orgs.filter((o) => !served.includes(o)).map((o) => ({ mspId: o.mspId, caCert: files.caCert(o) })),
  };
}

/**
 * Write `<dir>/gateway-config.json` (mode 600: it names secret files) for the topology's network,
 * with the CA certificates and registrar secrets copied beside it. `settings` adds the rest of
 * the file (listen address, state folder, secrets, monitor, …). Answers the file's path.
 */
export function writeGatewayConfig(topology: Topology, dir: string, settings: Omit<GatewayFile, 'fabric'> = {}): string {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  const fabric = fabricNetworkOf(topology, copyNetworkFiles(topology, abs));
  const file = join(abs, 'gateway-config.json');
  writeFileSync(file, `${JSON.stringify({ ...settings, fabric }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The same view for a gateway run in-process on the .data/ layout itself (tests, benchmarks, tools). */
export function localFabricNetwork(topology: Topology, dir: string): FabricNetwork {
  return fabricNetworkOf(topology, copyNetworkFiles(topology, dir));
}
