/**
 * The gateway's configuration: the file named by MVSEC_GATEWAY_CONFIG (config/schema.ts), with the
 * MVSEC_GATEWAY_* / MVSEC_MONITOR_* / MVSEC_S3_* variables of the README overriding it, and
 * defaults for the rest. Without a file the environment alone configures the gateway (no Fabric
 * network: main.ts needs one).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { OidcIssuerConfig } from '../auth/oidc.js';
import { parseKey } from '../crypto/seal.js';
import { s3ConfigFromEnv, type S3BackendConfig } from '../r2-storage/s3-backend.js';
import { GatewayFileSchema, type FabricNetwork } from './schema.js';
import type { Pkcs11Config } from '../crypto/pkcs11.js';

export interface MonitorConfig {
  /** Real-time monitoring (M2) on. */
  enabled: boolean;
  rulesFile?: string;
  /** Default <stateDir>/monitor. */
  stateDir?: string;
  principal?: string;
  /** Default: the first organisation with peers. */
  mspId?: string;
}

export interface GatewayConfig {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer };
  bodyLimitBytes: number;
  jwtSecret: Buffer;
  /** AES-256-GCM key for Fabric private keys and account data at rest. */
  storageKey: Buffer;
  /** Where sealed identities and accounts are kept; undefined: memory only. */
  stateDir?: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  maxFailedAttempts: number;
  lockoutSeconds: number;
  loginAttemptsPerMinute: number;
  /** Requests per authenticated principal per minute; 0 unlimited. */
  requestsPerMinute: number;
  /** Express `trust proxy` list: proxies whose X-Forwarded-For names the client; empty: the socket address. */
  trustedProxies: string[];
  idempotencyTtlSeconds: number;
  oidcIssuers: OidcIssuerConfig[];
  mvccRetries: number;
  /** The storage agent's directory (index, key records, sealed keyring, local objects); default <stateDir>/storage. */
  storageDir?: string;
  /** Largest object accepted on /r2 (bytes). */
  maxObjectBytes: number;
  /** An S3-compatible object store next to the local one (MVSEC_S3_*); things whose policy names it store there. */
  s3?: S3BackendConfig;
  /** The Fabric network: organisations served, their peers and CAs, other trusted CAs. */
  fabric?: FabricNetwork;
  /** Where first-start administrator credentials go (mode 600); undefined: printed. */
  bootstrapFile?: string;
  monitor?: MonitorConfig;
  telemetry?: { batchMaxReadings?: number; batchMaxWaitMs?: number };
  /** How often expired stored objects are swept (ms); 0 off. */
  retentionMs?: number;
  /** X6: keep principals' keys in this PKCS#11 token (PIN resolved from its file or MVSEC_PKCS11_PIN). */
  pkcs11?: Pkcs11Config;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimitBytes: 256 * 1024,
  accessTtlSeconds: 900,
  refreshTtlSeconds: 8 * 3600,
  maxFailedAttempts: 5,
  lockoutSeconds: 900,
  loginAttemptsPerMinute: 20,
  requestsPerMinute: 0,
  idempotencyTtlSeconds: 24 * 3600,
  mvccRetries: 6,
  maxObjectBytes: 4 * 1024 * 1024 * 1024,
  retentionMs: 60 * 60_000,
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuse plain HTTP anywhere but loopback (C1). */
export function assertTransport(cfg: Pick<GatewayConfig, 'host' | 'tls'>): void {
  if (!cfg.tls && !isLoopback(cfg.host)) {
    throw new Error(
      `refusing plain HTTP on ${cfg.host}: set MVSEC_GATEWAY_TLS_CERT and MVSEC_GATEWAY_TLS_KEY (or listen.tls in the configuration file), or listen on a loopback address`,
    );
  }
}

