/**
 * A Fabric CA client over its REST API (fabric-ca v1.5, lib/serverregister.go, serverenroll.go,
 * serveridentities.go), so the gateway needs no fabric-ca-client binary:
 *
 *   enroll    POST /api/v1/enroll, HTTP basic auth (enrollment id, secret), body
 *             {certificate_request: <PKCS#10 PEM>, caname, attr_reqs}: the key pair is made here
 *             (node:crypto P-256) and never leaves the process; the CSR is built with @peculiar/x509.
 *   register  POST /api/v1/register, token auth by the registrar.
 *   modify    PUT /api/v1/identities/<id> {secret}, token auth (a lost secret is replaced).
 *
 * Token auth (util.CreateToken): `base64(cert PEM) "." base64(signature)`, the signature being
 * ECDSA/SHA-256 over `<METHOD>.<base64 request URI>.<base64 body>.<base64 cert PEM>`, DER with a
 * low S (the CA, like Fabric, rejects high-S signatures). The v1.3 form (`<b64 body>.<b64 cert>`)
 * is only accepted by servers started with FABRIC_CA_SERVER_COMPATIBILITY_MODE_V1_3.
 *
 * The CA's TLS root comes from the gateway configuration. Each organisation's registrar is
 * enrolled once from its id and secret file, and kept sealed in <stateDir>/registrars when the
 * gateway has a state folder. Secrets of the identities the gateway registers are derived from the
 * registrar's secret (HMAC), so a second gateway, or this one after a restart without state,
 * registers idempotently and can enrol again.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it before it loads
import * as x509 from '@peculiar/x509';
import { createHmac, createPrivateKey, generateKeyPairSync, sign, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { FabricCaConfig, GatewayOrganization } from '../config/schema.js';
import { seal, unseal, type Sealed } from '../crypto/seal.js';
import { lowSDer } from './signer.js';

export interface Enrolled {
  /** PEM. */
  certificate: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

export interface RegistrationRequest {
  id: string;
  type: 'client' | 'peer' | 'orderer' | 'admin';
  secret: string;
  /** Attributes put into enrolment certificates (ecert). */
  attrs?: Record<string, string>;
  affiliation?: string;
}

/** The CA refused or failed a request; `codes` are Fabric CA error codes (e.g. 74 already registered). */
export class FabricCaError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly codes: number[],
  ) {
    super(message);
  }

  get alreadyRegistered(): boolean {
    return this.codes.includes(74) || /already registered/i.test(this.message);
  }
}

interface CaResponse<T> {
  success: boolean;
  result?: T;
  errors?: { code: number; message: string }[];
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/** A PKCS#10 request for `cn`, signed with a fresh P-256 key made here. */
async function newKeyAndCsr(subject: string): Promise<{ csrPem: string; key: KeyObject }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const subtle = webcrypto.subtle;
  const keys = {
    privateKey: await subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), ECDSA_P256, false, ['sign']),
    publicKey: await subtle.importKey('spki', publicKey.export({ format: 'der', type: 'spki' }), ECDSA_P256, true, ['verify']),
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: subject, keys, signingAlgorithm: ECDSA_P256 },
    webcrypto as unknown as Crypto,
  );
  return { csrPem: csr.toString('pem'), key: privateKey };
}

