/**
 * The few DER encodings Fabric's block hash needs. A block's hash is SHA-256 of
 * asn1.Marshal(struct{Number *big.Int; PreviousHash, DataHash []byte}) (protoutil.BlockHeaderBytes):
 * SEQUENCE { INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash }.
 */
import { createHash } from 'node:crypto';

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

/** DER INTEGER of a non-negative integer: minimal big-endian two's complement. */
export function derUnsignedInteger(value: bigint): Buffer {
  if (value < 0n) throw new RangeError('negative block number');
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return derTlv(0x02, bytes);
}

export function blockHeaderDer(number: bigint, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  return derTlv(0x30, Buffer.concat([derUnsignedInteger(number), derTlv(0x04, previousHash), derTlv(0x04, dataHash)]));
}

/** The block's hash: what the next block names as previous_hash. */
export function blockHeaderHash(number: bigint, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  return createHash('sha256')
    .update(blockHeaderDer(number, previousHash, dataHash))
    .digest();
}
