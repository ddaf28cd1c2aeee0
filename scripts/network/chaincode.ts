/**
 * Chaincode as a service: build the TypeScript chaincode, package it per org (connection.json +
 * metadata.json, handled by our external builder), install on every peer, approve by every peer
 * org, commit, and run one chaincode server per org. A changed chaincode gets a new version and
 * the next sequence; the ledger is kept (upgrade).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { endpoint, ordererOrg, peerOrgs, type Organization, type Topology } from '../../network/topology.js';
import { bin } from '../fabric/install.js';
import { log, OperatorError } from '../lib/log.js';
import { paths, ROOT } from '../lib/paths.js';
import { daemonPid, logTail, run, startDaemon, stopDaemon, tcpOpen } from '../lib/proc.js';
import { retry, waitFor } from '../lib/wait.js';
import { identityFiles, listenHost, orgCaCert } from './ca.js';
import { peerCliEnv } from './channel.js';

const CC_MARKER = 'fabric-shim/cli.js';
const ccDaemon = (org: Organization) => `chaincode.${org.key}`;
const runningIdFile = (org: Organization) => join(paths.run, `chaincode.${org.key}.id`);

/** Compile chaincode/ and return a digest of what will run (compiled code + manifest). */
export async function buildChaincode(): Promise<string> {
  await run('npm', ['run', 'build', '-w', 'mvsec-chaincode'], { cwd: ROOT, timeoutMs: 300_000 });
  const h = createHash('sha256');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.js')) files.push(p);
    }
  };
  // What runs: the chaincode's compiled code and the protocol package it imports (mvsec-protocol).
  const protocol = join(ROOT, 'protocol');
  walk(join(paths.chaincodeSrc, 'dist'));
  walk(join(protocol, 'dist'));
  for (const f of [
    join(paths.chaincodeSrc, 'package.json'),
    join(paths.chaincodeSrc, 'collections.json'),
    join(protocol, 'package.json'),
    ...files,
  ]) {
    if (!existsSync(f)) continue;
    h.update(relative(paths.chaincodeSrc, f)).update('\0').update(readFileSync(f));
  }
  return h.digest('hex');
}

/** The chaincode version: package.json version + a digest of the code, so any change upgrades. */
export function chaincodeVersion(digest: string): string {
  const { version } = JSON.parse(readFileSync(join(paths.chaincodeSrc, 'package.json'), 'utf8')) as { version: string };
  return `${version}-${digest.slice(0, 12)}`;
}

/** Deterministic tar.gz of a directory (same content → same bytes → same package id). */
async function tarGz(dir: string, out: string, entries: string[]): Promise<void> {
  await run('bash', [
    '-c',
    `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf - ${entries.map((_, i) => `"$${i + 3}"`).join(' ')} | gzip -n > "$2"`,
    'tar',
    dir,
    out,
    ...entries,
  ]);
}

/** Build this org's CCaaS package; returns its path. The peer dials the org's chaincode server. */
async function packageFor(t: Topology, org: Organization, version: string): Promise<string> {
  const peer = org.peers[0];
  const dir = join(paths.chaincode, org.key, version);
  const pkg = join(dir, `${t.chaincode.name}.tar.gz`);
  if (existsSync(pkg)) return pkg;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  const tlsPeer = identityFiles(org.key, peer.name);
  const connection = {
    address: endpoint(peer.chaincodeServer),
    dial_timeout: '10s',
    tls_required: true,
    client_auth_required: true,
    client_key: readFileSync(tlsPeer.tlsKey, 'utf8'),
    client_cert: readFileSync(tlsPeer.tlsCert, 'utf8'),
    root_cert: readFileSync(orgCaCert(org.key), 'utf8'),
  };
  writeFileSync(join(dir, 'src', 'connection.json'), JSON.stringify(connection, null, 2), { mode: 0o600 });
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ type: 'ccaas', label: `${t.chaincode.name}_${version}` }));
  await tarGz(join(dir, 'src'), join(dir, 'code.tar.gz'), ['connection.json']);
  await tarGz(dir, pkg, ['code.tar.gz', 'metadata.json']);
  return pkg;
}

