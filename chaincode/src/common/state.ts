import type { Context } from 'fabric-contract-api';
import { invalid, notFound } from './errors';
import { fromBytes, toBytes } from './serialization';

/** Read a JSON record; undefined when the key is absent. Fabric reads never see this tx's own writes. */
export async function getRecord<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return fromBytes<T>(bytes);
}

/** Read a record that must exist; NOT_FOUND names what is missing. */
export async function mustGet<T>(ctx: Context, key: string, what: string): Promise<T> {
  const record = await getRecord<T>(ctx, key);
  if (record === undefined) throw notFound(`${what} does not exist`);
  return record;
}

/** Write a record as sorted-key JSON. */
export async function putRecord(ctx: Context, key: string, record: unknown): Promise<void> {
  await ctx.stub.putState(key, toBytes(record));
}

/** Index entries carry a tiny non-empty value (an empty value would be a delete). */
export async function putIndex(ctx: Context, key: string): Promise<void> {
  await ctx.stub.putState(key, Buffer.from('{}'));
}

export async function keyExists(ctx: Context, key: string): Promise<boolean> {
  const bytes = await ctx.stub.getState(key);
  return !!bytes && bytes.length > 0;
}

/** Collect all values under a partial composite key (non-paged; only for bounded small sets). */
export async function listByPartialKey<T>(
  ctx: Context,
  objectType: string,
  attributes: string[],
  max: number,
): Promise<{ key: string; value: T }[]> {
  const out: { key: string; value: T }[] = [];
  const iterator = await ctx.stub.getStateByPartialCompositeKey(objectType, attributes);
  try {
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      out.push({ key: r.value.key, value: fromBytes<T>(r.value.value) });
      if (out.length >= max) break;
    }
  } finally {
    await iterator.close();
  }
  return out;
}

export interface Page<T> {
  items: T[];
  bookmark: string;
}

/**
 * One page of values under a partial composite key (evaluate-only in Fabric). A page starts at its
 * bookmark (Fabric takes the bookmark as the start key), so a bookmark must lie under the same
 * partial key — a crafted one would otherwise start the scan under another subject's keys (another
 * provider's jobs, another thing's data) that sort before the caller's. `startAt`: further key
 * attributes to start the first page at (e.g. a time), instead of the first key.
 */
export async function pageByPartialKey<T>(
  ctx: Context,
  objectType: string,
  attributes: string[],
  pageSize: number,
  bookmark: string,
  startAt: string[] = [],
): Promise<Page<{ key: string; value: T }>> {
  const prefix = ctx.stub.createCompositeKey(objectType, attributes);
  if (bookmark && !bookmark.startsWith(prefix)) throw invalid('bookmark is not one returned by a previous page of this query');
  const start = bookmark || (startAt.length ? ctx.stub.createCompositeKey(objectType, [...attributes, ...startAt]) : '');
  const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(objectType, attributes, pageSize, start);
  const items: { key: string; value: T }[] = [];
  try {
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      items.push({ key: r.value.key, value: fromBytes<T>(r.value.value) });
    }
  } finally {
    await iterator.close();
  }
  return { items, bookmark: metadata?.bookmark ?? '' };
}
