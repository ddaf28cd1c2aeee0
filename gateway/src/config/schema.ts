/**
 * The gateway's configuration file (MVSEC_GATEWAY_CONFIG=<file>, JSON): everything a gateway needs
 * to run on its own, next to a Fabric network it does not manage. Secrets are never inline: the
 * file names files holding them (or the MVSEC_GATEWAY_* variables give them). Relative paths are
 * relative to the file's folder. Environment variables override the file (README, config/load.ts).
 *
 *   listen     host, port, tls {certFile, keyFile}, bodyLimitBytes, trustedProxies
 *   stateDir   accounts, sealed identities, registrar enrolments, telemetry, DPM material
 *   storageDir the storage agent's folder (default <stateDir>/storage)
 *   secrets    jwtKeyFile, storageKeyFile (32 bytes, hex or base64)
 *   bootstrapCredentialsFile  where first-start administrator credentials are written (mode 600)
 *   auth       token lifetimes, OIDC issuers, loginAttemptsPerMinute, requestsPerMinute
 *   fabric     channel, chaincode, organizations served (peers, CA, registrar), trustedCas
 *   storage    maxObjectBytes, retentionMs, s3
 *   monitor    enabled, rulesFile, stateDir, principal, mspId
 *   telemetry  batchMaxReadings, batchMaxWaitMs
 *   pkcs11     library, tokenLabel, pinFile: principals' keys in a PKCS#11 token
 */
import { z } from 'zod';

const Path = z.string().min(1);
const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, . _ -');
const Port = z.number().int().min(0).max(65_535);
const NonNegative = z.number().int().min(0);

export const PeerSchema = z.strictObject({
  /** A label for messages (e.g. peer0). */
  name: Name,
  /** host:port of the peer's gRPC (gateway) service. */
  endpoint: z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port'),
  /** PEM file of the CA that issued the peer's TLS certificate. */
  tlsRootCert: Path,
  /** TLS server name to expect when it differs from the endpoint's host (e.g. an IP address endpoint). */
  hostOverride: z.string().min(1).optional(),
});

export const FabricCaSchema = z.strictObject({
  /** https://host:port of the organisation's Fabric CA. */
  url: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }),
  /** The CA's name on that server (`caname`). */
  caName: Name,
  /** PEM file of the CA server's TLS root. */
  tlsRootCert: Path,
  /** The identity that registers the gateway's principals (hf.Registrar.Roles covering `client`). */
  registrar: z.strictObject({ enrollmentId: Name, secretFile: Path }),
});

export const OrganizationSchema = z.strictObject({
  mspId: Name,
  /** Short name, e.g. `iot`: the bootstrap administrator is `admin-<name>` (default: the MSP id in lower case). */
  name: Name.optional(),
  /** PEM file of the organisation's signing CA (root of its channel MSP): offline signing and DPM checks. */
  caCert: Path,
  /** Peers to submit through, in order of preference; none (e.g. a DPM provider): every organisation's peers. */
  peers: z.array(PeerSchema).default([]),
  ca: FabricCaSchema,
});

/** Another organisation whose certificates the gateway must verify (it serves none of its principals). */
export const TrustedCaSchema = z.strictObject({ mspId: Name, caCert: Path });

export const FabricSchema = z.strictObject({
  channel: Name,
  chaincode: Name,
  /** The organisations whose principals this gateway signs for. */
  organizations: z.array(OrganizationSchema).min(1),
  trustedCas: z.array(TrustedCaSchema).default([]),
});

const OidcIssuerSchema = z.looseObject({
  issuer: z.string(),
  audience: z.string(),
  mspId: z.string(),
  allowedRoles: z.array(z.string()),
});

const S3Schema = z.strictObject({
  endpoint: z.string(),
  bucket: z.string(),
  region: z.string().optional(),
  accessKeyId: z.string(),
  /** File holding the secret access key. */
  secretAccessKeyFile: Path,
  storeId: z.string().optional(),
  placement: z.enum(['EXTERNAL', 'ON_PLATFORM']).optional(),
  prefix: z.string().optional(),
  partMiB: z.number().int().optional(),
  queueSize: z.number().int().optional(),
  forcePathStyle: z.boolean().optional(),
});

/** X6: principals' Fabric keys in a PKCS#11 token (made there, never leaving it). */
const Pkcs11Schema = z.strictObject({
  /** the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so */
  library: Path,
  tokenLabel: z.string().min(1),
  /** file holding the user PIN (or MVSEC_PKCS11_PIN) */
  pinFile: Path.optional(),
});

export const GatewayFileSchema = z.strictObject({
  pkcs11: Pkcs11Schema.optional(),
  listen: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: Port.optional(),
      tls: z.strictObject({ certFile: Path, keyFile: Path }).optional(),
      bodyLimitBytes: NonNegative.optional(),
      /**
       * Reverse proxies whose X-Forwarded-For is believed (addresses, CIDRs, or loopback /
       * linklocal / uniquelocal): the client address a limit counts is then the forwarded one.
       */
      trustedProxies: z.array(z.string().min(1)).optional(),
    })
    .default({}),
  stateDir: Path.optional(),
  storageDir: Path.optional(),
  secrets: z.strictObject({ jwtKeyFile: Path.optional(), storageKeyFile: Path.optional() }).default({}),
  bootstrapCredentialsFile: Path.optional(),
  auth: z
    .strictObject({
      accessTtlSeconds: NonNegative.optional(),
      refreshTtlSeconds: NonNegative.optional(),
      oidcIssuers: z.array(OidcIssuerSchema).optional(),
      /** Sign-in attempts per client address per minute (default 20). */
      loginAttemptsPerMinute: NonNegative.optional(),
      /** Requests per authenticated principal per minute; 0 (default) unlimited. */
      requestsPerMinute: NonNegative.optional(),
    })
    .default({}),
  fabric: FabricSchema.optional(),
  storage: z
    .strictObject({ maxObjectBytes: NonNegative.optional(), retentionMs: NonNegative.optional(), s3: S3Schema.optional() })
    .default({}),
  monitor: z
    .strictObject({
      enabled: z.boolean().optional(),
      rulesFile: Path.optional(),
      stateDir: Path.optional(),
      principal: z.string().min(1).optional(),
      mspId: Name.optional(),
    })
    .default({}),
  telemetry: z.strictObject({ batchMaxReadings: NonNegative.optional(), batchMaxWaitMs: NonNegative.optional() }).default({}),
});

export type GatewayFile = z.input<typeof GatewayFileSchema>;
export type FabricNetwork = z.output<typeof FabricSchema>;
export type GatewayOrganization = FabricNetwork['organizations'][number];
export type GatewayPeer = GatewayOrganization['peers'][number];
export type FabricCaConfig = GatewayOrganization['ca'];

/** Organisations with at least one peer. */
export const peerOrganizations = (n: FabricNetwork) => n.organizations.filter((o) => o.peers.length > 0);
