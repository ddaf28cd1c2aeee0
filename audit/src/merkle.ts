/** The data contract's Merkle convention: parent = SHA-256(left 32 bytes || right 32 bytes), proof from the leaf up. */
import { createHash } from 'node:crypto';

export interface ProofStep {
  position: 'L' | 'R';
  sha256: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function merkleRoot(leafSha256: string, proof: ProofStep[]): string {
  if (!HEX64.test(leafSha256)) throw new Error('leaf is not 64 lower-case hex characters');
  let node = Buffer.from(leafSha256, 'hex');
  proof.forEach((step, k) => {
    if (!HEX64.test(step.sha256) || (step.position !== 'L' && step.position !== 'R')) throw new Error(`proof step ${k} is malformed`);
    const sibling = Buffer.from(step.sha256, 'hex');
    node = createHash('sha256')
      .update(step.position === 'L' ? Buffer.concat([sibling, node]) : Buffer.concat([node, sibling]))
      .digest();
  });
  return node.toString('hex');
}
