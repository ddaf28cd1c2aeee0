/** PII the way a member stores it: StorePII (transient, its own peer) then AnchorData {piiHash}. */
import { randomBytes } from 'node:crypto';
import type { DataAnchor, PiiStaged } from '../../src/data/data-types';
import type { CallOptions, Identity } from './harness';
import { id, SHA_A, type World } from './fixtures';

/** Fresh client-side randomness: a salt per record, key material for a thing's first PII. */
export const freshSecret = (): string => randomBytes(32).toString('hex');

export function piiTransient(details: string, extra: { salt?: string; key?: string } = {}): Record<string, string> {
  return { pii: JSON.stringify({ salt: extra.salt ?? freshSecret(), details, ...(extra.key === undefined ? {} : { key: extra.key }) }) };
}

export function anchorBody(dataId: string, piiHash?: string, thingId = 'watch-1'): Record<string, unknown> {
  return {
    dataId,
    thingId,
    sha256: SHA_A,
    size: 1,
    category: 'profile',
    classification: 'RESTRICTED',
    storage: { placement: 'ON_PLATFORM', storeId: 'local', uri: '' },
    keyId: 'k',
    encrypted: true,
    ...(piiHash ? { piiHash } : {}),
  };
}

/** Store then anchor; returns both answers. */
export async function storeAndAnchorPii(
  w: World,
  dataId: string,
  details: string,
  secrets: { salt?: string; key?: string } = { key: freshSecret() },
  who: Identity = id.alice,
  opts: CallOptions = {},
): Promise<{ staged: PiiStaged; anchor: DataAnchor }> {
  const staged = await w.chain.submit<PiiStaged>(w.data, 'StorePII', who, [{ dataId, thingId: 'watch-1' }], {
    ...opts,
    transient: piiTransient(details, secrets),
  });
  const anchor = await w.chain.submit<DataAnchor>(w.data, 'AnchorData', who, [anchorBody(dataId, staged.piiHash)]);
  return { staged, anchor };
}
