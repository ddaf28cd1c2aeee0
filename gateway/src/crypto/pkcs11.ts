/**
 * Keys in a PKCS#11 token (X6): SoftHSM2 in tests and the demo, any PKCS#11 module in production.
 * P-256 key pairs are generated in the token — private keys sensitive and not extractable, so
 * they never leave it — and found again by their CKA_ID. Certificate requests are signed in the
 * token (signCsr); transactions by fabric-gateway's HSM signer over the same key (signerFor).
 *
 * fabric-gateway's HSM signer factory initialises the module itself and does not tolerate an
 * earlier initialisation, so it is created first; this class's own handle to the module then
 * accepts CKR_CRYPTOKI_ALREADY_INITIALIZED, and neither finalises while the other is in use.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it before it loads
import * as x509 from '@peculiar/x509';
import { signers, type HSMSigner, type HSMSignerFactory } from '@hyperledger/fabric-gateway';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import pkcs11js from 'pkcs11js';

export interface Pkcs11Config {
  /** the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so) */
  library: string;
  /** the token's label */
  tokenLabel: string;
  /** the user PIN (from a file or the environment, never the configuration file itself) */
  pin: string;
}

/** DER of the P-256 curve's OID, the CKA_EC_PARAMS of its keys. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** SubjectPublicKeyInfo prefix of a P-256 key: algorithm id-ecPublicKey + prime256v1, then the BIT STRING header. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

const code = (e: unknown) => (e as { code?: number }).code;

export class Pkcs11Token {
  private readonly p11 = new pkcs11js.PKCS11();
  private readonly session: pkcs11js.Handle;
  private readonly factory: HSMSignerFactory;

  constructor(readonly cfg: Pkcs11Config) {
    try {
      this.factory = signers.newHSMSignerFactory(cfg.library);
    } catch (e) {
      throw new Error(`PKCS#11 module ${cfg.library} cannot be loaded: ${(e as Error).message}`);
    }
    this.p11.load(cfg.library);
    try {
      this.p11.C_Initialize();
    } catch (e) {
      if (code(e) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
    }
    const slots = this.p11.C_GetSlotList(true);
    const labels = slots.map((s) => this.p11.C_GetTokenInfo(s).label.trim());
    const slot = slots[labels.indexOf(cfg.tokenLabel)];
    if (slot === undefined)
      throw new Error(`PKCS#11 token "${cfg.tokenLabel}" not found in ${cfg.library} (tokens: ${labels.join(', ') || 'none'})`);
    this.session = this.p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      this.p11.C_Login(this.session, pkcs11js.CKU_USER, cfg.pin);
    } catch (e) {
      if (code(e) === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) return;
      this.p11.C_CloseSession(this.session);
      if (code(e) === pkcs11js.CKR_PIN_INCORRECT)
        throw new Error(`PKCS#11 token "${cfg.tokenLabel}": wrong PIN (CKR_PIN_INCORRECT); check the PIN file or MVSEC_PKCS11_PIN`);
      if (code(e) === pkcs11js.CKR_PIN_LOCKED)
        throw new Error(`PKCS#11 token "${cfg.tokenLabel}": the user PIN is locked (CKR_PIN_LOCKED)`);
      throw new Error(`PKCS#11 token "${cfg.tokenLabel}": login failed: ${(e as Error).message}`);
    }
  }

  /** Generate a P-256 key pair in the token; answers its CKA_ID and public key (SPKI DER). */
  generateP256(label: string): { id: Buffer; spki: Buffer } {
    const id = randomBytes(16);
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_LABEL, value: label },
    ];
    const keys = this.p11.C_GenerateKeyPair(
      this.session,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [...common, { type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS }, { type: pkcs11js.CKA_VERIFY, value: true }],
      [
        ...common,
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
      ],
    );
    const [attr] = this.p11.C_GetAttributeValue(this.session, keys.publicKey, [{ type: pkcs11js.CKA_EC_POINT }]);
    // CKA_EC_POINT is the DER OCTET STRING of the uncompressed point (04 ‖ x ‖ y)
    const point = (attr.value as Buffer).subarray(-65);
    return { id, spki: Buffer.concat([P256_SPKI_PREFIX, point]) };
  }

  /** ECDSA P-256 over SHA-256(`data`) with the token's key `id`: r ‖ s. */
  sign(id: Buffer, data: Uint8Array): Buffer {
    const key = this.privateKey(id);
    this.p11.C_SignInit(this.session, { mechanism: pkcs11js.CKM_ECDSA }, key);
    return this.p11.C_Sign(this.session, createHash('sha256').update(data).digest(), Buffer.alloc(64));
  }

  /** A certificate request for `subject`, signed in the token with key `id`. */
  async signCsr(id: Buffer, spki: Buffer, subject: string): Promise<string> {
    const publicKey = await webcrypto.subtle.importKey('spki', spki, ECDSA_P256, true, ['verify']);
    const privateKey = { algorithm: ECDSA_P256, type: 'private', extractable: false, usages: ['sign'], tokenKeyId: id };
    // WebCrypto for @peculiar/x509 whose sign() is the token's; everything else is node's
    const subtle = new Proxy(webcrypto.subtle, {
      get: (target, prop) =>
        prop === 'sign'
          ? async (_alg: unknown, key: { tokenKeyId?: Buffer }, data: BufferSource) => {
              if (!key.tokenKeyId) throw new Error('not a token key');
              return this.sign(key.tokenKeyId, Buffer.from(data as ArrayBuffer)).buffer;
            }
          : (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target),
    });
    const crypto = { subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } as unknown as Crypto;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
      { name: subject, keys: { publicKey, privateKey: privateKey as unknown as CryptoKey }, signingAlgorithm: ECDSA_P256 },
      crypto,
    );
    return csr.toString('pem');
  }

  /** fabric-gateway's HSM signer for key `id` (its own session; close it when done). */
  signerFor(id: Buffer): HSMSigner {
    return this.factory.newSigner({ label: this.cfg.tokenLabel, pin: this.cfg.pin, identifier: id });
  }

  /** Labels and ids of the token's private keys (for operators and tests). */
  privateKeys(): { label: string; id: string; extractable: boolean; sensitive: boolean }[] {
    this.p11.C_FindObjectsInit(this.session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]);
    const handles = this.p11.C_FindObjects(this.session, 10_000);
    this.p11.C_FindObjectsFinal(this.session);
    return handles.map((h) => {
      const [label, id, extractable, sensitive] = this.p11.C_GetAttributeValue(this.session, h, [
        { type: pkcs11js.CKA_LABEL },
        { type: pkcs11js.CKA_ID },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_SENSITIVE },
      ]);
      const flag = (a: pkcs11js.Attribute) => Buffer.isBuffer(a.value) && a.value[0] === 1;
      return {
        label: String(label.value),
        id: (id.value as Buffer).toString('hex'),
        extractable: flag(extractable),
        sensitive: flag(sensitive),
      };
    });
  }

  private privateKey(id: Buffer): pkcs11js.Handle {
    this.p11.C_FindObjectsInit(this.session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_ID, value: id },
    ]);
    const [h] = this.p11.C_FindObjects(this.session, 1);
    this.p11.C_FindObjectsFinal(this.session);
    if (!h) throw new Error(`no private key with id ${id.toString('hex')} in PKCS#11 token "${this.cfg.tokenLabel}"`);
    return h;
  }

  close(): void {
    try {
      this.p11.C_Logout(this.session);
    } catch {
      /* already logged out */
    }
    this.p11.C_CloseSession(this.session);
    this.factory.dispose();
  }
}