/** One distinguished-name value, escaped for @peculiar/x509's RFC 4514 parser. */
const dn = (v: string) => v.replace(/([,+"\\<>;=#])/g, '\\$1');

/** The subject of an enrolment's certificate request: CN = the id, O = the MSP. */
export const subjectOf = (id: string, organization?: string) => `CN=${dn(id)}${organization ? `, O=${dn(organization)}` : ''}`;

/** The REST client of one Fabric CA (its URL, CA name and TLS root from the configuration). */
export class FabricCaClient {
  /** `tlsRoot`: the CA's TLS root as PEM bytes, when not read from `ca.tlsRootCert` (a file). */
  constructor(
    readonly ca: Pick<FabricCaConfig, 'url' | 'caName' | 'tlsRootCert'>,
    private tlsRoot?: Buffer,
  ) {}

  private call<T>(method: 'POST' | 'PUT', path: string, body: unknown, auth: string): Promise<T> {
    const url = new URL(path, this.ca.url);
    const payload = Buffer.from(JSON.stringify(body));
    this.tlsRoot ??= readFileSync(this.ca.tlsRootCert);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.tlsRoot,
          timeout: 30_000,
          headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: auth },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: CaResponse<T> | undefined;
            try {
              parsed = JSON.parse(text) as CaResponse<T>;
            } catch {
              parsed = undefined;
            }
            if (res.statusCode === 200 || res.statusCode === 201) {
              if (parsed?.success && parsed.result !== undefined) return resolve(parsed.result);
            }
            const errors = parsed?.errors ?? [];
            const detail = errors.length ? errors.map((e) => `${e.code}: ${e.message}`).join('; ') : text.slice(0, 300);
            reject(
              new FabricCaError(
                `${this.ca.caName} ${method} ${url.pathname}: HTTP ${res.statusCode} ${detail}`,
                res.statusCode ?? 0,
                errors.map((e) => e.code),
              ),
            );
          });
          res.on('error', reject);
        },
      );
      req.on('error', (e) => reject(new Error(`${this.ca.caName} at ${this.ca.url}: ${e.message}`)));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(payload);
    });
  }

  /** `Authorization` for a request signed by `signer` (util.CreateToken). */
  static token(signer: Enrolled | { certificate: string; key: KeyObject }, method: string, uri: string, body: Buffer): string {
    const key = 'key' in signer ? signer.key : createPrivateKey(signer.keyPem);
    const cert = b64(signer.certificate);
    const payload = `${method}.${b64(uri)}.${b64(body)}.${cert}`;
    const sig = lowSDer(sign('sha256', Buffer.from(payload), { key, dsaEncoding: 'ieee-p1363' }));
    return `${cert}.${b64(Buffer.from(sig))}`;
  }

  private signed<T>(registrar: Enrolled, method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
    const bytes = Buffer.from(JSON.stringify(body));
    return this.call<T>(method, path, body, FabricCaClient.token(registrar, method, path, bytes));
  }

  /**
   * Enrol `id` with its secret: a fresh P-256 key and a CSR (CN = id, O = the MSP), and the
   * certificate attributes to include (required unless listed as optional).
   */
  async enroll(
    id: string,
    secret: string,
    o: { organization?: string; attrs?: string[]; optionalAttrs?: string[] } = {},
  ): Promise<Enrolled> {
    const { csrPem, key } = await newKeyAndCsr(subjectOf(id, o.organization));
    const certificate = await this.enrollCsr(id, secret, csrPem, o);
    return { certificate, keyPem: key.export({ format: 'pem', type: 'pkcs8' }) as string };
  }

  /** Enrol `id` with a certificate request made elsewhere (e.g. signed in a PKCS#11 token); answers the certificate PEM. */
  async enrollCsr(id: string, secret: string, csrPem: string, o: { attrs?: string[]; optionalAttrs?: string[] } = {}): Promise<string> {
    const attrReqs = [...(o.attrs ?? []).map((name) => ({ name })), ...(o.optionalAttrs ?? []).map((name) => ({ name, optional: true }))];
    const result = await this.call<{ Cert: string }>(
      'POST',
      '/api/v1/enroll',
      { certificate_request: csrPem, caname: this.ca.caName, ...(attrReqs.length ? { attr_reqs: attrReqs } : {}) },
      `Basic ${b64(`${id}:${secret}`)}`,
    );
    return Buffer.from(result.Cert, 'base64').toString('utf8');
  }

  /** Register an identity (the registrar signs); answers its secret. */
  async register(registrar: Enrolled, r: RegistrationRequest): Promise<string> {
    const attrs = Object.entries(r.attrs ?? {}).map(([name, value]) => ({ name, value, ecert: true }));
    const result = await this.signed<{ secret: string }>(registrar, 'POST', '/api/v1/register', {
      id: r.id,
      type: r.type,
      secret: r.secret,
      affiliation: r.affiliation ?? '',
      ...(attrs.length ? { attrs } : {}),
      caname: this.ca.caName,
    });
    return result.secret;
  }

  /** Give a registered identity a new secret (its type, affiliation and attributes stay). */
  async setSecret(registrar: Enrolled, id: string, secret: string): Promise<void> {
    await this.signed(registrar, 'PUT', `/api/v1/identities/${encodeURIComponent(id)}`, { secret, caname: this.ca.caName });
  }
}

interface StoredRegistrar {
  enrollmentId: string;
  caUrl: string;
  certificate: string;
  key: Sealed;
}

/** One organisation's CA as the gateway uses it: its registrar, idempotent registration, enrolment. */
export class OrganizationCa {
  readonly client: FabricCaClient;
  private registrarP?: Promise<Enrolled>;

  constructor(
    readonly org: GatewayOrganization,
    private readonly store: { storageKey?: Buffer; stateDir?: string } = {},
  ) {
    this.client = new FabricCaClient(org.ca);
  }

