/**
 * The one Merkle convention of the ledger (docs/chaincode.md "Merkle convention"): leaves are
 * SHA-256 of each reading's signed bytes; a parent is SHA-256 of the 32-byte left child followed
 * by the 32-byte right child; an odd node is paired with itself. A proof lists the siblings from
 * the leaf up, each with the side it sits on. The gateway builds trees, the chaincode's
 * VerifyInclusion and the auditor's verifier walk proofs — all with this file.
 */
import { createHash, hash } from 'node:crypto';

export interface ProofStep {
  position: 'L' | 'R';
  sha256: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** SHA-256 of `data`, lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** All levels of the tree, leaves first, root last (a single node). */
export function merkleLevels(leavesHex: string[]): Buffer[][] {
  if (leavesHex.length === 0) throw new Error('a Merkle tree needs at least one leaf');
  const levels: Buffer[][] = [leavesHex.map((l) => Buffer.from(l, 'hex'))];
  let level = levels[0];
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1] ?? level[i];
      next.push(hash('sha256', Buffer.concat([level[i], right], 64), 'buffer'));
    }
    levels.push(next);
    level = next;
  }
  return levels;
}

export const rootOfLevels = (levels: Buffer[][]): string => levels[levels.length - 1][0].toString('hex');

/** Root of the given leaves (hex). */
export function merkleRoot(leavesHex: string[]): string {
  return rootOfLevels(merkleLevels(leavesHex));
}

/** The inclusion proof of leaf `index`, from the leaf up. */
export function merkleProof(levels: Buffer[][], index: number): ProofStep[] {
  if (!Number.isInteger(index) || index < 0 || index >= levels[0].length) throw new Error(`no leaf ${index}`);
  const proof: ProofStep[] = [];
  let i = index;
  for (let d = 0; d < levels.length - 1; d++) {
    const level = levels[d];
    if (i % 2 === 0) proof.push({ position: 'R', sha256: (level[i + 1] ?? level[i]).toString('hex') });
    else proof.push({ position: 'L', sha256: level[i - 1].toString('hex') });
    i = Math.floor(i / 2);
  }
  return proof;
}

/** The root a proof leads to from a leaf; throws on a malformed leaf or step (what the verifier compares with the anchored root). */
export function rootFromProof(leafSha256: string, proof: ProofStep[]): string {
  if (!HEX64.test(leafSha256)) throw new Error('leaf is not 64 lower-case hex characters');
  let node = Buffer.from(leafSha256, 'hex');
  proof.forEach((step, k) => {
    if (!step || !HEX64.test(step.sha256) || (step.position !== 'L' && step.position !== 'R'))
      throw new Error(`proof step ${k} is malformed`);
    const sibling = Buffer.from(step.sha256, 'hex');
    node = createHash('sha256')
      .update(step.position === 'L' ? sibling : node)
      .update(step.position === 'L' ? node : sibling)
      .digest();
  });
  return node.toString('hex');
}
