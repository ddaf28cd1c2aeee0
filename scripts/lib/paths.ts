/** Where the project keeps binaries, configuration, crypto material, ledgers and logs. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Fabric binaries and their sample configuration (git-ignored). */
export const FABRIC_HOME = process.env.MVSEC_FABRIC_HOME ?? join(ROOT, '.fabric');
/** All network state: CA databases, MSPs, ledgers, logs and pid files (git-ignored). */
export const DATA = resolve(process.env.MVSEC_DATA_DIR ?? join(ROOT, '.data'));

export const paths = {
  fabricBin: join(FABRIC_HOME, 'bin'),
  fabricConfig: join(FABRIC_HOME, 'config'),
  logs: join(DATA, 'logs'),
  run: join(DATA, 'run'),
  ca: (org: string) => join(DATA, 'ca', org),
  org: (org: string) => join(DATA, 'crypto', org),
  /** The org's channel MSP (CA certs + NodeOU config), used in the channel configuration. */
  orgMsp: (org: string) => join(DATA, 'crypto', org, 'msp'),
  identity: (org: string, name: string) => join(DATA, 'crypto', org, 'identities', name),
  node: (org: string, name: string) => join(DATA, 'nodes', `${name}.${org}`),
  nodeConfig: join(DATA, 'config'),
  channel: join(DATA, 'channel'),
  chaincode: join(DATA, 'chaincode'),
  builders: join(ROOT, 'network', 'builders'),
  chaincodeSrc: join(ROOT, 'chaincode'),
};