const int = (v: string | undefined, d: number, name: string) => {
  if (v === undefined || v === '') return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not "${v}"`);
  return n;
};

const optionalInt = (v: string | undefined, d: number | undefined, name: string) => (v === undefined || v === '' ? d : int(v, 0, name));

/** A secret file's content (trailing whitespace dropped); its path, never its value, in errors. */
function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The configuration file, validated, with its paths made absolute (relative to the file's folder). */
export function readConfigFile(file: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`MVSEC_GATEWAY_CONFIG ${file}: ${(e as Error).message}`);
  }
  const parsed = GatewayFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`MVSEC_GATEWAY_CONFIG ${file} is not a valid gateway configuration: ${issues}`);
  }
  const base = dirname(resolve(file));
  const p = (x: string) => (isAbsolute(x) ? x : resolve(base, x));
  const p_ = (x: string | undefined) => (x === undefined ? undefined : p(x));
  const c = parsed.data;
  return {
    ...c,
    listen: { ...c.listen, ...(c.listen.tls ? { tls: { certFile: p(c.listen.tls.certFile), keyFile: p(c.listen.tls.keyFile) } } : {}) },
    stateDir: p_(c.stateDir),
    storageDir: p_(c.storageDir),
    secrets: { jwtKeyFile: p_(c.secrets.jwtKeyFile), storageKeyFile: p_(c.secrets.storageKeyFile) },
    bootstrapCredentialsFile: p_(c.bootstrapCredentialsFile),
    fabric: c.fabric && {
      ...c.fabric,
      organizations: c.fabric.organizations.map((o) => ({
        ...o,
        caCert: p(o.caCert),
        peers: o.peers.map((peer) => ({ ...peer, tlsRootCert: p(peer.tlsRootCert) })),
        ca: { ...o.ca, tlsRootCert: p(o.ca.tlsRootCert), registrar: { ...o.ca.registrar, secretFile: p(o.ca.registrar.secretFile) } },
      })),
      trustedCas: c.fabric.trustedCas.map((t) => ({ ...t, caCert: p(t.caCert) })),
    },
    storage: {
      ...c.storage,
      ...(c.storage.s3 ? { s3: { ...c.storage.s3, secretAccessKeyFile: p(c.storage.s3.secretAccessKeyFile) } } : {}),
    },
    monitor: { ...c.monitor, rulesFile: p_(c.monitor.rulesFile), stateDir: p_(c.monitor.stateDir) },
    // the module path stays as written when it is a bare name (the loader's search path finds it)
    ...(c.pkcs11 ? { pkcs11: { ...c.pkcs11, pinFile: p_(c.pkcs11.pinFile) } } : {}),
  };
}

/** The file's S3 section as MVSEC_S3_* variables, so the environment overrides it key by key. */
function s3Env(s3: NonNullable<ReturnType<typeof readConfigFile>['storage']['s3']> | undefined): Record<string, string> {
  if (!s3) return {};
  const out: Record<string, string | undefined> = {
    MVSEC_S3_ENDPOINT: s3.endpoint,
    MVSEC_S3_BUCKET: s3.bucket,
    MVSEC_S3_REGION: s3.region,
    MVSEC_S3_ACCESS_KEY_ID: s3.accessKeyId,
    MVSEC_S3_SECRET_ACCESS_KEY: readSecret(s3.secretAccessKeyFile, 'storage.s3.secretAccessKeyFile'),
    MVSEC_S3_STORE_ID: s3.storeId,
    MVSEC_S3_PLACEMENT: s3.placement,
    MVSEC_S3_PREFIX: s3.prefix,
    MVSEC_S3_PART_MIB: s3.partMiB?.toString(),
    MVSEC_S3_QUEUE: s3.queueSize?.toString(),
    MVSEC_S3_FORCE_PATH_STYLE: s3.forcePathStyle?.toString(),
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, string] => e[1] !== undefined));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const file = env.MVSEC_GATEWAY_CONFIG ? readConfigFile(env.MVSEC_GATEWAY_CONFIG) : undefined;
  const certFile = env.MVSEC_GATEWAY_TLS_CERT ?? file?.listen.tls?.certFile;
  const keyFile = env.MVSEC_GATEWAY_TLS_KEY ?? file?.listen.tls?.keyFile;
  if (!!certFile !== !!keyFile) throw new Error('set both MVSEC_GATEWAY_TLS_CERT and MVSEC_GATEWAY_TLS_KEY, or neither');
  const jwtText =
    env.MVSEC_GATEWAY_JWT_SECRET || (file?.secrets.jwtKeyFile ? readSecret(file.secrets.jwtKeyFile, 'secrets.jwtKeyFile') : undefined);
  const storageText =
    env.MVSEC_GATEWAY_STORAGE_KEY ||
    (file?.secrets.storageKeyFile ? readSecret(file.secrets.storageKeyFile, 'secrets.storageKeyFile') : undefined);
  const monitorEnabled = env.MVSEC_MONITOR !== undefined ? env.MVSEC_MONITOR === '1' : (file?.monitor.enabled ?? false);
  const cfg: GatewayConfig = {
    host: env.MVSEC_GATEWAY_HOST ?? file?.listen.host ?? DEFAULTS.host,
    port: int(env.MVSEC_GATEWAY_PORT, file?.listen.port ?? DEFAULTS.port, 'MVSEC_GATEWAY_PORT'),
    ...(certFile && keyFile ? { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } } : {}),
    bodyLimitBytes: int(env.MVSEC_GATEWAY_BODY_LIMIT, file?.listen.bodyLimitBytes ?? DEFAULTS.bodyLimitBytes, 'MVSEC_GATEWAY_BODY_LIMIT'),
    jwtSecret: jwtText ? parseKey(jwtText) : randomBytes(32),
    storageKey: storageText ? parseKey(storageText) : randomBytes(32),
    stateDir: env.MVSEC_GATEWAY_STATE_DIR ?? file?.stateDir,
    accessTtlSeconds: int(
      env.MVSEC_GATEWAY_ACCESS_TTL,
      file?.auth.accessTtlSeconds ?? DEFAULTS.accessTtlSeconds,
      'MVSEC_GATEWAY_ACCESS_TTL',
    ),
    refreshTtlSeconds: int(
      env.MVSEC_GATEWAY_REFRESH_TTL,
      file?.auth.refreshTtlSeconds ?? DEFAULTS.refreshTtlSeconds,
      'MVSEC_GATEWAY_REFRESH_TTL',
    ),
    maxFailedAttempts: DEFAULTS.maxFailedAttempts,
    lockoutSeconds: DEFAULTS.lockoutSeconds,
    loginAttemptsPerMinute: int(
      env.MVSEC_GATEWAY_LOGIN_PER_MINUTE,
      file?.auth.loginAttemptsPerMinute ?? DEFAULTS.loginAttemptsPerMinute,
      'MVSEC_GATEWAY_LOGIN_PER_MINUTE',
    ),
    requestsPerMinute: int(
      env.MVSEC_GATEWAY_REQUESTS_PER_MINUTE,
      file?.auth.requestsPerMinute ?? DEFAULTS.requestsPerMinute,
      'MVSEC_GATEWAY_REQUESTS_PER_MINUTE',
    ),
    trustedProxies: trustedProxies(
      env.MVSEC_GATEWAY_TRUSTED_PROXIES !== undefined
        ? env.MVSEC_GATEWAY_TRUSTED_PROXIES.split(',')
            .map((p) => p.trim())
            .filter(Boolean)
        : (file?.listen.trustedProxies ?? []),
    ),
    idempotencyTtlSeconds: DEFAULTS.idempotencyTtlSeconds,
    oidcIssuers: env.MVSEC_GATEWAY_OIDC
      ? (JSON.parse(env.MVSEC_GATEWAY_OIDC) as OidcIssuerConfig[])
      : ((file?.auth.oidcIssuers ?? []) as OidcIssuerConfig[]),
    mvccRetries: DEFAULTS.mvccRetries,
    storageDir: env.MVSEC_GATEWAY_STORAGE_DIR ?? file?.storageDir,
    maxObjectBytes: int(
      env.MVSEC_GATEWAY_MAX_OBJECT_BYTES,
      file?.storage.maxObjectBytes ?? DEFAULTS.maxObjectBytes,
      'MVSEC_GATEWAY_MAX_OBJECT_BYTES',
    ),
    ...(file?.fabric ? { fabric: file.fabric } : {}),
    ...((env.MVSEC_GATEWAY_BOOTSTRAP_FILE ?? file?.bootstrapCredentialsFile)
      ? { bootstrapFile: env.MVSEC_GATEWAY_BOOTSTRAP_FILE ?? file?.bootstrapCredentialsFile }
      : {}),
    monitor: {
      enabled: monitorEnabled,
      ...((env.MVSEC_MONITOR_RULES ?? file?.monitor.rulesFile) ? { rulesFile: env.MVSEC_MONITOR_RULES ?? file?.monitor.rulesFile } : {}),
      ...((env.MVSEC_MONITOR_STATE_DIR ?? file?.monitor.stateDir)
        ? { stateDir: env.MVSEC_MONITOR_STATE_DIR ?? file?.monitor.stateDir }
        : {}),
      ...((env.MVSEC_MONITOR_PRINCIPAL ?? file?.monitor.principal)
        ? { principal: env.MVSEC_MONITOR_PRINCIPAL ?? file?.monitor.principal }
        : {}),
      ...((env.MVSEC_MONITOR_MSP ?? file?.monitor.mspId) ? { mspId: env.MVSEC_MONITOR_MSP ?? file?.monitor.mspId } : {}),
    },
    telemetry: {
      batchMaxReadings: optionalInt(env.MVSEC_GATEWAY_TELEMETRY_BATCH, file?.telemetry.batchMaxReadings, 'MVSEC_GATEWAY_TELEMETRY_BATCH'),
      batchMaxWaitMs: optionalInt(env.MVSEC_GATEWAY_TELEMETRY_BATCH_MS, file?.telemetry.batchMaxWaitMs, 'MVSEC_GATEWAY_TELEMETRY_BATCH_MS'),
    },
    retentionMs: int(env.MVSEC_GATEWAY_RETENTION_MS, file?.storage.retentionMs ?? DEFAULTS.retentionMs, 'MVSEC_GATEWAY_RETENTION_MS'),
    ...pkcs11From(env, file?.pkcs11),
  };
  const s3 = s3ConfigFromEnv({ ...s3Env(file?.storage.s3), ...env });
  if (s3) cfg.s3 = s3;
  if (cfg.storageDir && !storageText)
    throw new Error(
      'MVSEC_GATEWAY_STORAGE_DIR needs MVSEC_GATEWAY_STORAGE_KEY or secrets.storageKeyFile (32 bytes, hex or base64) to seal the keyring',
    );
  if (cfg.stateDir && !storageText)
    throw new Error(
      'MVSEC_GATEWAY_STATE_DIR needs MVSEC_GATEWAY_STORAGE_KEY or secrets.storageKeyFile (32 bytes, hex or base64) to seal keys at rest',
    );
  assertTransport(cfg);
  return cfg;
}

/** A configuration for tests and tools: defaults, random keys, memory only. */
export function testConfig(over: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    ...DEFAULTS,
    port: 0,
    jwtSecret: randomBytes(32),
    storageKey: randomBytes(32),
    oidcIssuers: [],
    trustedProxies: [],
    ...over,
  };
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Trusted proxies as Express (proxy-addr) reads them; a typo fails at start, not as a silently ignored entry. */
function trustedProxies(list: string[]): string[] {
  for (const entry of list) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max) || isIP(prefix) === 4;
    if (!PROXY_NAMES.has(entry) && (!family || !prefixOk || rest.length))
      throw new Error(`trusted proxy "${entry}" is not an address, a CIDR or one of ${[...PROXY_NAMES].join(', ')}`);
  }
  return list;
}

/** The PKCS#11 token: MVSEC_PKCS11_LIBRARY / _TOKEN / _PIN (or _PIN_FILE) over the file's `pkcs11`. */
function pkcs11From(
  env: NodeJS.ProcessEnv,
  file: { library: string; tokenLabel: string; pinFile?: string } | undefined,
): { pkcs11?: Pkcs11Config } {
  const library = env.MVSEC_PKCS11_LIBRARY ?? file?.library;
  const tokenLabel = env.MVSEC_PKCS11_TOKEN ?? file?.tokenLabel;
  if (!library && !tokenLabel) return {};
  if (!library || !tokenLabel)
    throw new Error('a PKCS#11 token needs both the module (MVSEC_PKCS11_LIBRARY) and the token label (MVSEC_PKCS11_TOKEN)');
  const pinFile = env.MVSEC_PKCS11_PIN_FILE ?? file?.pinFile;
  const pin = env.MVSEC_PKCS11_PIN || (pinFile ? readSecret(pinFile, 'pkcs11.pinFile') : undefined);
  if (!pin) throw new Error(`the PIN of PKCS#11 token "${tokenLabel}" is missing: set MVSEC_PKCS11_PIN or pkcs11.pinFile`);
  return { pkcs11: { library, tokenLabel, pin } };
}
