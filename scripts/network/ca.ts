/**
 * One Fabric CA per organisation. It issues every identity of its org — node, admin and user
 * certificates with the mvsec attributes (role, principal) and the TLS certificates — so the
 * channel MSP of an org is exactly its CA certificate plus the NodeOU configuration.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import type { Organization } from '../../network/topology.js';
import { bin } from '../fabric/install.js';
import { OperatorError } from '../lib/log.js';
import { paths } from '../lib/paths.js';
import { assertPortFree, daemonPid, logTail, run, startDaemon, stopDaemon } from '../lib/proc.js';
import { waitFor } from '../lib/wait.js';

export type IdentityType = 'admin' | 'client' | 'peer' | 'orderer';

export interface IdentitySpec {
  name: string;
  type: IdentityType;
  /** X.509 attributes put into the enrollment certificate, e.g. { role: 'admin', principal: 'ops-1' }. */
  attrs?: Record<string, string>;
  /** Host names for a TLS certificate; omit for identities that never serve TLS. */
  tlsHosts?: string[];
  /** Enroll only a TLS certificate (e.g. for a chaincode server). */
  tlsOnly?: boolean;
}

const caDaemon = (org: Organization) => `${org.ca.name}`;
const caCert = (org: Organization) => join(paths.ca(org.key), 'ca-cert.pem');
const secretsFile = (org: Organization) => join(paths.ca(org.key), 'secrets.json');
const registrarHome = (org: Organization) => join(paths.ca(org.key), 'registrar');
const caUrl = (org: Organization) => `https://${org.ca.host}:${org.ca.port}`;

/** The NodeOU configuration: role of a certificate from its OU, so `Org.peer`/`Org.admin` policies work. */
function nodeOuConfig(): string {
  const ou = (name: string) =>
    `  ${name[0].toUpperCase()}${name.slice(1)}OUIdentifier:\n    Certificate: cacerts/ca.pem\n    OrganizationalUnitIdentifier: ${name}\n`;
  return `NodeOUs:\n  Enable: true\n${['client', 'peer', 'admin', 'orderer'].map(ou).join('')}`;
}

/** Secrets live in the CA's data folder (mode 600), generated once, never printed. */
function secret(org: Organization, name: string): string {
  const f = secretsFile(org);
  const all: Record<string, string> = existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : {};
  if (!all[name]) {
    all[name] = randomBytes(18).toString('base64url');
    writeFileSync(f, JSON.stringify(all, null, 2), { mode: 0o600 });
  }
  return all[name];
}

/** The registrar's enrollment id and secret at the org's CA (bootstrapped by `startCa`). */
export function registrarOf(org: Organization): { enrollmentId: string; secret: string } {
  return { enrollmentId: 'registrar', secret: secret(org, 'registrar') };
}

function fetchCaInfo(org: Organization): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: org.ca.host, port: org.ca.port, path: `/cainfo?ca=${org.ca.name}`, ca: readFileSync(caCert(org)), timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export function caRunning(org: Organization): boolean {
  return daemonPid(caDaemon(org), 'fabric-ca-server') !== undefined;
}

