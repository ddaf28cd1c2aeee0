/**
 * Per-principal Fabric identities: each (MSP, principal, role) is registered at its own org's
 * Fabric CA with the `role` and `principal` certificate attributes the chaincode reads, and
 * enrolled; the private key is kept sealed with AES-256-GCM (memory, and a state folder when
 * configured). Nobody is ever signed for with another org's identity: the org is the caller's.
 *
 * Registration and enrolment go to the CA's REST API (fabric-ca.ts): the key pair is made in
 * this process and only its sealed form is ever written.
 */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FabricNetwork, GatewayOrganization } from '../config/schema.js';
import { callerKey, type Caller } from '../auth/principal.js';
import { seal, unseal, type Sealed } from '../crypto/seal.js';
import { IdentityUnavailable, UnknownOrganisation } from './errors.js';
import { CaDirectory } from './fabric-ca.js';

export interface FabricIdentity {
  mspId: string;
  name: string;
  certificate: Buffer;
  privateKey: KeyObject;
}

interface Stored {
  mspId: string;
  name: string;
  role: string;
  principal: string;
  certificate: string;
  key: Sealed;
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
    const pem = unseal(this.storageKey, s.key, `${s.mspId}/${s.name}`);
    return { mspId: s.mspId, name: s.name, certificate: Buffer.from(s.certificate), privateKey: createPrivateKey(pem) };
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
    let got: { certificate: string; keyPem: string };
    try {
      got = await this.enroller(org, name, { role: c.role, principal: c.principal });
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
      key: seal(this.storageKey, got.keyPem, `${org.mspId}/${name}`),
    };
    const f = this.file(c);
    if (f) {
      mkdirSync(join(f, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(f, JSON.stringify(s), { mode: 0o600 });
    }
    this.cache.set(callerKey(c), s);
    return s;
  }
}