export interface CommittedDefinition {
  sequence: number;
  version: string;
  endorsement_plugin: string;
  approvals: Record<string, boolean>;
}

/** The chaincode definition committed on the channel, as one peer reports it. */
export async function queryCommitted(t: Topology, org: Organization): Promise<CommittedDefinition | undefined> {
  try {
    const { stdout } = await run(
      bin('peer'),
      ['lifecycle', 'chaincode', 'querycommitted', '-C', t.channel, '-n', t.chaincode.name, '-O', 'json'],
      {
        env: peerCliEnv(org, org.peers[0]),
        timeoutMs: 15_000,
      },
    );
    return JSON.parse(stdout) as CommittedDefinition;
  } catch (e) {
    if (/namespace .* is not defined|not found/i.test((e as Error).message)) return undefined;
    throw e;
  }
}

function ordererArgs(t: Topology): string[] {
  const o = ordererOrg(t);
  return ['-o', endpoint(o.orderers[0]), '--tls', '--cafile', orgCaCert(o.key)];
}

function definitionArgs(t: Topology, version: string, sequence: number): string[] {
  const args = [
    '--channelID',
    t.channel,
    '--name',
    t.chaincode.name,
    '--version',
    version,
    '--sequence',
    String(sequence),
    '--signature-policy',
    t.chaincode.signaturePolicy,
  ];
  const collections = join(paths.chaincodeSrc, 'collections.json');
  if (existsSync(collections)) args.push('--collections-config', collections);
  return args;
}

/** Install the package on the org's peers; returns its package id. */
async function install(org: Organization, pkg: string): Promise<string> {
  const env = peerCliEnv(org, org.peers[0]);
  const { stdout } = await run(bin('peer'), ['lifecycle', 'chaincode', 'calculatepackageid', pkg], { env });
  const packageId = stdout.trim();
  for (const p of org.peers) {
    const penv = peerCliEnv(org, p);
    const installed = await run(bin('peer'), ['lifecycle', 'chaincode', 'queryinstalled', '-O', 'json'], { env: penv });
    if (installed.stdout.includes(packageId)) continue;
    await run(bin('peer'), ['lifecycle', 'chaincode', 'install', pkg], { env: penv, timeoutMs: 120_000 });
  }
  return packageId;
}

/** Start (or restart on a new package id) the org's chaincode server and wait until it listens. */
async function startChaincodeServer(org: Organization, packageId: string): Promise<void> {
  const server = org.peers[0].chaincodeServer;
  const running = daemonPid(ccDaemon(org), CC_MARKER) !== undefined;
  const runningId = existsSync(runningIdFile(org)) ? readFileSync(runningIdFile(org), 'utf8') : '';
  if (running && runningId === packageId) return;
  if (running) await stopDaemon(ccDaemon(org), CC_MARKER);
  const tls = identityFiles(org.key, 'ccaas');
  startDaemon({
    name: ccDaemon(org),
    cmd: process.execPath,
    cwd: paths.chaincodeSrc,
    marker: CC_MARKER,
    args: [
      join(ROOT, 'node_modules', 'fabric-shim', 'cli.js'),
      'server',
      '--chaincode-address',
      `${listenHost(server.host)}:${server.port}`,
      '--chaincode-id',
      packageId,
      '--chaincode-tls-cert-file',
      tls.tlsCert,
      '--chaincode-tls-key-file',
      tls.tlsKey,
      '--chaincode-tls-client-cacert-file',
      orgCaCert(org.key),
      '--module-path',
      paths.chaincodeSrc,
    ],
    // CORE_PEER_LOCALMSPID: the organisation of the one peer this server serves (its TLS client CA
    // is that org's), read by the chaincode as stub.getMspID() (PII rule: only member peers process PII).
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CORE_CHAINCODE_LOGGING_LEVEL: process.env.MVSEC_CHAINCODE_LOG ?? 'info',
      CORE_PEER_LOCALMSPID: org.mspId,
    },
  });
  writeFileSync(runningIdFile(org), packageId);
  await waitFor(
    `chaincode server of ${org.mspId} on ${endpoint(server)}`,
    async () => {
      if (daemonPid(ccDaemon(org), CC_MARKER) === undefined)
        throw new OperatorError(`chaincode server of ${org.mspId} exited\n${logTail(ccDaemon(org))}`);
      return (await tcpOpen(server.host, server.port)) ? true : undefined;
    },
    { timeoutMs: 30_000, onTimeout: () => logTail(ccDaemon(org)) },
  );
}

