/**
 * A small domain world on the real network, shared by the chaincode integration tests and the
 * chaincode benchmark: fresh CA identities per org, platforms, a federation, a thing, an avatar
 * and a data anchor, all with run-unique ids so files can run against a network that is reused.
 */
import './network.js';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { credentials, type FabricConnection } from '../../../scripts/network/client.js';
import { commitEndorsed, connectAs, contractOf, newUser, org, topology, utf8 } from './network.js';

export const IOT = 'IoTPlatformMSP';
export const MVA = 'MetaverseAMSP';
export const MVB = 'MetaverseBMSP';
export const DPM = 'DPMProviderMSP';

export type Contract = ReturnType<typeof contractOf>;

export interface Actor {
  mspId: string;
  name: string;
  principal: string;
  conn: FabricConnection;
  /** the identity's enrollment certificate (PEM) */
  certificate: string;
  /** `<contract>` of the chaincode as this identity */
  cc(contractName: string): Contract;
}

export interface Committed {
  txId: string;
  successful: boolean;
  code: number;
  blockNumber: bigint;
  result: string;
}

/** The name of a transaction validation code (StatusCode is a plain object, not an enum). */
export const statusName = (code: number) => Object.entries(StatusCode).find(([, v]) => v === code)?.[0] ?? String(code);

export const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

/** A fresh identity of `mspId` (role, principal) with a Gateway connection through a peer (DPM has none: via IoT's). */
export async function actor(mspId: string, role: string, principal?: string): Promise<Actor> {
  const o = org(mspId);
  const user = await newUser(o, { role, principal });
  const conn = o.peers.length ? connectAs(o, user.name) : connectAs(o, user.name, { org: org(IOT) });
  const certificate = Buffer.from(credentials(o, user.name).identity.credentials).toString('utf8');
  return { mspId, name: user.name, principal: user.principal, conn, certificate, cc: (c) => contractOf(conn, c) };
}

export interface SubmitOptions {
  transient?: Record<string, string>;
  endorsingOrganizations?: string[];
}

/**
 * Endorse, submit and wait for the commit status (resending while the ordering service elects a
 * leader) and until every watched peer has the block. Returns the status, successful or not.
 */
export async function submit(contract: Contract, fn: string, args: string[], options: SubmitOptions = {}): Promise<Committed> {
  const transientData = options.transient
    ? Object.fromEntries(Object.entries(options.transient).map(([k, v]) => [k, Buffer.from(v)]))
    : undefined;
  const proposal = contract.newProposal(fn, {
    arguments: args,
    ...(transientData ? { transientData } : {}),
    ...(options.endorsingOrganizations ? { endorsingOrganizations: options.endorsingOrganizations } : {}),
  });
  // Right after the network starts, a Gateway peer may not yet know another org's peer through
  // gossip ("failed to find any endorsing peers for org(s) …", UNAVAILABLE): retry the endorsement.
  const tx = await retryUnavailable(() => proposal.endorse());
  const result = utf8(tx.getResult());
  const status = await commitEndorsed(tx);
  await settle(status.blockNumber);
  return { txId: tx.getTransactionId(), successful: status.successful, code: status.code, blockNumber: status.blockNumber, result };
}

/**
 * One connection per peer org: after a commit, wait until every one of those peers has committed
 * that block, so a next step endorsed or read on another org's peer sees it (a commit status
 * only says the Gateway's own peer committed it).
 */
const peerProbes = new Set<FabricConnection>();

export function watchPeers(...conns: FabricConnection[]): void {
  for (const c of conns) peerProbes.add(c);
}
export function unwatchPeers(...conns: FabricConnection[]): void {
  for (const c of conns) peerProbes.delete(c);
}

