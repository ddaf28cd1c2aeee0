/**
 * Per-principal Fabric identities: each (MSP, principal, role) is registered at its own org's
 * Fabric CA with the `role` and `principal` certificate attributes the chaincode reads, and
 * enrolled; the private key is kept sealed with AES-256-GCM (memory, and a state folder when
 * configured). Nobody is ever signed for with another org's identity: the org is the caller's.
 *
 * Registration and enrolment go to the CA's REST API (fabric-ca.ts): the key pair is made in
 * this process and only its sealed form is ever written — or, with a PKCS#11 token configured
 * (crypto/pkcs11.ts), made in the token, which signs the certificate request and every
 * transaction; then only the key's CKA_ID is written.
 */
import { hash, type Hash, type Signer } from '@hyperledger/fabric-gateway';
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FabricNetwork, GatewayOrganization } from '../config/schema.js';
import { callerKey, type Caller } from '../auth/principal.js';
import { seal, unseal, type Sealed } from '../crypto/seal.js';
import { IdentityUnavailable, UnknownOrganisation } from './errors.js';
import { CaDirectory, subjectOf } from './fabric-ca.js';
import type { Pkcs11Token } from '../crypto/pkcs11.js';
import { transactionSigner } from './signer.js';

export interface FabricIdentity {
  mspId: string;
  name: string;
  certificate: Buffer;
  /** the key in memory (sealed at rest); absent when it lives in a PKCS#11 token */
  privateKey?: KeyObject;
  /** CKA_ID of the key in the configured PKCS#11 token */
  tokenKeyId?: Buffer;
}

/** What fabric-gateway signs with for an identity; `close` frees a token session. */
export interface IdentitySigner {
  signer: Signer;
  hash: Hash;
  close(): void;
}

interface Stored {
  mspId: string;
  name: string;
  role: string;
  principal: string;
  certificate: string;
  key?: Sealed;
  tokenKeyId?: string;
}

/** How an identity is obtained (the real CA by default; tests may substitute). */
export type Enroller = (
  org: GatewayOrganization,
  name: string,
  attrs: { role: string; principal: string },
) => Promise<{ certificate: string; keyPem: string }>;

/** Register (idempotent) and enroll at the org's CA through these CAs' registrars. */
export const enrollerOf =
  (cas: CaDirectory): Enroller =>
  (org, name, attrs) =>
    cas.of(org).registerAndEnroll(name, attrs);

/** The enroller of a gateway without state: registrars enrolled in memory. */
export const caEnroller: Enroller = enrollerOf(new CaDirectory());

export class IdentityService {
  private readonly cache = new Map<string, Stored>();
  private readonly inflight = new Map<string, Promise<Stored>>();

  /** The organisations' CAs (registrars kept sealed in <stateDir>/registrars). */
  readonly cas: CaDirectory;
  private readonly enroller: Enroller;

  constructor(
    readonly network: FabricNetwork,
    private readonly storageKey: Buffer,
    private readonly stateDir?: string,
    enroller?: Enroller,
    /** keep principals' keys in this PKCS#11 token instead of sealed in the state folder */
    private readonly token?: Pkcs11Token,
  ) {
    this.cas = new CaDirectory({ storageKey, ...(stateDir ? { stateDir } : {}) });
    this.enroller = enroller ?? enrollerOf(this.cas);
  }

  /** The CA identity name of a principal: stable, CA-safe, distinct per role. */
  static nameOf(c: Pick<Caller, 'principal' | 'role'>): string {
    return `gw-${c.role}-${createHash('sha256').update(c.principal).digest('hex').slice(0, 20)}`;
  }

  orgOf(mspId: string): GatewayOrganization {
    const org = this.network.organizations.find((o) => o.mspId === mspId);
    if (!org) throw new UnknownOrganisation(`no organisation ${mspId} in this network`);
    return org;
  }

  private file(c: Caller): string | undefined {
    return this.stateDir
      ? join(this.stateDir, 'identities', c.mspId, `${createHash('sha256').update(callerKey(c)).digest('hex')}.json`)
      : undefined;
  }

  async identityOf(c: Caller): Promise<FabricIdentity> {
    const s = await this.stored(c);
    const id = { mspId: s.mspId, name: s.name, certificate: Buffer.from(s.certificate) };
    if (s.tokenKeyId) return { ...id, tokenKeyId: Buffer.from(s.tokenKeyId, 'hex') };
    if (!s.key) throw new IdentityUnavailable(`the key of ${s.principal}@${s.mspId} is neither sealed here nor in a token`);
    return { ...id, privateKey: createPrivateKey(unseal(this.storageKey, s.key, `${s.mspId}/${s.name}`)) };
  }

  /** The transaction signer of an identity: OpenSSL over the unsealed key, or fabric-gateway's HSM signer in the token. */
  signerOf(id: FabricIdentity): IdentitySigner {
    if (id.tokenKeyId) {
      if (!this.token) throw new IdentityUnavailable(`${id.name}@${id.mspId}'s key is in a PKCS#11 token, and none is configured`);
      const { signer, close } = this.token.signerFor(id.tokenKeyId);
      return { signer, hash: hash.sha256, close };
    }
    return { ...transactionSigner(id.privateKey!), close: () => undefined };
  }

  private async stored(c: Caller): Promise<Stored> {
    const k = callerKey(c);
    const hit = this.cache.get(k);
    if (hit) return hit;
    const f = this.file(c);
    if (f && existsSync(f)) {
      const s = JSON.parse(readFileSync(f, 'utf8')) as Stored;
      this.cache.set(k, s);
      return s;
    }
    let p = this.inflight.get(k);
    if (!p) {
      p = this.enroll(c).finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    return p;
  }

  private async enroll(c: Caller): Promise<Stored> {
    const org = this.orgOf(c.mspId);
    const name = IdentityService.nameOf(c);
    let got: { certificate: string; keyPem?: string; tokenKeyId?: string };
    try {
      got = this.token ? await this.enrollInToken(org, name, c) : await this.enroller(org, name, { role: c.role, principal: c.principal });
    } catch (e) {
      throw new IdentityUnavailable(
        `could not enroll ${c.principal}@${c.mspId} at ${org.ca.caName}: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    const s: Stored = {
      mspId: org.mspId,
      name,
      role: c.role,
      principal: c.principal,
      certificate: got.certificate,
      ...(got.keyPem ? { key: seal(this.storageKey, got.keyPem, `${org.mspId}/${name}`) } : { tokenKeyId: got.tokenKeyId }),
    };
    const f = this.file(c);
    if (f) {
      mkdirSync(join(f, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(f, JSON.stringify(s), { mode: 0o600 });
    }
    this.cache.set(callerKey(c), s);
    return s;
  }

  /** A key pair made in the token, a certificate request signed there, the certificate from the org's CA. */
  private async enrollInToken(org: GatewayOrganization, name: string, c: Caller): Promise<{ certificate: string; tokenKeyId: string }> {
    const { id, spki } = this.token!.generateP256(`mvsec ${org.mspId} ${name}`);
    const csr = await this.token!.signCsr(id, spki, subjectOf(name, org.mspId));
    const certificate = await this.cas.of(org).registerAndEnrollCsr(name, { role: c.role, principal: c.principal }, csr);
    return { certificate, tokenKeyId: id.toString('hex') };
  }
}
