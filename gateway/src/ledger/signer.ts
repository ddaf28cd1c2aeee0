/**
 * Transaction signing on OpenSSL (node:crypto) instead of fabric-gateway's pure-JavaScript signer:
 * ~50 µs per ECDSA P-256 signature instead of 750–1,100 µs, on the main thread, three signatures
 * per submitted transaction (proposal, transaction, commit status) and one per evaluation
 * (docs/performance.md). fabric-gateway is connected with `hash: hash.none`, so the signer
 * receives the message and signs it with SHA-256 — the same signature as the SDK's signer over
 * the SHA-256 digest. Fabric accepts only low-S signatures, so s is folded into the lower half of
 * the curve order before DER encoding. Keys on other curves keep the SDK's signer.
 */
import { hash, signers, type Hash, type Signer } from '@hyperledger/fabric-gateway';
import { sign, type KeyObject } from 'node:crypto';

/** P-256's group order n. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;

/** A signer and the hash fabric-gateway must be connected with for it. */
export function transactionSigner(key: KeyObject): { signer: Signer; hash: Hash } {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    return { signer: signers.newPrivateKeySigner(key), hash: hash.sha256 };
  return {
    signer: (message) => Promise.resolve(lowSDer(sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }))),
    hash: hash.none,
  };
}

/** r‖s (32 bytes each) → DER SEQUENCE of two INTEGERs, with s replaced by n − s when above n/2. */
export function lowSDer(rs: Uint8Array): Uint8Array {
  const r = BigInt(`0x${Buffer.from(rs.subarray(0, 32)).toString('hex')}`);
  let s = BigInt(`0x${Buffer.from(rs.subarray(32, 64)).toString('hex')}`);
  if (s > HALF_N) s = N - s;
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]); // positive
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}
