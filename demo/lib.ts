/**
 * What the two use-case demos (U1 smartwatch, U2 cross-metaverse game) share: actors that call the
 * gateway's HTTP API as themselves, a narrator that says who acts over which reference point and
 * what the ledger recorded, and a way to cast the actors — from the bootstrap administrators of a
 * system started with `npm start`, or (in the e2e tests) from a gateway the test started.
 */
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '../network/topology.js';
import { bindProviderIdentity } from '../scripts/network/provider-binding.js';
import { ApiProblem, login, openAvatarStream, request as clientRequest, signReading, type Res as ClientRes } from 'mvsec-client';

export const IOT = 'IoTPlatformMSP';
export const MVA = 'MetaverseAMSP';
export const MVB = 'MetaverseBMSP';
export const DPM = 'DPMProviderMSP';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Res = ClientRes<any>;

export interface CallOptions {
  cbor?: boolean;
  headers?: Record<string, string>;
  raw?: Buffer;
  contentType?: string;
}

export interface Actor {
  /** How the narration names this actor ("MetaverseA admin", "the wearer"). */
  label: string;
  principal: string;
  mspId: string;
  role: string;
  token: string;
  call(method: string, path: string, body?: unknown, opts?: CallOptions): Promise<Res>;
}

/** Makes the actors of a scenario: `role` in `mspId`, named `label`. */
export interface Cast {
  url: string;
  /** A short unique suffix so a scenario can run many times on the same ledger. */
  run: string;
  /** `principal` defaults to a fresh unique one (a DPM provider's account must carry the provider id). */
  actor(mspId: string, role: string, label: string, principal?: string): Promise<Actor>;
  /**
   * Trust rule 8: the DPM organisation's admin binds, on the ledger, the Fabric identity its gateway
   * holds for the provider account `account` (platform:BindProviderIdentity, with the admin's own key).
   */
  bindProvider(account: Actor): Promise<void>;
}

/** One HTTP call to the gateway, JSON or CBOR both ways, problems parsed. */
export function request(url: string, token: string | undefined, method: string, path: string, body?: unknown, o: CallOptions = {}) {
  return clientRequest(url, method, path, body, { ...o, ...(token ? { token } : {}) }) as Promise<Res>;
}

/** The step failed: the answer was not what the scenario needs. */
export class StepFailed extends Error {}

/** Require `status`; otherwise stop the scenario with the gateway's problem detail. */
export function expect(r: Res, status: number, what: string): Res {
  if (r.status !== status) {
    const detail = r.body && typeof r.body === 'object' && 'detail' in r.body ? r.body.detail : JSON.stringify(r.body);
    throw new StepFailed(`${what}: expected HTTP ${status}, got ${r.status}: ${detail}`);
  }
  return r;
}

/** Narration: who acts, over which reference point, and what the ledger recorded. */
export interface Narrator {
  step(rp: string, who: Actor | string, what: string): void;
  ledger(text: string): void;
  note(text: string): void;
}

export const consoleNarrator = (): Narrator => {
  let n = 0;
  return {
    step: (rp, who, what) => console.log(`\n${String(++n).padStart(2)}. [${rp}] ${typeof who === 'string' ? who : who.label}: ${what}`),
    ledger: (text) => console.log(`    ledger: ${text}`),
    note: (text) => console.log(`    ${text}`),
  };
};

export const silentNarrator = (): Narrator & { lines: string[] } => {
  const lines: string[] = [];
  return {
    lines,
    step: (rp, who, what) => lines.push(`[${rp}] ${typeof who === 'string' ? who : who.label}: ${what}`),
    ledger: (text) => lines.push(`ledger: ${text}`),
    note: (text) => lines.push(text),
  };
};

/**
 * POST /r5/platforms. An organisation runs one ACTIVE metaverse platform (chaincode rule 6): when
 * its earlier one (a previous run's) is still ACTIVE the ledger refuses and names it, and the
 * operator replaces it — suspends the old platform, then registers the new one.
 */
export async function postPlatform(
  who: { call(method: string, path: string, body?: unknown): Promise<Res> },
  p: { platformId: string; type: string; name: string; capabilityLevel: number },
): Promise<Res> {
  const r = await who.call('POST', '/r5/platforms', p);
  const detail = String((r.body as { detail?: unknown } | undefined)?.detail ?? '');
  const old = r.status === 403 ? /already runs metaverse platform (\S+) \(ACTIVE\)/.exec(detail)?.[1] : undefined;
  if (!old) return r;
  const s = await who.call('POST', `/r5/platforms/${encodeURIComponent(old)}/suspend`, { reason: `replaced by ${p.platformId}` });
  if (s.status >= 300) return s;
  return who.call('POST', '/r5/platforms', p);
}

/** R5: a platform registered by an operator of its organisation, narrated with its transaction. */
export async function registerPlatform(
  say: Narrator,
  who: Actor,
  p: { platformId: string; type: 'IOT' | 'METAVERSE' | 'DPM'; name: string; capabilityLevel: number },
) {
  const r = expect(await postPlatform(who, p), 201, `registering ${p.platformId}`);
  say.ledger(`${p.type === 'DPM' ? 'DPM platform' : 'platform'} ${p.platformId} of ${who.mspId} (${tx(r)})`);
  return r;
}

export const tx = (r: Res) => (r.body?.txId ? `tx ${String(r.body.txId).slice(0, 16)}…` : 'no transaction');

/** A thing's own signing key and a counter: it signs readings like firmware would. */
export class SensingThing {
  readonly key: KeyObject;
  readonly publicKey: string;
  private seq = 0;

