/**
 * Trust in DPM providers (R6, X4): the network's CA certificates, the provider's registered
 * encryption certificate (issued by its organisation's CA, role dpm, principal = provider id, the
 * worker's own enrollment, with a proof of possession) and its checks when inputs are sealed to it.
 */
import { X509Certificate, verify } from 'node:crypto';
import type { FabricNetwork } from '../config/schema.js';
import type { Caller } from '../auth/principal.js';
import { commonName, EnvelopeError, fabricAttrs, sha256Hex, verifyChain, type TrustAnchors } from 'mvsec-protocol/dpm';
import { keyRegistrationMessage } from 'mvsec-protocol/dpm';
import { networkTrust } from './trust.js';
import { ApiError } from '../http/problem.js';
import type { RegisterKeyBody } from './schemas.js';
import type { DpmStore, ProviderKey } from './store.js';

/** Seconds a key-registration proof stays acceptable. */
const PROOF_WINDOW_MS = 5 * 60_000;

export class ProviderTrust {
  private readonly network?: FabricNetwork;
  private anchors?: TrustAnchors;

  constructor(
    o: { network?: FabricNetwork; trust?: TrustAnchors },
    private readonly now: () => number,
  ) {
    this.network = o.network;
    this.anchors = o.trust;
  }

  /** The Fabric network of the gateway configuration (503 without one). */
  net(): FabricNetwork {
    if (!this.network) throw new ApiError(503, 'DPM hand-off needs the Fabric network of the gateway configuration', 'fabric-unavailable');
    return this.network;
  }

  /** CA certificates by MSP; default: the network's (none without a network). */
  trust(): TrustAnchors {
    return (this.anchors ??= this.network ? networkTrust(this.network) : new Map());
  }

  /** The provider's registered certificate, still chaining to its MSP's CA (409 otherwise: nothing is sent). */
  async registeredKey(store: DpmStore, providerId: string, providerMspId: string): Promise<ProviderKey> {
    const k = await store.providerKey(providerId);
    if (!k)
      throw new ApiError(
        409,
        `DPM provider ${providerId} has not registered an encryption certificate with this gateway (PUT /r6/providers/${providerId}/key); nothing was sent`,
        'no-provider-key',
      );
    if (k.mspId !== providerMspId)
      throw new ApiError(
        409,
        `provider ${providerId}'s registered certificate is of ${k.mspId}, the ledger says ${providerMspId}`,
        'no-provider-key',
      );
    try {
      verifyChain(k.certificate, k.mspId, this.trust(), this.now(), 'provider');
    } catch (e) {
      if (e instanceof EnvelopeError)
        throw new ApiError(409, `provider ${providerId}'s registered certificate: ${e.message}`, 'no-provider-key');
      throw e;
    }
    return k;
  }

  /** A key registration checked (422 otherwise): the record to keep. */
  registration(caller: Caller, providerId: string, body: RegisterKeyBody): { key: ProviderKey; cert: X509Certificate } {
    let cert: X509Certificate;
    try {
      cert = verifyChain(body.certificate, caller.mspId, this.trust(), this.now(), 'provider');
    } catch (e) {
      if (e instanceof EnvelopeError) throw new ApiError(422, e.message, 'certificate-refused');
      throw e;
    }
    const attrs = fabricAttrs(cert);
    if (attrs.role !== 'dpm' || attrs.principal !== providerId)
      throw new ApiError(
        422,
        `the certificate carries role=${attrs.role ?? '∅'} principal=${attrs.principal ?? '∅'}; it must be enrolled with role=dpm and principal=${providerId}`,
        'certificate-refused',
      );
    if (commonName(cert).startsWith('gw-'))
      throw new ApiError(
        422,
        `certificate ${commonName(cert)} is an identity the gateway enrolled (and holds the key of); register the worker's own enrollment`,
        'certificate-refused',
      );
    const skew = Math.abs(Date.parse(body.signedAt) - this.now());
    if (skew > PROOF_WINDOW_MS)
      throw new ApiError(422, `signedAt is ${Math.round(skew / 1000)} s away from the gateway's clock`, 'certificate-refused');
    const certSha = sha256Hex(cert.raw);
    if (
      !verify('sha256', keyRegistrationMessage(providerId, certSha, body.signedAt), cert.publicKey, Buffer.from(body.signature, 'base64'))
    )
      throw new ApiError(422, 'the proof of possession does not verify with the certificate key', 'certificate-refused');
    return {
      cert,
      key: {
        providerId,
        mspId: caller.mspId,
        certificate: body.certificate,
        certSha256: certSha,
        registeredBy: { mspId: caller.mspId, principal: caller.principal },
        registeredAt: new Date(this.now()).toISOString(),
      },
    };
  }
}