  private registrarSecret(): string {
    try {
      return readFileSync(this.org.ca.registrar.secretFile, 'utf8').trim();
    } catch (e) {
      throw new Error(
        `the registrar secret file of ${this.org.mspId} (${this.org.ca.registrar.secretFile}) cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }

  private registrarFile(): string | undefined {
    return this.store.stateDir && this.store.storageKey ? join(this.store.stateDir, 'registrars', `${this.org.mspId}.json`) : undefined;
  }

  /** The registrar's certificate and key: from the state folder while valid for a day more, else enrolled now. */
  registrar(): Promise<Enrolled> {
    this.registrarP ??= this.loadOrEnrollRegistrar().catch((e: unknown) => {
      this.registrarP = undefined;
      throw e;
    });
    return this.registrarP;
  }

  private async loadOrEnrollRegistrar(): Promise<Enrolled> {
    const { enrollmentId } = this.org.ca.registrar;
    const file = this.registrarFile();
    const aad = `registrar/${this.org.mspId}/${enrollmentId}`;
    if (file && existsSync(file)) {
      const s = JSON.parse(readFileSync(file, 'utf8')) as StoredRegistrar;
      const fresh = Date.parse(new X509Certificate(s.certificate).validTo) > Date.now() + 86_400_000;
      if (fresh && s.enrollmentId === enrollmentId && s.caUrl === this.org.ca.url)
        return { certificate: s.certificate, keyPem: unseal(this.store.storageKey!, s.key, aad).toString('utf8') };
    }
    const got = await this.client.enroll(enrollmentId, this.registrarSecret());
    if (file) {
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      const s: StoredRegistrar = {
        enrollmentId,
        caUrl: this.org.ca.url,
        certificate: got.certificate,
        key: seal(this.store.storageKey!, got.keyPem, aad),
      };
      writeFileSync(`${file}.tmp`, JSON.stringify(s), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    }
    return got;
  }

  /** The secret of an identity the gateway registers: derived from the registrar's, stable across gateways. */
  secretOf(id: string): string {
    return createHmac('sha256', this.registrarSecret())
      .update(`mvsec-identity\u0000${this.org.ca.caName}\u0000${id}`)
      .digest('base64url')
      .slice(0, 32);
  }

  /**
   * Register `id` (idempotent) and answer its secret. An identity registered before, with a secret
   * this gateway does not know, gets the derived one.
   */
  async register(r: Omit<RegistrationRequest, 'secret'>): Promise<string> {
    const registrar = await this.registrar();
    const secret = this.secretOf(r.id);
    try {
      await this.client.register(registrar, { ...r, secret });
    } catch (e) {
      if (!(e instanceof FabricCaError && e.alreadyRegistered)) throw e;
      await this.client.setSecret(registrar, r.id, secret);
    }
    return secret;
  }

  /** Register and enrol a client identity whose certificate carries `attrs` (e.g. role, principal). */
  async registerAndEnroll(id: string, attrs: Record<string, string>): Promise<Enrolled> {
    const secret = await this.register({ id, type: 'client', attrs });
    return this.client.enroll(id, secret, { organization: this.org.mspId, ...enrolAttrs(attrs) });
  }

  /** The same with a certificate request signed elsewhere (a PKCS#11 token's key); answers the certificate PEM. */
  async registerAndEnrollCsr(id: string, attrs: Record<string, string>, csrPem: string): Promise<string> {
    const secret = await this.register({ id, type: 'client', attrs });
    return this.client.enrollCsr(id, secret, csrPem, enrolAttrs(attrs));
  }
}

/** The attributes an enrolment asks for: the given ones, and Fabric CA's own, which certificates carried before attributes were requested. */
const enrolAttrs = (attrs: Record<string, string>) => ({
  attrs: Object.keys(attrs),
  optionalAttrs: ['hf.EnrollmentID', 'hf.Type', 'hf.Affiliation'],
});

/** The CAs of the organisations a gateway serves, each with one registrar enrolment. */
export class CaDirectory {
  private readonly cas = new Map<string, OrganizationCa>();

  constructor(private readonly store: { storageKey?: Buffer; stateDir?: string } = {}) {}

  of(org: GatewayOrganization): OrganizationCa {
    const k = `${org.mspId}\u0000${org.ca.url}\u0000${org.ca.caName}`;
    let ca = this.cas.get(k);
    if (!ca) {
      ca = new OrganizationCa(org, this.store);
      this.cas.set(k, ca);
    }
    return ca;
  }
}
