import type { Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { isPeerOrg } from './config';
import { invalid } from './errors';

/**
 * Key-level (state-based) endorsement: from the next transaction on, every write of `key` must be
 * endorsed by a peer of each of `mspIds` (N-of-N), whatever the chaincode-level policy says.
 */
export async function requirePeersOf(ctx: Context, key: string, mspIds: string[]): Promise<string[]> {
  const orgs = [...new Set(mspIds)].sort();
  for (const msp of orgs) {
    if (!isPeerOrg(msp)) throw invalid(`${msp} runs no peer and cannot endorse key-level policies`);
  }
  const policy = new KeyEndorsementPolicy();
  policy.addOrgs('PEER', ...orgs);
  await ctx.stub.setStateValidationParameter(key, policy.getPolicy());
  return orgs;
}
