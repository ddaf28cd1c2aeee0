/** Unit-test support: an in-memory Ledger double and an in-process gateway on an ephemeral port. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type Deps } from '../../../gateway/src/app.js';
import type { Caller } from '../../../gateway/src/auth/principal.js';
import { testConfig, type GatewayConfig } from '../../../gateway/src/config.js';
import type { Ledger, Readiness, SubmitOptions, Submitted } from '../../../gateway/src/ledger/ledger.js';
import { decodeCbor, encodeCbor } from '../../../gateway/src/http/representation.js';
import { parseXml, toXml } from '../../../gateway/src/http/xml.js';
import { listen } from '../../../gateway/src/server.js';

/** A minimal valid RegisterThing body (R1) for route tests. */
export const sampleThing = (over: Record<string, unknown> = {}) => ({
  thingId: 'w-1',
  platformId: 'iot-1',
  kind: 'DEVICE',
  accessMode: 'AUTONOMOUS',
  publicKey: 'pk',
  classification: 'CONFIDENTIAL',
  ...over,
});

export interface Call {
  kind: 'submit' | 'evaluate';
  caller: Caller;
  fn: string;
  args: string[];
  options?: SubmitOptions;
}

type Handler = (call: Call) => unknown;

const PEERS = ['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP'];
/** The chaincode's default role-issuer table (chaincode/src/common/config.ts), as GetRoleIssuers answers it. */
export const DEFAULT_ROLE_ISSUERS = {
  docType: 'roleIssuers',
  version: 0,
  source: 'DEFAULT',
  issuers: [
    ...['admin', 'creator', 'entity-agent', 'storage-agent', 'user'].map((role) => ({ role, anyMember: true, mspIds: [] })),
    { role: 'auditor', anyMember: false, mspIds: PEERS },
    { role: 'avatar-agent', anyMember: false, mspIds: ['MetaverseAMSP', 'MetaverseBMSP'] },
    { role: 'dpm', anyMember: false, mspIds: ['DPMProviderMSP'] },
    { role: 'monitor', anyMember: false, mspIds: PEERS },
    { role: 'thing-agent', anyMember: false, mspIds: ['IoTPlatformMSP'] },
  ].sort((a, b) => (a.role < b.role ? -1 : 1)),
};

/** A Ledger double: answers by function name, records every call; errors are thrown as the chaincode words them. */
export class FakeLedger implements Ledger {
  calls: Call[] = [];
  handlers = new Map<string, Handler>([['governance:GetRoleIssuers', () => DEFAULT_ROLE_ISSUERS]]);
  readiness: Readiness = { ready: true, detail: 'fake' };
  private tx = 0;

  on(fn: string, h: Handler): this {
    this.handlers.set(fn, h);
    return this;
  }

  async submit(caller: Caller, fn: string, args: string[], options?: SubmitOptions): Promise<Submitted> {
    const call: Call = { kind: 'submit', caller, fn, args, ...(options ? { options } : {}) };
    this.calls.push(call);
    const result = await this.answer(call);
    return { txId: `tx-${++this.tx}`, result };
  }

  async evaluate(caller: Caller, fn: string, args: string[]): Promise<unknown> {
    const call: Call = { kind: 'evaluate', caller, fn, args };
    this.calls.push(call);
    return this.answer(call);
  }

  private async answer(call: Call): Promise<unknown> {
    const h = this.handlers.get(call.fn);
    return h ? h(call) : { ok: true, fn: call.fn };
  }

  submits(fn?: string): Call[] {
    return this.calls.filter((c) => c.kind === 'submit' && (!fn || c.fn === fn));
  }

  async ready(): Promise<Readiness> {
    return this.readiness;
  }

  close(): void {}
}

export interface TestGateway {
  url: string;
  ledger: FakeLedger;
  app: ReturnType<typeof createApp>;
  clock: { now: number };
  /** The listening HTTP server (for WebSocket upgrades). */
  server: import('node:http').Server;
  close(): Promise<void>;
  request(method: string, path: string, opts?: RequestOpts): Promise<Res>;
  /** A signed-in principal's bearer token (creates the account; MFA roles sign in with TOTP). */
  tokenFor(role: Caller['role'], mspId?: string, principal?: string): Promise<string>;
}

export interface RequestOpts {
  token?: string;
  json?: unknown;
  cbor?: unknown;
  /** a body sent as application/xml (fn:json-to-xml) */
  xml?: unknown;
  raw?: Buffer | string;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
}

export interface Res {
  status: number;
  type: string;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  bytes: Buffer;
}

let seq = 0;

export async function startTestGateway(over: Partial<GatewayConfig> = {}, deps: Partial<Deps> = {}): Promise<TestGateway> {
  const ledger = (deps.ledger as FakeLedger | undefined) ?? new FakeLedger();
  const clock = { now: Date.now() };
  // R2 needs an object store: a private temporary one per test gateway, removed on close.
  const storageDir = over.storageDir ?? mkdtempSync(join(tmpdir(), 'mvsec-unit-r2-'));
  const config = testConfig({ storageDir, ...over });
  const app = createApp(config, { ledger, now: () => clock.now, log: () => {}, ...deps });
  const running = await listen(app.app, { host: '127.0.0.1', port: 0 });
  const request = async (method: string, path: string, o: RequestOpts = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    let body: Buffer | string | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = 'application/json';
    } else if (o.cbor !== undefined) {
      body = encodeCbor(o.cbor);
      headers['content-type'] = 'application/cbor';
    } else if (o.xml !== undefined) {
      body = toXml(o.xml);
      headers['content-type'] = 'application/xml';
    } else if (o.raw !== undefined) body = o.raw;
    if (o.contentType) headers['content-type'] = o.contentType;
    if (o.accept) headers.accept = o.accept;
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const r = await fetch(running.url + path, {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}),
    });
    const bytes = Buffer.from(await r.arrayBuffer());
    const type = r.headers.get('content-type') ?? '';
    let parsed: unknown = undefined;
    if (bytes.length) {
      if (/cbor/.test(type)) parsed = decodeCbor(bytes);
      else if (/json/.test(type)) parsed = JSON.parse(bytes.toString('utf8'));
      else if (/xml/.test(type)) parsed = parseXml(bytes);
      else parsed = bytes.toString('utf8');
    }
    return { status: r.status, type, headers: r.headers, body: parsed, bytes };
  };
  const tokenFor = async (role: Caller['role'], mspId = 'IoTPlatformMSP', principal?: string) => {
    const username = `${role}-${++seq}`;
    const password = `pw-${username}-long-enough`;
    const { totp } = await app.login.createUser({ username, password, mspId, role, principal: principal ?? username });
    const { totpCode } = await import('../../../gateway/src/auth/totp.js');
    const code = totp ? await totpCode(totp.secret, clock.now) : undefined;
    const r = await request('POST', '/auth/login', { json: { username, password, ...(code ? { totp: code } : {}) } });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.accessToken as string;
  };
  const close = async () => {
    await running.close();
    if (!over.storageDir) rmSync(storageDir, { recursive: true, force: true });
  };
  return { url: running.url, ledger, app, clock, server: running.server, close, request, tokenFor };
}