/** Start the org's CA (initialising it on first use) and wait until it answers over TLS. */
export async function startCa(org: Organization): Promise<void> {
  const home = paths.ca(org.key);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (!caRunning(org)) {
    await assertPortFree(org.ca.host, org.ca.port, `the CA ${org.ca.name}`);
    await assertPortFree(org.ca.host, org.ca.operationsPort, `the CA ${org.ca.name} (operations)`);
    const hosts = [...new Set(['localhost', '127.0.0.1', org.ca.host])].join(',');
    startDaemon({
      name: caDaemon(org),
      cmd: bin('fabric-ca-server'),
      marker: 'fabric-ca-server',
      args: [
        'start',
        '--home',
        home,
        '--boot',
        `registrar:${secret(org, 'registrar')}`,
        '--address',
        listenHost(org.ca.host),
        '--port',
        String(org.ca.port),
        '--ca.name',
        org.ca.name,
        '--csr.cn',
        `ca.${org.domain}`,
        '--csr.hosts',
        hosts,
        '--tls.enabled',
        '--operations.listenaddress',
        `${listenHost(org.ca.host)}:${org.ca.operationsPort}`,
        '--metrics.provider',
        'prometheus',
      ],
      env: { ...process.env, FABRIC_CA_SERVER_HOME: home },
    });
  }
  await waitFor(
    `CA ${org.ca.name} on ${org.ca.host}:${org.ca.port}`,
    async () => {
      if (!caRunning(org)) throw new OperatorError(`CA ${org.ca.name} exited during start\n${logTail(caDaemon(org))}`);
      if (!existsSync(caCert(org))) return undefined;
      return (await fetchCaInfo(org)) ? true : undefined;
    },
    { timeoutMs: 30_000, onTimeout: () => logTail(caDaemon(org)) },
  );
  writeOrgMsp(org);
}

export async function stopCa(org: Organization): Promise<boolean> {
  return stopDaemon(caDaemon(org), 'fabric-ca-server');
}

/** The org's channel MSP: CA certificate (also the TLS CA) + NodeOU config. */
function writeOrgMsp(org: Organization): void {
  const msp = paths.orgMsp(org.key);
  for (const d of ['cacerts', 'tlscacerts']) {
    mkdirSync(join(msp, d), { recursive: true });
    copyFileSync(caCert(org), join(msp, d, 'ca.pem'));
  }
  writeFileSync(join(msp, 'config.yaml'), nodeOuConfig());
}

/** A node listens on every interface when its advertised host is not loopback. */
export function listenHost(host: string): string {
  return ['127.0.0.1', 'localhost'].includes(host) ? '127.0.0.1' : '0.0.0.0';
}

async function caClient(org: Organization, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(bin('fabric-ca-client'), [...args, '--caname', org.ca.name, '--tls.certfiles', caCert(org)], {
    env: { FABRIC_CA_CLIENT_HOME: registrarHome(org) },
    timeoutMs: 30_000,
  });
  return stdout + stderr;
}

async function enrollRegistrar(org: Organization): Promise<void> {
  if (existsSync(join(registrarHome(org), 'msp', 'signcerts', 'cert.pem'))) return;
  const url = caUrl(org).replace('https://', `https://registrar:${secret(org, 'registrar')}@`);
  await caClient(org, ['enroll', '-u', url, '-H', registrarHome(org)]);
}

/** Register an identity with the org's CA; already-registered identities are left as they are. */
export async function register(org: Organization, spec: IdentitySpec): Promise<string> {
  await enrollRegistrar(org);
  const pw = secret(org, spec.name);
  const args = ['register', '-u', caUrl(org), '-H', registrarHome(org), '--id.name', spec.name, '--id.secret', pw, '--id.type', spec.type];
  const attrs = Object.entries(spec.attrs ?? {}).map(([k, v]) => `${k}=${v}:ecert`);
  if (attrs.length) args.push('--id.attrs', attrs.join(','));
  try {
    await caClient(org, args);
  } catch (e) {
    if (!/already registered/i.test((e as Error).message)) throw e;
  }
  return pw;
}

/**
 * Register a new identity with a fresh random secret that enrols at most `maxEnrollments` times
 * (the secret is returned, never stored here): for people who enrol with their own key elsewhere,
 * e.g. an auditor. An id already registered is refused (no secret is handed out twice).
 */
export async function registerForOthers(org: Organization, spec: IdentitySpec, maxEnrollments = 1): Promise<string> {
  await enrollRegistrar(org);
  const pw = randomBytes(24).toString('base64url');
  const args = ['register', '-u', caUrl(org), '-H', registrarHome(org), '--id.name', spec.name, '--id.secret', pw, '--id.type', spec.type];
  args.push('--id.maxenrollments', String(maxEnrollments));
  const attrs = Object.entries(spec.attrs ?? {}).map(([k, v]) => `${k}=${v}:ecert`);
  if (attrs.length) args.push('--id.attrs', attrs.join(','));
  try {
    await caClient(org, args);
  } catch (e) {
    if (/already registered/i.test((e as Error).message))
      throw new Error(`${spec.name} is already registered at ${org.ca.name}; choose another name`);
    throw e;
  }
  return pw;
}

