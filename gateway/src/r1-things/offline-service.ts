/**
 * Offline signing (A1, R1): an autonomous thing holds its own Fabric private key and signs its
 * own proposals; the gateway only builds the unsigned messages and relays the signed ones. It is
 * stateless — every step carries the bytes of the previous one — and never sees the key:
 *
 *   prepare  → proposal bytes + digest     (thing signs the digest)
 *   endorse  → transaction bytes + digest  (thing signs)
 *   submit   → commit-status bytes + digest (thing signs)
 *   status   → committed or not, with the validation code
 *
 * Before relaying, the gateway checks that the certificate chains to its organisation's CA and
 * that the signature verifies over the bytes, so mistakes get a clear 4xx instead of a peer error;
 * the peers and the chaincode check everything again.
 */
import { X509Certificate } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist';
import { readFileSync } from 'node:fs';
import { connect, hash, type Gateway } from '@hyperledger/fabric-gateway';
import type { GatewayOrganization } from '../config/schema.js';
import { ApiError } from '../http/problem.js';
import { statusName, type FabricLedger } from '../ledger/fabric-ledger.js';
import { parseResult } from '../ledger/ledger.js';

export interface OfflineIdentity {
  mspId: string;
  /** The thing's enrolment certificate (PEM). */
  certificate: string;
}

export interface Unsigned {
  txId: string;
  /** The message to sign later, base64. */
  bytes: string;
  /** SHA-256 of `bytes`, base64: what the thing's key signs (ECDSA, DER, low-S). */
  digest: string;
}

export interface CommitOutcome {
  txId: string;
  successful: boolean;
  /** Fabric's validation code name (VALID, MVCC_READ_CONFLICT, ENDORSEMENT_POLICY_FAILURE, …). */
  code: string;
  blockNumber: string;
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

export class OfflineSigning {
  private readonly caCerts = new Map<string, X509Certificate>();

  constructor(private readonly ledger: FabricLedger) {}

  orgOf(mspId: string): GatewayOrganization {
    const org = this.ledger.network.organizations.find((o) => o.mspId === mspId);
    if (!org) throw new ApiError(403, `no organisation ${mspId} in this network`, 'unknown-organisation');
    return org;
  }

  /**
   * Register a thing's own identity at its org's CA (idempotent: the same secret each time) and
   * answer what the thing needs to enrol itself there.
   */
  async registerDevice(org: GatewayOrganization, name: string, attrs: { role: string; principal: string }) {
    const secret = await this.ledger.identities.cas.of(org).register({ id: name, type: 'client', attrs });
    return {
      secret,
      caUrl: org.ca.url.replace(/\/+$/, ''),
      caName: org.ca.caName,
      caTlsCertificate: readFileSync(org.ca.tlsRootCert, 'utf8'),
    };
  }

