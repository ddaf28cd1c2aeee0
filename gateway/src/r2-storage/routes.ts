/**
 * R2 trustworthy storage (F2, S2, X5, X7): the storage agent's routes. Objects go in and out as
 * application/octet-stream, streamed; everything else is JSON or CBOR like the other routes.
 *
 *  PUT    /r2/data/:dataId          store: stream in, encrypt, anchor with AnchorData (201)
 *  GET    /r2/data/:dataId          fetch: guard, ledger fingerprint, verify ALL, then stream out
 *  DELETE /r2/data/:dataId          DeleteData on the ledger, then erase + destroy the data key
 *  POST   /r2/data/:dataId/verify   full verification pass against the ledger (a report)
 *  GET    /r2/data/:dataId/anchor   the ledger's anchor (GetData)
 *  GET    /r2/things/:thingId/anchors  the thing's anchors (ListDataOfThing, paged)
 *
 * Every ledger call is made as the caller's own Fabric identity; the chaincode decides again.
 */
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Caller } from '../auth/principal.js';
import type { Ledger } from '../ledger/ledger.js';
import { ApiError, deniedByLedger, fromChaincode, parseChaincodeReason } from '../http/problem.js';
import { STREAM_TYPE } from '../http/representation.js';
import { route, type AnyRoute } from '../http/routes.js';
import * as S from '../http/schemas.js';
import { guardExecution } from '../r1-things/routes.js';
import { StorageUnavailableError } from './backend.js';
import { IntegrityError, TooLargeError } from './format.js';
import { KeyError, ownerKey } from './keyring.js';
import type { IndexEntry, ObjectStore, PlacementPolicy } from './store.js';

const TAG = 'R2 trustworthy storage';

interface ThingRecord {
  thingId: string;
  owner: string;
  mspId: string;
  policy?: PlacementPolicy;
}

interface LifecycleStep {
  stage: string;
  at: string;
  by?: { mspId?: string; principal?: string; role?: string };
  note?: string;
}

export interface AnchorRecord {
  dataId: string;
  thingId: string;
  sha256: string;
  size: number;
  owner: string;
  ownerMspId: string;
  storage: { placement: string; storeId: string; uri: string };
  keyId?: string;
  stage: string;
  lifecycle?: LifecycleStep[];
}

/** Stored bytes that fail verification against the ledger: the store gave bad data (502), never served. */
const integrityError = (detail: string) => new ApiError(502, detail, 'integrity-error', { code: 'INTEGRITY' });
/** The object store cannot be reached: 503, the operator's problem, logged with the backend's words. */
const unavailable = (err: Error, log: (m: string) => void) => {
  log(`storage: UNAVAILABLE ${err.message}`);
  return new ApiError(503, `the object store is unavailable: ${err.message}`, 'storage-unavailable', { headers: { 'retry-after': '5' } });
};
const isDeletedReason = (reason: string, dataId: string) => reason === `data ${dataId} is deleted`;

export interface StorageRouteOptions {
  maxObjectBytes: number;
  log: (msg: string) => void;
  now?: () => number;
  /** Told of every integrity failure (the monitor records an alert on the ledger). */
  onIntegrity?: (f: IntegrityFailure) => void;
}

/** Stored bytes (or their location/key) that did not match the ledger. */
export interface IntegrityFailure {
  dataId: string;
  /** The content address of the object that failed. */
  address: string;
  detail: string;
}

