import { createHash } from 'node:crypto';

/** One step of an inclusion proof: the sibling hash and which side it sits on. */
export interface ProofStep {
  position: 'L' | 'R';
  sha256: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Merkle convention (shared with the gateway): leaves are SHA-256 of each reading; a parent is
 * SHA-256 of the 32-byte left child followed by the 32-byte right child; an odd node is paired
 * with itself. A proof lists the siblings from the leaf up.
 */
export function rootFromProof(leafSha256: string, proof: ProofStep[]): string {
  let node: Buffer = Buffer.from(leafSha256, 'hex');
  for (const step of proof) {
    const sibling = Buffer.from(step.sha256, 'hex');
    node = createHash('sha256')
      .update(step.position === 'L' ? Buffer.concat([sibling, node]) : Buffer.concat([node, sibling]))
      .digest();
  }
  return node.toString('hex');
}

/** Root of the given leaves (used by tests and clients to build batches). */
export function merkleRoot(leaves: string[]): string {
  if (leaves.length === 0) throw new Error('no leaves');
  let level: Buffer[] = leaves.map((l) => Buffer.from(l, 'hex'));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1] ?? level[i];
      next.push(
        createHash('sha256')
          .update(Buffer.concat([level[i], right]))
          .digest(),
      );
    }
    level = next;
  }
  return level[0].toString('hex');
}
