/**
 * The whole system as an operator runs it, for the fuzzing and fault runs: a network of its own
 * (MVSEC_DATA_DIR / MVSEC_PORT_OFFSET, set by the entry script's env module before this loads),
 * the gateway as a daemon (scripts/gateway.ts, state in <data>/gateway), users created through the
 * API by the bootstrap administrators, and a window on the ledger (valid transactions between two
 * heights) to reconcile what clients saw with what committed.
 */
import { common } from '@hyperledger/fabric-protos';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeEnvelope, HEADER_TYPE_ENDORSER_TRANSACTION, validationFlags } from '../../../audit/src/fabric.js';
import { totpCode } from 'mvsec-client';
import { loadTopology, type Organization, type Topology } from '../../../network/topology.js';
import { bootstrapFile, startGateway } from '../../../scripts/gateway.js';
import { connectAs, type FabricConnection } from '../../../scripts/network/client.js';
import { deploy, networkUp } from '../../../scripts/network/lifecycle.js';

export const topology: Topology = loadTopology();

export function orgOf(mspId: string): Organization {
  const o = topology.orgs.find((x) => x.mspId === mspId);
  if (!o) throw new Error(`no org ${mspId} in the topology`);
  return o;
}

/** Network (idempotent: reuses a running one), chaincode, gateway daemon. Returns the gateway URL. */
export async function bringUp(): Promise<string> {
  await networkUp(topology);
  await deploy(topology);
  return (await startGateway()).url;
}

export interface Res {
  status: number;
  type: string;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function http(
  url: string,
  method: string,
  path: string,
  o: { token?: string; json?: unknown; raw?: Buffer; contentType?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', ...(o.headers ?? {}) };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | Uint8Array | undefined;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] = 'application/json';
  } else if (o.raw) {
    body = new Uint8Array(o.raw);
    headers['content-type'] = o.contentType ?? 'application/octet-stream';
  }
  const r = await fetch(url + path, {
    method,
    headers,
    ...(body !== undefined ? { body: body as unknown as BodyInit } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const text = await r.text();
  const type = r.headers.get('content-type') ?? '';
  let parsed: unknown = text;
  if (/json/.test(type) && text) parsed = JSON.parse(text);
  return { status: r.status, type, headers: r.headers, body: parsed };
}

export interface Account {
  username: string;
  principal: string;
  mspId: string;
  role: string;
  token: string;
}

const TOTP_STEP_MS = 30_000;

/** Sign in with password + TOTP; a code already used in this 30 s step is refused (replay), so wait for the next step once. */
async function login(url: string, username: string, password: string, secret?: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const totp = secret ? await totpCode(secret, Date.now()) : undefined;
    const r = await http(url, 'POST', '/auth/login', { json: { username, password, ...(totp ? { totp } : {}) } });
    if (r.status === 200) return r.body.accessToken as string;
    if (attempt > 0 || !secret || r.status !== 401) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS) + 500));
  }
}

/** The bootstrap administrators of `npm start` (one per application org), signed in. */
export async function bootstrapAdmins(url: string): Promise<Map<string, Account>> {
  const lines = readFileSync(bootstrapFile, 'utf8').split('\n');
  const out = new Map<string, Account>();
  for (let i = 0; i < lines.length; i++) {
    const m = /bootstrap administrator of (\S+): username (\S+)\s+password (\S+)/.exec(lines[i]);
    if (!m) continue;
    const secret = /[?&]secret=([A-Z2-7]+)/i.exec(lines[i + 1] ?? '')?.[1];
    if (!secret) throw new Error(`no TOTP secret after the bootstrap line of ${m[1]} in ${bootstrapFile}`);
    const token = await login(url, m[2], m[3], secret);
    out.set(m[1], { username: m[2], principal: m[2], mspId: m[1], role: 'admin', token });
  }
  if (out.size === 0) throw new Error(`no bootstrap administrators in ${bootstrapFile}`);
  return out;
}

/** A new account of the admin's org, created through POST /auth/users, signed in. */
export async function createAccount(url: string, admin: Account, role: string, username: string): Promise<Account> {
  const password = randomBytes(18).toString('base64url');
  const r = await http(url, 'POST', '/auth/users', { token: admin.token, json: { username, password, role, principal: username } });
  if (r.status !== 201) throw new Error(`create ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  const token = await login(url, username, password, r.body.totp?.secret as string | undefined);
  return { username, principal: username, mspId: admin.mspId, role, token };
}

/** A P-256 key pair; the ledger takes the public key as base64 DER SPKI. */
export function thingKey(): { privateKey: KeyObject; publicKey: string } {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey: k.privateKey, publicKey: k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') };
}

// ---------------------------------------------------------------- the ledger's side

export interface LedgerTx {
  txId: string;
  block: number;
  valid: boolean;
  creatorMspId: string;
}

/** A read-only view of the channel through the IoT org's peer, as that org's administrator. */
export class LedgerWindow {
  private readonly conn: FabricConnection;

  constructor(mspId = 'IoTPlatformMSP') {
    this.conn = connectAs(orgOf(mspId), 'orgadmin');
  }

  private qscc() {
    return this.conn.gateway.getNetwork(topology.channel).getContract('qscc');
  }

  async height(): Promise<number> {
    const info = common.BlockchainInfo.deserializeBinary(await this.qscc().evaluateTransaction('GetChainInfo', topology.channel));
    return info.getHeight();
  }

  /** Endorser transactions in blocks [from, to), with their validation result. */
  async transactions(from: number, to: number): Promise<LedgerTx[]> {
    const out: LedgerTx[] = [];
    for (let n = from; n < to; n++) {
      const block = common.Block.deserializeBinary(await this.qscc().evaluateTransaction('GetBlockByNumber', topology.channel, String(n)));
      const flags = validationFlags(block);
      block
        .getData()!
        .getDataList_asU8()
        .forEach((env, i) => {
          const tx = decodeEnvelope(i, env);
          if (tx.type !== HEADER_TYPE_ENDORSER_TRANSACTION) return;
          out.push({ txId: tx.txId, block: n, valid: flags[i] === 0, creatorMspId: tx.creator.mspId });
        });
    }
    return out;
  }

  /** An evaluate-only chaincode call as the org administrator (audit queries). */
  async evaluate(contract: string, fn: string, args: string[]): Promise<unknown> {
    const c = this.conn.gateway.getNetwork(topology.channel).getContract(topology.chaincode.name, contract);
    const text = Buffer.from(await c.evaluateTransaction(fn, ...args)).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  close(): void {
    this.conn.close();
  }
}

/** Percentile of a sorted list. */
export const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
