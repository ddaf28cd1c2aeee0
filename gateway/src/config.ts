/** Gateway configuration from the environment (MVSEC_GATEWAY_*). */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OidcIssuerConfig } from './auth/oidc.js';
import { parseKey } from './crypto/seal.js';
import { s3ConfigFromEnv, type S3BackendConfig } from './r2-storage/s3-backend.js';

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
  idempotencyTtlSeconds: number;
  oidcIssuers: OidcIssuerConfig[];
  mvccRetries: number;
  /** The storage agent's directory (index, key records, sealed keyring, local objects); default <stateDir>/storage. */
  storageDir?: string;
  /** Largest object accepted on /r2 (bytes). */
  maxObjectBytes: number;
  /** An S3-compatible object store next to the local one (MVSEC_S3_*); things whose policy names it store there. */
  s3?: S3BackendConfig;
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
  idempotencyTtlSeconds: 24 * 3600,
  mvccRetries: 6,
  maxObjectBytes: 4 * 1024 * 1024 * 1024,
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuse plain HTTP anywhere but loopback (C1). */
export function assertTransport(cfg: Pick<GatewayConfig, 'host' | 'tls'>): void {
  if (!cfg.tls && !isLoopback(cfg.host)) {
    throw new Error(
      `refusing plain HTTP on ${cfg.host}: set MVSEC_GATEWAY_TLS_CERT and MVSEC_GATEWAY_TLS_KEY, or listen on a loopback address`,
    );
  }
}

const int = (v: string | undefined, d: number, name: string) => {
  if (v === undefined || v === '') return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not "${v}"`);
  return n;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const certFile = env.MVSEC_GATEWAY_TLS_CERT;
  const keyFile = env.MVSEC_GATEWAY_TLS_KEY;
  if (!!certFile !== !!keyFile) throw new Error('set both MVSEC_GATEWAY_TLS_CERT and MVSEC_GATEWAY_TLS_KEY, or neither');
  const cfg: GatewayConfig = {
    host: env.MVSEC_GATEWAY_HOST ?? DEFAULTS.host,
    port: int(env.MVSEC_GATEWAY_PORT, DEFAULTS.port, 'MVSEC_GATEWAY_PORT'),
    ...(certFile && keyFile ? { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } } : {}),
    bodyLimitBytes: int(env.MVSEC_GATEWAY_BODY_LIMIT, DEFAULTS.bodyLimitBytes, 'MVSEC_GATEWAY_BODY_LIMIT'),
    jwtSecret: env.MVSEC_GATEWAY_JWT_SECRET ? parseKey(env.MVSEC_GATEWAY_JWT_SECRET) : randomBytes(32),
    storageKey: env.MVSEC_GATEWAY_STORAGE_KEY ? parseKey(env.MVSEC_GATEWAY_STORAGE_KEY) : randomBytes(32),
    stateDir: env.MVSEC_GATEWAY_STATE_DIR,
    accessTtlSeconds: int(env.MVSEC_GATEWAY_ACCESS_TTL, DEFAULTS.accessTtlSeconds, 'MVSEC_GATEWAY_ACCESS_TTL'),
    refreshTtlSeconds: int(env.MVSEC_GATEWAY_REFRESH_TTL, DEFAULTS.refreshTtlSeconds, 'MVSEC_GATEWAY_REFRESH_TTL'),
    maxFailedAttempts: DEFAULTS.maxFailedAttempts,
    lockoutSeconds: DEFAULTS.lockoutSeconds,
    loginAttemptsPerMinute: DEFAULTS.loginAttemptsPerMinute,
    idempotencyTtlSeconds: DEFAULTS.idempotencyTtlSeconds,
    oidcIssuers: env.MVSEC_GATEWAY_OIDC ? (JSON.parse(env.MVSEC_GATEWAY_OIDC) as OidcIssuerConfig[]) : [],
    mvccRetries: DEFAULTS.mvccRetries,
    storageDir: env.MVSEC_GATEWAY_STORAGE_DIR,
    maxObjectBytes: int(env.MVSEC_GATEWAY_MAX_OBJECT_BYTES, DEFAULTS.maxObjectBytes, 'MVSEC_GATEWAY_MAX_OBJECT_BYTES'),
  };
  const s3 = s3ConfigFromEnv(env);
  if (s3) cfg.s3 = s3;
  if (cfg.storageDir && !env.MVSEC_GATEWAY_STORAGE_KEY)
    throw new Error('MVSEC_GATEWAY_STORAGE_DIR needs MVSEC_GATEWAY_STORAGE_KEY (32 bytes, hex or base64) to seal the keyring');
  if (cfg.stateDir && !env.MVSEC_GATEWAY_STORAGE_KEY)
    throw new Error('MVSEC_GATEWAY_STATE_DIR needs MVSEC_GATEWAY_STORAGE_KEY (32 bytes, hex or base64) to seal keys at rest');
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
    ...over,
  };
}