export function storageRoutes(ledger: Ledger, storage: ObjectStore | undefined, o: StorageRouteOptions): AnyRoute[] {
  /** The one place an integrity failure is reported: the log, and the monitor when there is one. */
  const integrityFailed = (f: IntegrityFailure) => {
    o.log(`storage: INTEGRITY data ${f.dataId} (object ${f.address}): ${f.detail}`);
    o.onIntegrity?.(f);
  };
  const store = (): ObjectStore => {
    if (!storage) throw new ApiError(503, 'no off-chain store is configured on this gateway (MVSEC_GATEWAY_STORAGE_DIR)', 'no-storage');
    return storage;
  };
  const entryOf = async (dataId: string): Promise<IndexEntry> => {
    const e = await store().entry(dataId);
    if (!e) throw new ApiError(404, `data ${dataId} is not in store ${store().backend.storeId}`, 'not-found', { code: 'NOT_FOUND' });
    return e;
  };
  const isOwner = (c: Caller, e: IndexEntry) => c.principal === e.ownerPrincipal && c.mspId === e.ownerMspId;

  /** 410 with the ledger's deletion record (the owner) or the ledger's reason only (anyone else). */
  const gone = (e: IndexEntry, full: boolean): ApiError => {
    const d = e.deletion ?? { shreddedAt: '', objectErased: true, keyDestroyed: true };
    const record = d.record as AnchorRecord | undefined;
    const step = record?.lifecycle?.filter((s) => s.stage === 'DELETED').pop();
    const detail = step
      ? `data ${e.dataId} was deleted at ${step.at} by ${step.by?.principal ?? '?'}@${step.by?.mspId ?? '?'}: ${step.note ?? ''}`.trim()
      : (d.ledgerReason ?? `data ${e.dataId} is deleted`);
    if (!full) return new ApiError(410, `data ${e.dataId} is deleted`, 'deleted', { code: 'EXPIRED' });
    return new ApiError(410, detail, 'deleted', {
      code: 'EXPIRED',
      members: {
        deletion: {
          dataId: e.dataId,
          txId: d.txId,
          fingerprint: e.sha256,
          deletedAt: step?.at,
          deletedBy: step?.by,
          reason: step?.note ?? d.ledgerReason,
          record,
          objectErased: d.objectErased,
          keyDestroyed: d.keyDestroyed,
        },
      },
    });
  };

  /** The ledger says deleted but this store still holds the object (deleted elsewhere): confirm, then shred. */
  const shredDeletedOnLedger = async (caller: Caller, e: IndexEntry): Promise<IndexEntry> => {
    const v = (await ledger.evaluate(caller, 'data:VerifyData', [e.dataId, e.sha256])) as { valid?: boolean; reason?: string };
    if (v?.reason !== `data ${e.dataId} is deleted`)
      throw new ApiError(502, `the ledger refused data ${e.dataId} as deleted but VerifyData says: ${v?.reason}`);
    o.log(`storage: data ${e.dataId} is deleted on the ledger; erasing object ${e.address} and destroying key ${e.keyId}`);
    return store().shred(e.dataId, { ledgerReason: v.reason });
  };

  /**
   * The read guard: tombstones answer 410; a non-owner is asked CheckAccess 'read' first (403 with
   * the contract's reason); then the ledger's anchor is read as the caller. Returns the entry and anchor.
   */
  const guardedAnchor = async (caller: Caller, dataId: string, purpose: string): Promise<{ e: IndexEntry; anchor: AnchorRecord }> => {
    let e = await entryOf(dataId);
    const owner = isOwner(caller, e);
    if (e.state === 'DELETED' && owner) throw gone(e, true);
    if (!owner) {
      const d = (await ledger.evaluate(caller, 'access:CheckAccess', ['DATA', dataId, 'read', purpose])) as {
        allowed?: boolean;
        reason?: string;
      };
      if (!d || typeof d.allowed !== 'boolean') throw new ApiError(502, 'CheckAccess gave no decision', 'bad-ledger-answer');
      if (!d.allowed) {
        if (isDeletedReason(d.reason ?? '', dataId)) {
          if (e.state !== 'DELETED') e = await shredDeletedOnLedger(caller, e);
          throw gone(e, false);
        }
        throw deniedByLedger(d.reason ?? 'access denied');
      }
      if (e.state === 'DELETED') throw gone(e, false);
    }
    let anchor: AnchorRecord;
    try {
      anchor = (await ledger.evaluate(caller, 'data:GetData', [dataId])) as AnchorRecord;
    } catch (err) {
      const coded = parseChaincodeReason(String((err as Error)?.message ?? ''));
      if (coded?.code === 'DENIED' && isDeletedReason(coded.reason, dataId)) {
        e = await shredDeletedOnLedger(caller, e);
        throw gone(e, owner);
      }
      throw err;
    }
    if (anchor.storage?.uri !== e.uri || (anchor.keyId ?? '') !== e.keyId) {
      integrityFailed({
        dataId,
        address: e.address,
        detail: `ledger locates it at ${anchor.storage?.uri} key ${anchor.keyId}, the store at ${e.uri} key ${e.keyId}`,
      });
      throw integrityError(`data ${dataId}: the ledger's storage location or key id is not this store's object`);
    }
    return { e, anchor };
  };

  return [
    route({
      method: 'put',
      path: '/r2/data/:dataId',
      tag: TAG,
      summary:
        'Store an object (streamed application/octet-stream): encrypted under a fresh data key wrapped by the owner’s key, content-addressed, and anchored with AnchorData (fingerprint, size, category, classification, location, key id)',
      access: 'authenticated',
      params: S.DataParams,
      query: S.StoreObjectQuery,
      rawBody: { contentType: STREAM_TYPE, description: 'The object, streamed; memory does not grow with its size' },
      response: S.StoredObject,
      successStatus: 201,
      statuses: [400, 403, 404, 409, 413, 415, 503],
      handler: async ({ req, caller, params, query }) => {
        const s = store();
        if (await s.entry(params.dataId))
          throw fromChaincode('CONFLICT', `data ${params.dataId} already exists in store ${s.backend.storeId}`);
        // Before reading a byte: the thing, its placement policy, and the caller's write access.
        const thing = (await ledger.evaluate(caller, 'thing:GetThing', [query.thingId])) as ThingRecord;
        // X5: the thing's policy picks the store (ON_PLATFORM / EXTERNAL with its storageIds / ANY: the default).
        const placed = s.placeFor(thing.policy);
        if (!('backend' in placed)) throw deniedByLedger(`thing ${thing.thingId}: ${placed.reason}`);
        const d = (await ledger.evaluate(caller, 'access:CheckAccess', [
          query.avatarId ? 'AVATAR' : 'THING',
          query.avatarId ?? query.thingId,
          'write',
          '*',
        ])) as { allowed: boolean; reason: string };
        if (!d.allowed) throw deniedByLedger(d.reason);
        const declared = Number(req.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > o.maxObjectBytes)
          throw new ApiError(413, `object is ${declared} bytes; the limit is ${o.maxObjectBytes}`);

        let stored;
        try {
          stored = await s.put(req, { owner: ownerKey(thing.mspId, thing.owner), maxBytes: o.maxObjectBytes, backend: placed.backend });
        } catch (err) {
          if (err instanceof TooLargeError) throw new ApiError(413, err.message);
          if (err instanceof StorageUnavailableError) throw unavailable(err, o.log);
          throw new ApiError(400, `could not read the object: ${(err as Error).message}`);
        }
        if (query.sha256 && query.sha256 !== stored.sha256) {
          await s.discard(stored);
          throw new ApiError(
            400,
            `the body's SHA-256 is ${stored.sha256}, not the declared ${query.sha256}; nothing stored`,
            'digest-mismatch',
          );
        }
        const storageLocation = { placement: stored.placement, storeId: stored.storeId, uri: stored.uri };
        let anchored;
        try {
          anchored = await ledger.submit(caller, 'data:AnchorData', [
            JSON.stringify({
              dataId: params.dataId,
              thingId: query.thingId,
              ...(query.avatarId ? { avatarId: query.avatarId } : {}),
              sha256: stored.sha256,
              size: stored.size,
              category: query.category,
              classification: query.classification,
              storage: storageLocation,
              keyId: stored.keyId,
              encrypted: true,
              stage: query.stage ?? 'STORED',
            }),
          ]);
        } catch (err) {
          await s.discard(stored); // not anchored: nothing stays, the key is destroyed
          throw err;
        }
        const anchor = anchored.result as AnchorRecord;
        await s.saveEntry({
          ...stored,
          v: 1,
          dataId: params.dataId,
          thingId: query.thingId,
          ownerPrincipal: anchor?.owner ?? thing.owner,
          ownerMspId: anchor?.ownerMspId ?? thing.mspId,
          anchorTxId: anchored.txId,
          storedAt: new Date().toISOString(),
          state: 'STORED',
        });
        return {
          body: {
            dataId: params.dataId,
            txId: anchored.txId,
            sha256: stored.sha256,
            size: stored.size,
            keyId: stored.keyId,
            storage: storageLocation,
            anchor,
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/r2/data/:dataId',
      tag: TAG,
      summary:
        "Fetch an object (application/octet-stream). A caller who is not the owner is asked CheckAccess 'read' first (403 with the contract's reason). The whole object is verified against the ledger's fingerprint before the first byte is sent; tampering answers 502 integrity-error; deleted data answers 410 with the ledger's deletion record",
      access: 'authenticated',
      params: S.DataParams,
      query: S.PurposeQuery,
      binaryResponse: {
        contentType: STREAM_TYPE,
        description: 'The verified object; Repr-Digest carries its SHA-256 (the ledger fingerprint)',
      },
      statuses: [403, 404, 410, 502, 503],
      handler: async ({ req, res, caller, params, query }) => {
        const { e, anchor } = await guardedAnchor(caller, params.dataId, query.purpose ?? '*');
        let reader;
        try {
          reader = await store().openVerified(e, { sha256: anchor.sha256, size: anchor.size });
        } catch (err) {
          if (err instanceof IntegrityError || err instanceof KeyError) {
            integrityFailed({ dataId: params.dataId, address: e.address, detail: `refused: ${err.message}` });
            throw integrityError(`data ${params.dataId} failed verification against the ledger and is not served: ${err.message}`);
          }
          if (err instanceof StorageUnavailableError) throw unavailable(err, o.log);
          throw err;
        }
        await serve(req, res, reader, anchor, (detail) => integrityFailed({ dataId: params.dataId, address: e.address, detail }));
        return {};
      },
    }),
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/delivery',
      tag: 'R3 cross-metaverse transfers',
      summary:
        'Execute a consented transfer and receive its data (application/octet-stream): the transfer guard first (403 unless CONSENTED, unexpired and bound to this fingerprint), then the object is verified against the bound fingerprint, ExecuteTransfer is committed, and only then are the bytes sent',
      description:
        'The same decision as …/execute (the chaincode authorizes the executor and allows one execution); Mvsec-Transfer-Tx names the committed transaction. Execution is single-use: a delivery cut short cannot be repeated, the owner shares again with a new transfer.',
      access: 'authenticated',
      params: S.TransferParams,
      body: S.ExecuteTransfer,
      binaryResponse: { contentType: STREAM_TYPE, description: 'The moved object, verified; Repr-Digest carries its SHA-256' },
      statuses: [400, 403, 404, 409, 410, 502, 503],
      handler: async ({ req, res, caller, params, body }) => {
        const t = await guardExecution(ledger, caller, params.transferId, body.dataSha256, o.now ?? Date.now);
        const e = await entryOf(t.dataId);
        if (e.state === 'DELETED') throw gone(e, false);
        let reader;
        try {
          reader = await store().openVerified(e, { sha256: t.dataSha256, size: e.size });
        } catch (err) {
          if (err instanceof IntegrityError || err instanceof KeyError) {
            integrityFailed({ dataId: t.dataId, address: e.address, detail: `transfer ${t.transferId} refused: ${err.message}` });
            throw integrityError(
              `data ${t.dataId} failed verification against transfer ${t.transferId}'s fingerprint; nothing was executed or sent`,
            );
          }
          if (err instanceof StorageUnavailableError) throw unavailable(err, o.log);
          throw err;
        }
        let txId: string;
        try {
          ({ txId } = await ledger.submit(caller, 'transfer:ExecuteTransfer', [t.transferId, t.dataSha256]));
        } catch (err) {
          await reader.close();
          throw err;
        }
        res.setHeader('Mvsec-Transfer-Tx', txId);
        await serve(req, res, reader, { dataId: t.dataId, sha256: t.dataSha256, size: e.size } as AnchorRecord, (detail) =>
          integrityFailed({ dataId: t.dataId, address: e.address, detail: `transfer ${t.transferId}: ${detail}` }),
        );
        return {};
      },
    }),
    route({
      method: 'delete',
      path: '/r2/data/:dataId',
      tag: TAG,
      summary:
        'Delete (X7): DeleteData on the ledger (which keeps the fingerprint and records the deletion), then erase the object and destroy its data key (crypto-shredding)',
      access: 'authenticated',
      params: S.DataParams,
      query: S.DeleteObjectQuery,
      response: S.Deletion,
      statuses: [403, 404, 410, 503],
      handler: async ({ caller, params, query }) => {
        const e = await entryOf(params.dataId);
        if (e.state === 'DELETED') throw gone(e, isOwner(caller, e));
        // The ledger first: it decides whether the caller may delete. Shredding without its record would lose data unauthorised.
        const r = await ledger.submit(caller, 'data:DeleteData', [params.dataId, query.reason]);
        let t: IndexEntry;
        try {
          t = await store().shred(params.dataId, { record: r.result, txId: r.txId });
        } catch (err) {
          // Deleted on the ledger; the next fetch or verification pass shreds what is left.
          if (err instanceof StorageUnavailableError) throw unavailable(err, o.log);
          throw err;
        }
        return {
          body: { txId: r.txId, deletion: r.result, objectErased: t.deletion!.objectErased, keyDestroyed: t.deletion!.keyDestroyed },
        };
      },
    }),
    route({
      method: 'post',
      path: '/r2/data/:dataId/verify',
      tag: TAG,
      summary: 'Verify the stored object against the ledger now (guarded like a fetch); answers a report, valid or not',
      access: 'authenticated',
      params: S.DataParams,
      query: S.PurposeQuery,
      response: S.ObjectVerification,
      statuses: [403, 404, 410, 503],
      handler: async ({ caller, params, query }) => {
        const { e, anchor } = await guardedAnchor(caller, params.dataId, query.purpose ?? '*');
        let v;
        try {
          v = await store().verifyObject(e, { sha256: anchor.sha256, size: anchor.size });
        } catch (err) {
          if (err instanceof StorageUnavailableError) throw unavailable(err, o.log);
          throw err;
        }
        if (!v.valid) integrityFailed({ dataId: params.dataId, address: e.address, detail: v.reason });
        return { body: { dataId: params.dataId, ...v, ledger: { sha256: anchor.sha256, size: anchor.size } } };
      },
    }),
    route({
      method: 'get',
      path: '/r2/data/:dataId/anchor',
      tag: TAG,
      summary: "The ledger's anchor of a data id (GetData: read access, auditor or monitor)",
      access: 'authenticated',
      params: S.DataParams,
      response: S.LedgerRecord,
      statuses: [403, 404],
      handler: async ({ caller, params }) => ({ body: await ledger.evaluate(caller, 'data:GetData', [params.dataId]) }),
    }),
    route({
      method: 'get',
      path: '/r2/things/:thingId/anchors',
      tag: TAG,
      summary: "A thing's anchors, paged (ListDataOfThing: read access on the thing, auditor or monitor)",
      access: 'authenticated',
      params: S.ThingParams,
      query: S.AnchorsQuery,
      statuses: [403, 404],
      handler: async ({ caller, params, query }) => {
        const page = (await ledger.evaluate(caller, 'data:ListDataOfThing', [
          params.thingId,
          query.pageSize ?? '50',
          S.bookmarkIn(query.bookmark),
        ])) as
          | {
              items: unknown[];
              bookmark?: string;
            }
          | undefined;
        return { body: { items: page?.items ?? [], bookmark: S.bookmarkOut(page?.bookmark ?? '') } };
      },
    }),
  ];
}

/**
 * Pass 2: stream the verified object. Headers promise exactly `size` bytes; the stream verifies
 * again as it goes, and if the stored object changed since pass 1 the connection is destroyed
 * (the client sees a short, failed transfer, never a complete wrong one).
 */
async function serve(
  req: Request,
  res: Response,
  reader: Awaited<ReturnType<ObjectStore['openVerified']>>,
  anchor: AnchorRecord,
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