/** Where the org's CA listens and the certificate its TLS (and signing) chains to. */
export function caEndpoint(org: Organization): { url: string; caName: string; tlsCaFile: string } {
  return { url: caUrl(org), caName: org.ca.name, tlsCaFile: caCert(org) };
}

/** Normalise an MSP folder written by fabric-ca-client: fixed file names, NodeOU config. */
function normaliseMsp(dir: string, caFolder: 'cacerts' | 'tlscacerts'): void {
  const cas = join(dir, caFolder);
  for (const f of readdirSync(cas)) if (f !== 'ca.pem') renameSync(join(cas, f), join(cas, 'ca.pem'));
  const keys = join(dir, 'keystore');
  const [key] = readdirSync(keys).filter((f) => f.endsWith('_sk'));
  if (key) renameSync(join(keys, key), join(keys, 'key.pem'));
  chmodSync(join(keys, 'key.pem'), 0o600);
  if (caFolder === 'cacerts') writeFileSync(join(dir, 'config.yaml'), nodeOuConfig());
}

/**
 * Register and enroll an identity, writing <identity>/msp (signing) and <identity>/tls (TLS)
 * under the org's crypto folder. Idempotent: existing enrollments are kept.
 */
export async function enroll(org: Organization, spec: IdentitySpec): Promise<string> {
  const dir = paths.identity(org.key, spec.name);
  const mspDir = join(dir, 'msp');
  const tlsDir = join(dir, 'tls');
  const needMsp = !spec.tlsOnly && !existsSync(join(mspDir, 'signcerts', 'cert.pem'));
  const needTls = spec.tlsHosts !== undefined && !existsSync(join(tlsDir, 'signcerts', 'cert.pem'));
  if (!needMsp && !needTls) return dir;
  const pw = await register(org, spec);
  const url = caUrl(org).replace('https://', `https://${encodeURIComponent(spec.name)}:${pw}@`);
  if (needMsp) {
    rmSync(mspDir, { recursive: true, force: true });
    await caClient(org, ['enroll', '-u', url, '-M', mspDir, '--csr.cn', spec.name, '--csr.names', `O=${org.mspId}`]);
    normaliseMsp(mspDir, 'cacerts');
  }
  if (needTls) {
    rmSync(tlsDir, { recursive: true, force: true });
    const hosts = [...new Set([...(spec.tlsHosts ?? []), 'localhost', '127.0.0.1'])].join(',');
    await caClient(org, ['enroll', '-u', url, '-M', tlsDir, '--enrollment.profile', 'tls', '--csr.cn', spec.name, '--csr.hosts', hosts]);
    normaliseMsp(tlsDir, 'tlscacerts');
  }
  return dir;
}

/** Paths of an enrolled identity's files. */
export function identityFiles(orgKey: string, name: string) {
  const dir = paths.identity(orgKey, name);
  return {
    dir,
    msp: join(dir, 'msp'),
    cert: join(dir, 'msp', 'signcerts', 'cert.pem'),
    key: join(dir, 'msp', 'keystore', 'key.pem'),
    tlsCert: join(dir, 'tls', 'signcerts', 'cert.pem'),
    tlsKey: join(dir, 'tls', 'keystore', 'key.pem'),
    tlsCa: join(dir, 'tls', 'tlscacerts', 'ca.pem'),
  };
}

/** The CA (and TLS CA) certificate of an org. */
export function orgCaCert(orgKey: string): string {
  return join(paths.orgMsp(orgKey), 'cacerts', 'ca.pem');
}
