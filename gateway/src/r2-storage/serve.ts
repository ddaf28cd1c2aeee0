/**
 * Pass 2 of a fetch: stream the verified object. Headers promise exactly `size` bytes; the stream
 * verifies again as it goes, and if the stored object changed since pass 1 the connection is
 * destroyed (the client sees a short, failed transfer, never a complete wrong one).
 */
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { STREAM_TYPE } from '../http/representation.js';
import { IntegrityError } from './format.js';
import type { ObjectStore } from './store.js';

/** What the response promises: the object's fingerprint and size as the ledger binds them. */
export interface Served {
  sha256: string;
  size: number;
}

export async function serve(
  req: Request,
  res: Response,
  reader: Awaited<ReturnType<ObjectStore['openVerified']>>,
  anchor: Served,
  integrityFailed: (detail: string) => void,
): Promise<void> {
  try {
    res.status(200);
    res.setHeader('Content-Type', STREAM_TYPE);
    res.setHeader('Content-Length', String(anchor.size));
    res.setHeader('Repr-Digest', `sha-256=:${Buffer.from(anchor.sha256, 'hex').toString('base64')}:`);
    res.setHeader('Mvsec-Data-Sha256', anchor.sha256);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(reader.stream(), res);
  } catch (err) {
    if (err instanceof IntegrityError) integrityFailed(`changed while being served; connection aborted: ${err.message}`);
    res.destroy(err as Error);
  } finally {
    await reader.close();
  }
}