export async function stopChaincodeServers(t: Topology): Promise<void> {
  await Promise.all(peerOrgs(t).map((org) => stopDaemon(ccDaemon(org), CC_MARKER)));
}

/** Orgs that have approved `version` at `sequence` (peer lifecycle checkcommitreadiness). */
async function approvals(t: Topology, org: Organization, version: string, sequence: number): Promise<Record<string, boolean>> {
  const { stdout } = await run(
    bin('peer'),
    ['lifecycle', 'chaincode', 'checkcommitreadiness', ...definitionArgs(t, version, sequence), '-O', 'json'],
    {
      env: peerCliEnv(org, org.peers[0]),
    },
  );
  return (JSON.parse(stdout) as { approvals: Record<string, boolean> }).approvals;
}

/**
 * Deploy whatever chaincode/ holds: build, package, install, approve, commit, and run the
 * servers. Idempotent: when the committed definition already has this version, only the servers
 * are (re)started.
 */
export async function deployChaincode(t: Topology, opts: { versionSuffix?: string } = {}): Promise<{ version: string; sequence: number }> {
  const orgs = peerOrgs(t);
  // A suffix forces a new definition for unchanged code (e.g. to prove an upgrade keeps the ledger).
  const version = chaincodeVersion(await buildChaincode()) + (opts.versionSuffix ? `-${opts.versionSuffix}` : '');
  const committed = await queryCommitted(t, orgs[0]);
  const packageIds = new Map<string, string>();
  for (const org of orgs) packageIds.set(org.key, await install(org, await packageFor(t, org, version)));
  for (const org of orgs) await startChaincodeServer(org, packageIds.get(org.key)!);
  if (committed?.version === version) return { version, sequence: committed.sequence };

  const sequence = (committed?.sequence ?? 0) + 1;
  log.step(
    `chaincode ${t.chaincode.name} ${version}: approving sequence ${sequence}${committed ? ` (upgrade from ${committed.version})` : ''}`,
  );
  for (const org of orgs) {
    const approved = await approvals(t, org, version, sequence);
    if (approved[org.mspId]) continue;
    // Right after the channel is created Raft may still be electing a leader: retry with backoff.
    await retry(
      `${org.mspId} to approve ${t.chaincode.name}`,
      () =>
        run(
          bin('peer'),
          [
            'lifecycle',
            'chaincode',
            'approveformyorg',
            ...ordererArgs(t),
            ...definitionArgs(t, version, sequence),
            '--package-id',
            packageIds.get(org.key)!,
          ],
          {
            env: peerCliEnv(org, org.peers[0]),
            timeoutMs: 60_000,
          },
        ),
      { timeoutMs: 90_000 },
    );
  }
  const peerArgs = orgs.flatMap((o) =>
    o.peers.slice(0, 1).flatMap((p) => ['--peerAddresses', endpoint(p), '--tlsRootCertFiles', orgCaCert(o.key)]),
  );
  await retry(
    `commit of ${t.chaincode.name} ${version}`,
    () =>
      run(bin('peer'), ['lifecycle', 'chaincode', 'commit', ...ordererArgs(t), ...definitionArgs(t, version, sequence), ...peerArgs], {
        env: peerCliEnv(orgs[0], orgs[0].peers[0]),
        timeoutMs: 60_000,
      }),
    { timeoutMs: 90_000 },
  );
  return { version, sequence };
}
