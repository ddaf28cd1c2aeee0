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

/**
 * Trust rule 9: records that belong to organisations carry a key-level policy naming them, so no
 * two other organisations (enough for the chaincode-level `OutOf(2, …)`) can endorse a change to
 * them. Every owner that runs a peer must endorse each later write of each of `keys` (N-of-N);
 * owners without a peer cannot endorse and are left out. Returns the MSPs now required ([] when no
 * owner runs a peer: the chaincode-level policy alone then guards the keys). The policy applies
 * from the next transaction on; creating a key is always under the chaincode-level policy.
 */
export async function guardKeys(ctx: Context, keys: readonly string[], owners: readonly string[]): Promise<string[]> {
  const orgs = [...new Set(owners)].filter(isPeerOrg).sort();
  if (orgs.length === 0) return [];
  for (const key of keys) await requirePeersOf(ctx, key, orgs);
  return orgs;
}
