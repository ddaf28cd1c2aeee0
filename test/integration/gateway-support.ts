/** Gateway integration support: the real gateway (FabricLedger, CA enrollment) in-process on an ephemeral port. */
import './support/network.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../gateway/src/app.js';
import type { RoleName } from '../../gateway/src/auth/schemas.js';
import type { Caller } from '../../gateway/src/auth/principal.js';
import type { OidcIssuerConfig } from '../../gateway/src/auth/oidc.js';
import { fabricEventSource } from '../../gateway/src/monitor/fabric-source.js';
import { Monitor } from '../../gateway/src/monitor/monitor.js';
import { testConfig, type GatewayConfig } from '../../gateway/src/config.js';
import { FabricLedger } from '../../gateway/src/ledger/fabric-ledger.js';
import { IdentityService } from '../../gateway/src/ledger/identities.js';
import type { Pkcs11Token } from '../../gateway/src/crypto/pkcs11.js';
import { listen } from '../../gateway/src/server.js';
import type { S3BackendConfig } from '../../gateway/src/r2-storage/s3-backend.js';
import type { ObjectStore } from '../../gateway/src/r2-storage/store.js';
import type { TelemetryOptions, TelemetryService } from '../../gateway/src/r1-things/telemetry/service.js';
import { request as clientRequest, totpCode } from 'mvsec-client';
import { bindProviderIdentity } from '../../scripts/network/provider-binding.js';
import { gatewayNetwork, topology } from './support/network.js';

export interface Res {
  status: number;
  type: string;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface Client {
  principal: string;
  mspId: string;
  role: RoleName;
  /** The bearer token of the signed-in account. */
  token: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    opts?: { cbor?: boolean; headers?: Record<string, string>; raw?: Buffer | string; contentType?: string },
  ): Promise<Res>;
}

export interface LiveGateway {
  url: string;
  stateDir: string;
  ledger: FabricLedger;
  /** The storage agent's object store (R2), in `<stateDir>/storage`. */
  storage: ObjectStore;
  /** R1 telemetry (readings, batches, proofs); its live stream is attached to the server. */
  telemetry: TelemetryService;
  run: string;
  as(mspId: string, role: RoleName, principal?: string): Promise<Client>;
  /** A client calling with a bearer token from elsewhere (an OpenID provider's). */
  withToken(token: string): Pick<Client, 'call'>;
  /**
   * Trust rule 8: the DPM organisation's admin binds the Fabric identity this gateway holds for the
   * provider account `c` (role dpm, principal = provider id) on the ledger, with its own admin key.
   */
  bindProvider(c: { principal: string; mspId: string; role: string }): Promise<void>;
  /** The monitor, when started with `monitor: true`. */
  monitor?: Monitor;
  close(): Promise<void>;
}

export async function startLiveGateway(
  o: {
    telemetry?: Pick<TelemetryOptions, 'batchMaxReadings' | 'batchMaxWaitMs' | 'cacheTtlMs'>;
    /** An S3-compatible store next to the local one (the gateway's MVSEC_S3_* configuration). */
    s3?: S3BackendConfig;
    /** The storage key (default random), e.g. for running `npm run storage` on the gateway's store. */
    storageKey?: Buffer;
    /** Run the real-time monitor (no rules; alerts it always raises, such as storage integrity) under its own identity. */
    monitor?: boolean;
    /** OpenID providers whose bearer tokens this gateway accepts (P3). */
    oidcIssuers?: OidcIssuerConfig[];
    /** Further gateway settings (e.g. trusted proxies, limits). */
    config?: Partial<GatewayConfig>;
    /** X6: principals' keys in this PKCS#11 token (SOFTHSM2_CONF set by the caller). */
    token?: Pkcs11Token;
  } = {},
): Promise<LiveGateway> {
  const stateDir = mkdtempSync(join(tmpdir(), 'mvsec-gw-state-'));
  const config = testConfig({
    stateDir,
    ...(o.s3 ? { s3: o.s3 } : {}),
    ...(o.storageKey ? { storageKey: o.storageKey } : {}),
    ...(o.oidcIssuers ? { oidcIssuers: o.oidcIssuers } : {}),
    ...o.config,
  });
  const network = gatewayNetwork();
  const identities = new IdentityService(network, config.storageKey, stateDir, undefined, o.token);
  const ledger = new FabricLedger(network, identities);
  const run = randomUUID().slice(0, 8);
  let monitor: Monitor | undefined;
  let source: Awaited<ReturnType<typeof fabricEventSource>> | undefined;
  if (o.monitor) {
    const identity: Caller = { principal: `monitor-${run}`, mspId: 'IoTPlatformMSP', role: 'monitor', issuer: 'gateway', amr: [] };
    source = await fabricEventSource(network, identities, identity);
    monitor = new Monitor({ rules: [], ledger, identity, source, stateDir: join(stateDir, 'monitor'), log: (m) => console.error(m) });
    await monitor.start();
  }
  const gw = createApp(config, {
    ledger,
    log: (m) => console.error(m),
    ...(o.telemetry ? { telemetry: o.telemetry } : {}),
    ...(monitor ? { monitor } : {}),
  });
  const running = await listen(gw.app, { host: '127.0.0.1', port: 0 });
  const stream = gw.attachStream(running.server);
  const request = (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    o: Parameters<Client['call']>[3] = {},
  ): Promise<Res> =>
    clientRequest(running.url, method, path, body, {
      ...o,
      ...(token ? { token } : {}),
      // raw bodies are JSON unless told otherwise; the representation asked for is always the one sent
      ...(o.raw !== undefined ? { contentType: o.contentType ?? 'application/json' } : {}),
      headers: { ...(o.headers ?? {}), accept: o.cbor ? 'application/cbor' : 'application/json' },
    });
  let n = 0;
  return {
    url: running.url,
    stateDir,
    ledger,
    storage: gw.storage!,
    telemetry: gw.telemetry,
    ...(monitor ? { monitor } : {}),
    run,
    async as(mspId, role, principal) {
      const username = `${role}-${run}-${++n}`;
      const password = `pw-${username}-long-enough`;
      const { totp } = await gw.login.createUser({ username, password, mspId, role, principal: principal ?? username });
      const code = totp ? await totpCode(totp.secret, Date.now()) : undefined;
      const login = await request(undefined, 'POST', '/auth/login', { username, password, ...(code ? { totp: code } : {}) });
      if (login.status !== 200) throw new Error(`login ${username}: ${login.status} ${JSON.stringify(login.body)}`);
      const token = login.body.accessToken as string;
      return { principal: principal ?? username, mspId, role, token, call: (m, p, b, o) => request(token, m, p, b, o) };
    },
    withToken: (token) => ({ call: (m, p, b, o) => request(token, m, p, b, o) }),
    async bindProvider(c) {
      const caller: Caller = { principal: c.principal, mspId: c.mspId, role: c.role as RoleName, issuer: 'gateway', amr: [] };
      const { certificate } = await identities.identityOf(caller);
      await bindProviderIdentity(topology, c.principal, certificate.toString('utf8'), c.mspId);
    },
    async close() {
      stream.close();
      // Batches still anchoring write to the state folder: let them finish before it goes.
      await gw.telemetry.flush();
      gw.telemetry.close();
      await running.close();
      await monitor?.stop();
      source?.close();
      ledger.close();
      for (const b of gw.storage?.backends ?? []) b.close?.();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