export async function settle(blockNumber: bigint, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const conn of peerProbes) {
    while ((await channelHeight(conn)) <= blockNumber) {
      if (Date.now() > deadline) throw new Error(`a peer has not committed block ${blockNumber} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function retryUnavailable<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 200; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: number }).code !== 14 || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Submit and require a valid commit; returns the parsed result (or the raw string). */
export async function ok<T = unknown>(
  contract: Contract,
  fn: string,
  args: string[],
  options: SubmitOptions = {},
): Promise<{ value: T; tx: Committed }> {
  let tx: Committed;
  try {
    tx = await submit(contract, fn, args, options);
  } catch (e) {
    throw new Error(`${fn} refused: ${refusal(e)}`, { cause: e });
  }
  if (!tx.successful) throw new Error(`${fn} was invalidated at commit: ${statusName(tx.code)} (${tx.code})`);
  return { value: (tx.result ? JSON.parse(tx.result) : undefined) as T, tx };
}

export async function evaluate<T = unknown>(contract: Contract, fn: string, args: string[]): Promise<T> {
  const s = utf8(await contract.evaluateTransaction(fn, ...args));
  return (s ? JSON.parse(s) : undefined) as T;
}

/** The message a refused call carries, including every peer's detail (where the chaincode's reason is). */
export function refusal(e: unknown): string {
  if (e instanceof GatewayError) return [e.message, ...e.details.map((d) => `${d.mspId}: ${d.message}`)].join(' | ');
  return String((e as Error)?.message ?? e);
}

/** Run `fn`, which must throw; return the refusal text. */
export async function refused(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return refusal(e);
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

/** Current channel height seen by `conn`'s peer (qscc GetChainInfo). */
export async function channelHeight(conn: FabricConnection): Promise<bigint> {
  const qscc = conn.gateway.getNetwork(topology.channel).getContract('qscc');
  const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', topology.channel));
  return BigInt(info.getHeight());
}

/** Raw bytes of every block from `first` to `last` (inclusive), as delivered by `conn`'s peer. */
export async function blockBytes(conn: FabricConnection, first: bigint, last: bigint): Promise<Map<bigint, Uint8Array>> {
  const out = new Map<bigint, Uint8Array>();
  const events = await conn.gateway.getNetwork(topology.channel).getBlockEvents({ startBlock: first });
  try {
    for await (const block of events) {
      const n = BigInt(block.getHeader()!.getNumber());
      out.set(n, block.serializeBinary());
      if (n >= last) break;
    }
  } finally {
    events.close();
  }
  return out;
}

export function contains(haystack: Uint8Array, needle: string | Uint8Array): boolean {
  return Buffer.from(haystack).includes(typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle));
}

export const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();
export const DAY = 24 * 3600 * 1000;

/** Everything the chaincode tests need, ids unique to this run. */
export interface World {
  run: string;
  iotAdmin: Actor;
  mvaAdmin: Actor;
  mvbAdmin: Actor;
  dpmAdmin: Actor;
  /** IoT creator, owner of the thing */
  alice: Actor;
  /** the DPM provider identity (role dpm, principal = provider platform id) */
  provider: Actor;
  iotId: string;
  mvaId: string;
  mvbId: string;
  dpmId: string;
  thingId: string;
  avatarId: string;
  close(): void;
}

/**
 * Register `platformId` as the metaverse platform of `a`'s organisation. The chaincode lets an
 * MSP run one ACTIVE metaverse platform (rule 6); on a reused network an earlier run's is still
 * ACTIVE, and the refusal names it: the operator replaces it (suspends it), then registers.
 */
export async function registerMetaverse(a: Actor, platformId: string, capabilityLevel = 3) {
  await retireMetaverseOf(a, `replaced by ${platformId}`);
  return ok(a.cc('platform'), 'RegisterPlatform', [JSON.stringify({ platformId, type: 'METAVERSE', name: platformId, capabilityLevel })]);
}

/** Suspend the ACTIVE metaverse platform of admin `a`'s MSP, if it runs one (platform:GetMetaverseOfMsp). */
export async function retireMetaverseOf(a: Actor, reason: string): Promise<void> {
  let current: { platformId: string; status: string } | undefined;
  try {
    current = await evaluate(a.cc('platform'), 'GetMetaverseOfMsp', [a.mspId]);
  } catch (e) {
    if (!/NOT_FOUND/.test(refusal(e))) throw e;
  }
  if (current?.status === 'ACTIVE') await ok(a.cc('platform'), 'SuspendPlatform', [current.platformId, reason]);
}

/**
 * Before a flow that registers metaverse platforms through a gateway: suspend the ones an earlier
 * run left ACTIVE (an MSP runs one ACTIVE metaverse platform, rule 6), as their operators would.
 */
export async function retireMetaverses(...mspIds: string[]): Promise<void> {
  for (const mspId of mspIds) {
    const admin = await actor(mspId, 'admin');
    try {
      await retireMetaverseOf(admin, 'replaced by a new test run');
    } finally {
      admin.conn.close();
    }
  }
}

/** Register platforms (IoT, two metaverses, DPM), federate the metaverses, register a thing and map an avatar. */
export async function buildWorld(label: string): Promise<World> {
  const run = `${label}-${randomUUID().slice(0, 8)}`;
  const dpmId = `dpm-${run}`;
  const [iotAdmin, mvaAdmin, mvbAdmin, dpmAdmin, alice, provider] = await Promise.all([
    actor(IOT, 'admin'),
    actor(MVA, 'admin'),
    actor(MVB, 'admin'),
    actor(DPM, 'admin'),
    actor(IOT, 'creator'),
    actor(DPM, 'dpm', dpmId),
  ]);
  const w: World = {
    run,
    iotAdmin,
    mvaAdmin,
    mvbAdmin,
    dpmAdmin,
    alice,
    provider,
    iotId: `iot-${run}`,
    mvaId: `mva-${run}`,
    mvbId: `mvb-${run}`,
    dpmId,
    thingId: `watch-${run}`,
    avatarId: `av-${run}`,
    close() {
      unwatchPeers(iotAdmin.conn, mvaAdmin.conn, mvbAdmin.conn);
      for (const a of [iotAdmin, mvaAdmin, mvbAdmin, dpmAdmin, alice, provider]) a.conn.close();
    },
  };
  watchPeers(iotAdmin.conn, mvaAdmin.conn, mvbAdmin.conn);
  const platform = (a: Actor, platformId: string, type: string) =>
    type === 'METAVERSE'
      ? registerMetaverse(a, platformId)
      : ok(a.cc('platform'), 'RegisterPlatform', [JSON.stringify({ platformId, type, name: platformId, capabilityLevel: 3 })]);
  await Promise.all([
    platform(iotAdmin, w.iotId, 'IOT'),
    platform(mvaAdmin, w.mvaId, 'METAVERSE'),
    platform(mvbAdmin, w.mvbId, 'METAVERSE'),
    platform(dpmAdmin, w.dpmId, 'DPM'),
  ]);
  // rule 8: the provider's admin binds the provider's signing identity
  await ok(dpmAdmin.cc('platform'), 'BindProviderIdentity', [w.dpmId, provider.certificate]);
  await ok(mvaAdmin.cc('platform'), 'ProposeFederation', [w.mvaId, w.mvbId, 'games']);
  await ok(mvbAdmin.cc('platform'), 'AcceptFederation', [w.mvbId, w.mvaId], { endorsingOrganizations: [MVA, MVB] });
  await ok(alice.cc('thing'), 'RegisterThing', [
    JSON.stringify({
      thingId: w.thingId,
      platformId: w.iotId,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-${run}`,
      classification: 'CONFIDENTIAL',
      policy: {
        storage: 'ANY',
        allowedMetaverses: [w.mvaId, w.mvbId],
        allowedDpmProviders: [w.dpmId],
        purposes: ['analytics', 'gameplay'],
        retentionDays: 30,
        encryptionRequired: true,
      },
    }),
  ]);
  await mapAvatar(mvaAdmin, alice, { avatarId: w.avatarId, thingId: w.thingId, metaverseId: w.mvaId, mode: 'ACTIVE', capabilityLevel: 3 });
  return w;
}

