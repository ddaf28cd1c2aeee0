/**
 * HTTP schemas every reference point shares (zod: one source for validation and the OpenAPI
 * document): ledger answers, committed writes, page bookmarks. Ledger inputs come from
 * mvsec-protocol/inputs; each folder keeps its own parameters and bodies in its schemas.ts.
 */
import { z } from 'zod';

/** Any ledger record (its shape is the chaincode's, see GetMetadata). */
export const LedgerRecord = z.record(z.string(), z.unknown());
export const Committed = z.object({ txId: z.string(), result: z.unknown() });

/**
 * A page bookmark as clients hold it: the chaincode's bookmark (a composite key, with NUL
 * separators) in base64url, so it travels in a query string and passes the no-control-characters
 * rule; `''` or absent for the first page.
 */
export const PageBookmark = z
  .string()
  .max(2048)
  .regex(/^[A-Za-z0-9_-]*$/, 'must be a bookmark this API returned (base64url)');
export const bookmarkOut = (ledgerBookmark: string) => Buffer.from(ledgerBookmark, 'utf8').toString('base64url');
export const bookmarkIn = (clientBookmark: string | undefined) => Buffer.from(clientBookmark ?? '', 'base64url').toString('utf8');
