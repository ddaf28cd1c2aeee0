/** The block-header DER encoding and hash, against openssl's ASN.1 parser and real Fabric blocks. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { common } from '@hyperledger/fabric-protos';
import { blockHeaderDer, blockHeaderHash, derTlv, derUnsignedInteger } from '../../../audit/src/asn1.js';
import type { Bundle } from '../../../audit/src/bundle.js';

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'real-bundle.json'), 'utf8')) as Bundle;
const realBlocks = fixture.blocks.map((b) => common.Block.deserializeBinary(Buffer.from(b.block, 'base64')));

test('S1: DER INTEGER is minimal two’s complement of the block number', () => {
  const hex = (n: bigint) => derUnsignedInteger(n).toString('hex');
  assert.equal(hex(0n), '020100');
  assert.equal(hex(127n), '02017f');
  assert.equal(hex(128n), '02020080');
  assert.equal(hex(256n), '02020100');
  assert.equal(hex(2n ** 63n), '0209008000000000000000');
  assert.equal(hex(2n ** 64n - 1n), '020900ffffffffffffffff');
  assert.throws(() => derUnsignedInteger(-1n));
});

test('S1: DER lengths switch to the long form at 128 bytes', () => {
  assert.equal(derTlv(0x04, Buffer.alloc(127)).subarray(0, 2).toString('hex'), '047f');
  assert.equal(derTlv(0x04, Buffer.alloc(128)).subarray(0, 3).toString('hex'), '048180');
  assert.equal(derTlv(0x04, Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
});

test('S1: openssl parses the header encoding as SEQUENCE { INTEGER, OCTET STRING, OCTET STRING }', () => {
  const prev = Buffer.alloc(32, 0xab);
  const data = Buffer.alloc(32, 0xcd);
  const der = blockHeaderDer(1234n, prev, data);
  const parsed = execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' });
  assert.match(parsed, /cons: SEQUENCE/);
  assert.match(parsed, /prim: INTEGER\s+:04D2/);
  assert.match(parsed, new RegExp(`prim: OCTET STRING\\s+\\[HEX DUMP\\]:${prev.toString('hex').toUpperCase()}`));
  assert.match(parsed, new RegExp(`prim: OCTET STRING\\s+\\[HEX DUMP\\]:${data.toString('hex').toUpperCase()}`));
  assert.equal(blockHeaderHash(1234n, prev, data).toString('hex'), createHash('sha256').update(der).digest('hex'));
});

test('S1: on two consecutive real blocks the hash of block n’s header is block n+1’s previous_hash', () => {
  assert.ok(realBlocks.length >= 2);
  for (let k = 1; k < realBlocks.length; k++) {
    const a = realBlocks[k - 1].getHeader()!;
    const b = realBlocks[k].getHeader()!;
    assert.equal(Number(b.getNumber()), Number(a.getNumber()) + 1);
    const h = blockHeaderHash(BigInt(a.getNumber()), a.getPreviousHash_asU8(), a.getDataHash_asU8());
    assert.equal(h.toString('hex'), Buffer.from(b.getPreviousHash_asU8()).toString('hex'));
    // a different number gives a different hash: the number is part of what is chained
    const other = blockHeaderHash(BigInt(a.getNumber()) + 1n, a.getPreviousHash_asU8(), a.getDataHash_asU8());
    assert.notEqual(other.toString('hex'), h.toString('hex'));
  }
});

test('S1: a real block’s data hash is SHA-256 of its envelopes concatenated', () => {
  for (const block of realBlocks) {
    const d = createHash('sha256').update(Buffer.concat(block.getData()!.getDataList_asU8())).digest('hex');
    assert.equal(d, Buffer.from(block.getHeader()!.getDataHash_asU8()).toString('hex'));
  }
});