/** X1, trust rule 8: the metaverse side proposes the avatar, the thing's owner approves it (ACTIVE). */
export async function mapAvatar(
  mapper: Actor,
  owner: Actor,
  input: { avatarId: string; thingId: string; metaverseId: string; mode: 'ACTIVE' | 'PASSIVE'; capabilityLevel: number },
): Promise<void> {
  await ok(mapper.cc('avatar'), 'MapAvatar', [JSON.stringify(input)]);
  await ok(owner.cc('avatar'), 'ApproveMapping', [input.avatarId]);
}

/** The AnchorData input for one encrypted, on-platform object of the world's thing. */
export function anchorInput(w: World, dataId: string, content = `reading ${dataId}`) {
  return {
    dataId,
    thingId: w.thingId,
    sha256: sha256(content),
    size: content.length,
    category: 'motion',
    classification: 'CONFIDENTIAL',
    storage: { placement: 'ON_PLATFORM', storeId: 'local', uri: `local://${dataId}` },
    keyId: 'k1',
    encrypted: true,
  };
}

/** Transient PII as the data contract wants it: a client-side salt and the details. */
export function piiTransient(details: string): { salt: string; details: string; transient: Record<string, string> } {
  const salt = randomBytes(24).toString('hex');
  return { salt, details, transient: { pii: JSON.stringify({ salt, details }) } };
}

