/**
 * The worker's configuration: a JSON file named by MVSEC_DPM_CONFIG (optional), then the
 * MVSEC_DPM_* environment variables over it, validated as a whole (zod). What the file leaves out
 * of the network side — the CA to enroll at, the fabric-ca-client binary, the trusted organisation
 * CAs — is taken from the local network's topology (network.ts), as `npm start` set it up.
 *
 *   {
 *     "gatewayUrl": "https://gateway.example:8443",
 *     "providerId": "dpm-1",
 *     "mspId": "DPMProviderMSP",
 *     "account": { "username": "dpm-1-worker", "password": "…", "totpSecret": "…" },
 *     "mspDir": "/var/lib/dpm-1/msp",
 *     "enroll": { "id": "dpm-worker-1", "secret": "…" },
 *     "ca": { "url": "https://ca.dpm.example:7054", "name": "ca-dpm", "tlsCertFile": "/etc/dpm-1/ca-tls.pem" },
 *     "fabricCaClient": "/usr/local/bin/fabric-ca-client",
 *     "trustedCas": { "MetaverseAMSP": "/etc/dpm-1/cas/metaverse-a.pem", "DPMProviderMSP": "/etc/dpm-1/cas/dpm.pem" },
 *     "pollMs": 2000
 *   }
 *
 * Environment (each overrides the file's member):
 *   MVSEC_DPM_GATEWAY_URL     gatewayUrl (default http://127.0.0.1:8080); HTTPS trust via NODE_EXTRA_CA_CERTS
 *   MVSEC_DPM_PROVIDER_ID     providerId: the provider platform id (= the principal of the account and of the certificate)
 *   MVSEC_DPM_TOKEN / MVSEC_DPM_REFRESH_TOKEN                     account.token / account.refreshToken
 *   MVSEC_DPM_USERNAME / MVSEC_DPM_PASSWORD / MVSEC_DPM_TOTP_SECRET account.username / password / totpSecret
 *   MVSEC_DPM_MSP_DIR         mspDir: the worker's Fabric identity, signcerts/*.pem and keystore/* (created on enrollment)
 *   MVSEC_DPM_ENROLL_ID / MVSEC_DPM_ENROLL_SECRET                 enroll.id / enroll.secret
 *   MVSEC_DPM_MSP_ID          mspId (default DPMProviderMSP)
 *   MVSEC_DPM_TRUSTED_CAS     trustedCas as MSPID=/path/ca.pem,…
 *   MVSEC_DPM_POLL_MS         pollMs (default 2000)
 */
import { readFileSync } from 'node:fs';
import type { TrustAnchors } from 'mvsec-protocol/dpm';
import { z } from 'zod';

const text = z.string().min(1);

export const WorkerSettings = z
  .object({
    gatewayUrl: z.url().default('http://127.0.0.1:8080'),
    providerId: text,
    mspId: text.default('DPMProviderMSP'),
    account: z
      .object({
        token: text.optional(),
        refreshToken: text.optional(),
        username: text.optional(),
        password: text.optional(),
        totpSecret: text.optional(),
      })
      .strict()
      .default({}),
    mspDir: text,
    enroll: z.object({ id: text, secret: text }).strict().optional(),
    ca: z.object({ url: z.url(), name: text, tlsCertFile: text }).strict().optional(),
    fabricCaClient: text.optional(),
    trustedCas: z.record(text, text).optional(),
    pollMs: z.number().int().min(10).max(3_600_000).default(2000),
  })
  .strict()
  .refine((s) => s.account.token || (s.account.username && s.account.password), {
    message: 'set account.token (MVSEC_DPM_TOKEN) or account.username and account.password (MVSEC_DPM_USERNAME, MVSEC_DPM_PASSWORD)',
    path: ['account'],
  });
export type WorkerSettings = z.infer<typeof WorkerSettings>;

/** What the worker runs with (settings resolved: trust anchors read). */
export interface WorkerConfig {
  gatewayUrl: string;
  providerId: string;
  mspId: string;
  token?: string;
  refreshToken?: string;
  username?: string;
  password?: string;
  totpSecret?: string;
  mspDir: string;
  enrollId?: string;
  enrollSecret?: string;
  /** Where to enroll (default: the organisation's CA in the network topology). */
  ca?: { url: string; name: string; tlsCertFile: string };
  /** The fabric-ca-client binary (default: the one `npm run fabric:install` installed). */
  fabricCaClient?: string;
  trust: TrustAnchors;
  pollMs: number;
}