  constructor(
    readonly thingId: string,
    /** Whose key signs: the thing itself (autonomous) or its IoT gateway (constrained). */
    signer?: SensingThing,
  ) {
    if (signer) {
      this.key = signer.key;
      this.publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .publicKey.export({ format: 'der', type: 'spki' })
        .toString('base64');
    } else {
      const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      this.key = k.privateKey;
      this.publicKey = k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    }
  }

  /** `count` signed readings of `sensor`, values from `value(i)`. */
  readings(sensor: string, count: number, value: (i: number) => number | number[], start = Date.now()) {
    return Array.from({ length: count }, (_, i) => {
      return signReading(this.key, this.thingId, {
        seq: ++this.seq,
        time: new Date(start + i * 20).toISOString(),
        sensor,
        value: value(i),
      });
    });
  }
}

/** A live-stream subscriber of an avatar: collects the readings and anchoring notices delivered. */
export interface Subscription {
  readings: { seq: number; sensor: string; value: unknown }[];
  anchored: { batchId: string; merkleRoot: string }[];
  closed?: string;
  close(): void;
}

export async function subscribe(url: string, actor: Actor, avatarId: string): Promise<Subscription> {
  const stream = await openAvatarStream(url, actor.token, avatarId).catch((e: unknown) => {
    throw e instanceof ApiProblem ? new StepFailed(`stream of ${avatarId}: HTTP ${e.status}`) : e;
  });
  const sub: Subscription = { readings: [], anchored: [], close: () => stream.close() };
  stream.onMessage((msg) => {
    if (msg.type === 'readings') sub.readings.push(...msg.readings);
    else if (msg.type === 'anchored') sub.anchored.push({ batchId: msg.batchId, merkleRoot: msg.merkleRoot });
    else if (msg.type === 'closed') sub.closed = msg.reason;
  });
  return sub;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until `done` (readings reach subscribers and batches anchor asynchronously). */
export async function until<T>(fn: () => Promise<T> | T, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!done(v) && Date.now() < deadline) {
    await sleep(250);
    v = await fn();
  }
  return v;
}

// ------------------------------------------------------------------ casting from `npm start`

interface Bootstrap {
  username: string;
  password: string;
  totpSecret: string;
}

/** The bootstrap administrators `npm start` wrote (mode 600) into the data folder. */
export function readBootstrap(file: string): Map<string, Bootstrap> {
  if (!existsSync(file)) throw new Error(`no ${file}: start the system first with \`npm start\``);
  const out = new Map<string, Bootstrap>();
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^bootstrap administrator of (\S+): username (\S+)\s+password (\S+)/.exec(lines[i]);
    const secret = /[?&]secret=([A-Z2-7]+)/i.exec(lines[i + 1] ?? '');
    if (m && secret) out.set(m[1], { username: m[2], password: m[3], totpSecret: secret[1] });
  }
  return out;
}

async function signIn(url: string, username: string, password: string, totpSecret?: string): Promise<string> {
  // A TOTP code is good once per 30 s step: login() waits for the next step when the code was used.
  try {
    return (await login(url, { username, password, ...(totpSecret ? { totpSecret } : {}) })).accessToken;
  } catch (e) {
    if (e instanceof ApiProblem) throw new StepFailed(`sign-in of ${username}: HTTP ${e.status} ${e.detail}`);
    throw e;
  }
}

/**
 * Actors on the running system: each org's bootstrap administrator signs in once; every other
 * actor gets a fresh built-in account created by its org's administrator.
 */
export function bootstrapCast(url: string, dataDir: string): Cast {
  const boot = readBootstrap(join(dataDir, 'gateway', 'bootstrap-credentials.txt'));
  const admins = new Map<string, Promise<string>>();
  const adminToken = (mspId: string) => {
    let t = admins.get(mspId);
    if (!t) {
      const b = boot.get(mspId);
      if (!b) throw new Error(`no bootstrap administrator of ${mspId} in the credentials file`);
      t = signIn(url, b.username, b.password, b.totpSecret);
      admins.set(mspId, t);
    }
    return t;
  };
  const run = randomBytes(3).toString('hex');
  const actorOf = (label: string, principal: string, mspId: string, role: string, token: string): Actor => ({
    label,
    principal,
    mspId,
    role,
    token,
    call: (m, p, b, o) => request(url, token, m, p, b, o),
  });
  return {
    url,
    run,
    async actor(mspId, role, label, principal) {
      const admin = await adminToken(mspId);
      if (role === 'admin' && !principal) return actorOf(label, boot.get(mspId)!.username, mspId, role, admin);
      const username = `${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${run}`.slice(0, 100);
      const password = randomBytes(18).toString('base64url');
      const created = expect(
        await request(url, admin, 'POST', '/auth/users', { username, password, role, principal: principal ?? username }),
        201,
        `creating ${label}`,
      );
      const token = await signIn(url, username, password, created.body.totp?.secret);
      return actorOf(label, principal ?? username, mspId, role, token);
    },
    async bindProvider(account) {
      // the gateway enrolls the account's Fabric identity on its first ledger call
      expect(await account.call('GET', `/r6/providers/${encodeURIComponent(account.principal)}/jobs?pageSize=1`), 200, 'listing jobs');
      // the DPM organisation runs this gateway: its operator reads the certificate it holds for the account
      const key = createHash('sha256').update(`${account.mspId}\u0000${account.principal}\u0000${account.role}`).digest('hex');
      const file = join(dataDir, 'gateway', 'identities', account.mspId, `${key}.json`);
      if (!existsSync(file)) throw new StepFailed(`no Fabric identity of ${account.principal} in ${file}`);
      const { certificate } = JSON.parse(readFileSync(file, 'utf8')) as { certificate: string };
      await bindProviderIdentity(loadTopology(), account.principal, certificate, account.mspId);
    },
  };
}