/**
 * The owner's `process` grant on the world's thing (trust rule 5: a DPM job needs one); by
 * default to every identity of MetaverseA, for 'analytics', valid a day. Create it as the owner:
 * `ok(w.alice.cc('access'), 'CreateGrant', [JSON.stringify(processGrantInput(w, id))])`.
 */
export function processGrantInput(
  w: Pick<World, 'thingId'>,
  grantId: string,
  grantee: Record<string, string> = { type: 'MSP', id: MVA },
  purpose = 'analytics',
) {
  return { grantId, resourceType: 'THING', resourceId: w.thingId, grantee, actions: ['process'], purpose, validUntil: isoIn(DAY) };
}

/**
 * PII as a member sends it (trust rule 7): a fresh 32-byte salt per record and key material for
 * the thing's first PII (ignored once the thing has its secret), hex. Send it with `storePii`.
 */
export function piiSecrets(
  details: string,
  opts: { salt?: string; key?: string | null } = {},
): { salt: string; key?: string; details: string; transient: Record<string, string> } {
  const salt = opts.salt ?? randomBytes(32).toString('hex');
  const key = opts.key === null ? undefined : (opts.key ?? randomBytes(32).toString('hex'));
  return { salt, key, details, transient: { pii: JSON.stringify({ salt, details, ...(key ? { key } : {}) }) } };
}

export interface PiiStaged {
  dataId: string;
  thingId: string;
  piiCollection: string;
  piiHash: string;
  keyCreated: boolean;
}

/**
 * Store PII the way a member does: StorePII endorsed by its own organisation's peer only (the
 * only peers that may process it), then AnchorData with the returned fingerprint, endorsed as usual.
 */
export async function storeAndAnchorPii(
  who: Actor,
  w: World,
  dataId: string,
  pii: { transient: Record<string, string> },
): Promise<{ staged: PiiStaged; stored: Committed; anchor: { tx: Committed; value: Record<string, unknown> } }> {
  const { value: staged, tx: stored } = await ok<PiiStaged>(who.cc('data'), 'StorePII', [JSON.stringify({ dataId, thingId: w.thingId })], {
    transient: pii.transient,
    endorsingOrganizations: [who.mspId],
  });
  const anchor = await ok<Record<string, unknown>>(who.cc('data'), 'AnchorData', [
    JSON.stringify({ ...anchorInput(w, dataId), piiHash: staged.piiHash }),
  ]);
  return { staged, stored, anchor };
}

/** hex HMAC-SHA256 of `${salt}:${details}` under hex `key`: the keyed PII fingerprint. */
export const piiHmac = (key: string, salt: string, details: string) =>
  createHmac('sha256', Buffer.from(key, 'hex')).update(`${salt}:${details}`, 'utf8').digest('hex');