/** `MSPID=/path/ca.pem,MSPID=/path/ca.pem` → {MSPID: path}. */
export function parseTrustedCas(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`trusted CA entry "${item}" is not MSPID=/path/to/ca.pem`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** The settings of the file named by MVSEC_DPM_CONFIG (if any) with the environment over them; throws with every problem found. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  let file: Record<string, unknown> = {};
  if (env.MVSEC_DPM_CONFIG) {
    try {
      file = JSON.parse(readFileSync(env.MVSEC_DPM_CONFIG, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`MVSEC_DPM_CONFIG ${env.MVSEC_DPM_CONFIG}: ${(e as Error).message}`);
    }
    if (!file || typeof file !== 'object' || Array.isArray(file))
      throw new Error(`MVSEC_DPM_CONFIG ${env.MVSEC_DPM_CONFIG}: not a JSON object`);
  }
  const account = { ...((file.account as Record<string, unknown> | undefined) ?? {}) };
  const set = (o: Record<string, unknown>, k: string, v: unknown) => {
    if (v !== undefined && v !== '') o[k] = v;
  };
  set(account, 'token', env.MVSEC_DPM_TOKEN);
  set(account, 'refreshToken', env.MVSEC_DPM_REFRESH_TOKEN);
  set(account, 'username', env.MVSEC_DPM_USERNAME);
  set(account, 'password', env.MVSEC_DPM_PASSWORD);
  set(account, 'totpSecret', env.MVSEC_DPM_TOTP_SECRET);
  const merged: Record<string, unknown> = { ...file, account };
  set(merged, 'gatewayUrl', env.MVSEC_DPM_GATEWAY_URL?.replace(/\/+$/, ''));
  set(merged, 'providerId', env.MVSEC_DPM_PROVIDER_ID);
  set(merged, 'mspId', env.MVSEC_DPM_MSP_ID);
  set(merged, 'mspDir', env.MVSEC_DPM_MSP_DIR);
  if (env.MVSEC_DPM_ENROLL_ID || env.MVSEC_DPM_ENROLL_SECRET)
    merged.enroll = {
      ...((file.enroll as Record<string, unknown> | undefined) ?? {}),
      ...(env.MVSEC_DPM_ENROLL_ID ? { id: env.MVSEC_DPM_ENROLL_ID } : {}),
      ...(env.MVSEC_DPM_ENROLL_SECRET ? { secret: env.MVSEC_DPM_ENROLL_SECRET } : {}),
    };
  if (env.MVSEC_DPM_TRUSTED_CAS) merged.trustedCas = parseTrustedCas(env.MVSEC_DPM_TRUSTED_CAS);
  if (env.MVSEC_DPM_POLL_MS) merged.pollMs = Number(env.MVSEC_DPM_POLL_MS);
  const r = WorkerSettings.safeParse(merged);
  if (!r.success)
    throw new Error(`DPM worker configuration: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return { ...r.data, gatewayUrl: r.data.gatewayUrl.replace(/\/+$/, '') };
}

/** Trust anchors from {MSPID: CA certificate file}. */
export function trustFrom(files: Record<string, string>): TrustAnchors {
  return new Map(Object.entries(files).map(([mspId, f]) => [mspId, readFileSync(f, 'utf8')]));
}

/** The worker's configuration: settings loaded, trust anchors read (the network's CAs when none are configured). */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<WorkerConfig> {
  const s = loadSettings(env);
  const trust = s.trustedCas ? trustFrom(s.trustedCas) : (await import('./network.js')).networkTrust();
  return {
    gatewayUrl: s.gatewayUrl,
    providerId: s.providerId,
    mspId: s.mspId,
    ...s.account,
    mspDir: s.mspDir,
    ...(s.enroll ? { enrollId: s.enroll.id, enrollSecret: s.enroll.secret } : {}),
    ...(s.ca ? { ca: s.ca } : {}),
    ...(s.fabricCaClient ? { fabricCaClient: s.fabricCaClient } : {}),
    trust,
    pollMs: s.pollMs,
  };
}
