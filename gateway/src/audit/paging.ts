/**
 * Audit paging: bookmarks are opaque to the client — they carry the chaincode's bookmark and the
 * query they belong to, so a bookmark of another query is a 400 — and a page is collected from
 * chaincode pages, filtering and resuming a partly consumed one.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../http/problem.js';

/** Chaincode page size when scanning (LIMITS.pageSize of the chaincode). */
export const SCAN_PAGE = 200;

export interface Page<T> {
  items: T[];
  bookmark: string;
}

export interface Cursor {
  /** the query this bookmark belongs to */
  q: string;
  /** the chaincode's bookmark of the page to read next */
  b: string;
  /** records of that page already returned */
  s: number;
}

export const queryTag = (parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 16);

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export function decodeCursor(bookmark: string | undefined, q: string): Cursor {
  if (!bookmark) return { q, b: '', s: 0 };
  let c: Partial<Cursor>;
  try {
    c = JSON.parse(Buffer.from(bookmark, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    throw new ApiError(400, 'invalid query: bookmark is not one returned by a previous page', 'validation');
  }
  if (!c || typeof c.b !== 'string' || typeof c.s !== 'number' || !Number.isInteger(c.s) || c.s < 0 || c.s > SCAN_PAGE)
    throw new ApiError(400, 'invalid query: bookmark is not one returned by a previous page', 'validation');
  if (c.q !== q) throw new ApiError(400, 'invalid query: bookmark belongs to another query', 'validation');
  return { q, b: c.b, s: c.s };
}

/**
 * One page of `pageSize` records of a paged chaincode query, keeping those `keep` accepts and
 * stopping at the first that `stop` marks as past the end. Reads `chunk` records per call; a
 * partly consumed chaincode page is resumed by skipping what was already returned.
 */
export async function collectPage<T>(
  fetch: (size: number, bookmark: string) => Promise<Page<T>>,
  cursor: Cursor,
  pageSize: number,
  chunk: number,
  keep: (r: T) => boolean = () => true,
  stop: (r: T) => boolean = () => false,
): Promise<Page<T>> {
  const items: T[] = [];
  let { b, s } = cursor;
  for (;;) {
    const page = await fetch(chunk, b);
    const list = Array.isArray(page?.items) ? page.items : [];
    for (let i = s; i < list.length; i++) {
      const r = list[i];
      if (stop(r)) return { items, bookmark: '' };
      if (!keep(r)) continue;
      items.push(r);
      if (items.length === pageSize) {
        const more =
          i + 1 < list.length ? { b, s: i + 1 } : list.length === chunk && page.bookmark ? { b: page.bookmark, s: 0 } : undefined;
        return { items, bookmark: more ? encodeCursor({ q: cursor.q, ...more }) : '' };
      }
    }
    if (list.length < chunk || !page.bookmark) return { items, bookmark: '' };
    b = page.bookmark;
    s = 0;
  }
}