  /** The certificate, checked to be issued by the named organisation's CA and currently valid. */
  certificate(id: OfflineIdentity): X509Certificate {
    const org = this.orgOf(id.mspId);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(id.certificate);
    } catch (e) {
      throw new ApiError(400, `certificate is not a PEM X.509 certificate: ${(e as Error).message}`, 'validation');
    }
    let ca = this.caCerts.get(org.mspId);
    if (!ca) {
      ca = new X509Certificate(readFileSync(org.caCert));
      this.caCerts.set(org.mspId, ca);
    }
    const now = Date.now();
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))
      throw new ApiError(
        403,
        `certificate ${cert.subject.replace(/\n/g, ', ')} was not issued by the ${org.mspId} CA`,
        'untrusted-certificate',
      );
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now)
      throw new ApiError(403, `certificate is not valid now (valid ${cert.validFrom} – ${cert.validTo})`, 'untrusted-certificate');
    return cert;
  }

  /**
   * The thing's signature must verify over the message's digest with its certificate's key
   * (ECDSA, DER, low-S as Fabric requires). Node's verify hashes the message itself and the
   * digest's pre-image is inside the protobuf, so the check runs on the digest with @noble/curves,
   * the curve library fabric-gateway signs with.
   */
  private checkSignature(cert: X509Certificate, digest: Uint8Array, signature: Buffer, what: string): void {
    const jwk = cert.publicKey.export({ format: 'jwk' });
    const curve = jwk.crv === 'P-256' ? p256 : jwk.crv === 'P-384' ? p384 : undefined;
    if (!curve || !jwk.x || !jwk.y) throw new ApiError(400, `certificate key is not a P-256 or P-384 EC key`, 'validation');
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    let ok = false;
    try {
      ok = curve.verify(signature, digest, point, { prehash: false, lowS: true, format: 'der' });
    } catch {
      ok = false;
    }
    if (!ok) throw new ApiError(403, `the signature over the ${what} does not verify with the certificate's key`, 'bad-signature');
  }

  /** An unsigned gateway for this identity on a peer of its org (or of any peer org). */
  private async with<T>(id: OfflineIdentity, what: string, op: (gw: Gateway) => Promise<T>): Promise<T> {
    return this.ledger.onPeers(id.mspId, what, async (client) => {
      const gw = connect({
        client,
        identity: { mspId: id.mspId, credentials: Buffer.from(id.certificate) },
        hash: hash.sha256,
        evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
        endorseOptions: () => ({ deadline: Date.now() + 30_000 }),
        submitOptions: () => ({ deadline: Date.now() + 10_000 }),
        commitStatusOptions: () => ({ deadline: Date.now() + 60_000 }),
      });
      try {
        return await op(gw);
      } finally {
        gw.close();
      }
    });
  }

  private static bytes(text: string, what: string): Buffer {
    const b = Buffer.from(text, 'base64');
    if (b.length === 0 || b.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, ''))
      throw new ApiError(400, `${what} must be non-empty standard base64`, 'validation');
    return b;
  }

  /** Malformed message bytes are the client's mistake (400), not a Fabric failure. */
  private static parse<T>(what: string, make: () => T): T {
    try {
      return make();
    } catch (e) {
      throw new ApiError(400, `${what} is not a valid Fabric message: ${(e as Error).message}`, 'validation');
    }
  }

  async prepare(id: OfflineIdentity, fn: string, args: string[]): Promise<Unsigned> {
    this.certificate(id);
    return this.with(id, fn, async (gw) => {
      const { contract, name } = this.ledger.contractOf(gw, fn);
      const p = contract.newProposal(name, { arguments: args });
      return { txId: p.getTransactionId(), bytes: b64(p.getBytes()), digest: b64(p.getDigest()) };
    });
  }

  async endorse(id: OfflineIdentity, proposal: string, signature: string): Promise<Unsigned & { result: unknown }> {
    const cert = this.certificate(id);
    const bytes = OfflineSigning.bytes(proposal, 'proposal');
    const sig = OfflineSigning.bytes(signature, 'signature');
    return this.with(id, 'endorse', async (gw) => {
      const signed = OfflineSigning.parse('proposal', () => gw.newSignedProposal(bytes, sig));
      this.checkSignature(cert, signed.getDigest(), sig, 'proposal');
      const tx = await signed.endorse();
      return {
        txId: tx.getTransactionId(),
        bytes: b64(tx.getBytes()),
        digest: b64(tx.getDigest()),
        result: parseResult(Buffer.from(tx.getResult()).toString('utf8')),
      };
    });
  }

  async submit(id: OfflineIdentity, transaction: string, signature: string): Promise<Unsigned> {
    const cert = this.certificate(id);
    const bytes = OfflineSigning.bytes(transaction, 'transaction');
    const sig = OfflineSigning.bytes(signature, 'signature');
    return this.with(id, 'submit', async (gw) => {
      const signed = OfflineSigning.parse('transaction', () => gw.newSignedTransaction(bytes, sig));
      this.checkSignature(cert, signed.getDigest(), sig, 'transaction');
      const commit = await signed.submit();
      return { txId: commit.getTransactionId(), bytes: b64(commit.getBytes()), digest: b64(commit.getDigest()) };
    });
  }

  async status(id: OfflineIdentity, commit: string, signature: string): Promise<CommitOutcome> {
    const cert = this.certificate(id);
    const bytes = OfflineSigning.bytes(commit, 'commit');
    const sig = OfflineSigning.bytes(signature, 'signature');
    return this.with(id, 'commit status', async (gw) => {
      const signed = OfflineSigning.parse('commit', () => gw.newSignedCommit(bytes, sig));
      this.checkSignature(cert, signed.getDigest(), sig, 'commit status request');
      const s = await signed.getStatus();
      return { txId: s.transactionId, successful: s.successful, code: statusName(s.code), blockNumber: String(s.blockNumber) };
    });
  }
}
