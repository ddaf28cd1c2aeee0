/**
 * R2 trustworthy storage (F2, S2, X5, X7): the storage agent's object routes. Objects go in and
 * out as application/octet-stream, streamed; everything else is JSON or CBOR like the other routes.
 *
 *  PUT    /r2/data/:dataId          store: stream in, encrypt, anchor with AnchorData (201)
 *  GET    /r2/data/:dataId          fetch: guard, ledger fingerprint, verify ALL, then stream out
 *  DELETE /r2/data/:dataId          DeleteData on the ledger, then erase + destroy the data key
 *  POST   /r2/data/:dataId/verify   full verification pass against the ledger (a report)
 *
 * The ledger's anchors are anchors.ts. Every ledger call is made as the caller's own Fabric
 * identity; the chaincode decides again.
 */
import { deniedByLedger } from '../http/ledger-errors.js';
import { ApiError, fromChaincode } from '../http/problem.js';
import { STREAM_TYPE } from '../http/representation.js';
import { route, type AnyRoute } from '../http/routes.js';
import { integrityError, type StorageAgent } from './agent.js';
import { StorageUnavailableError } from './backend.js';
import { IntegrityError, TooLargeError } from './format.js';
import { KeyError, ownerKey } from './keyring.js';
import { DataParams, DeleteObjectQuery, Deletion, ObjectVerification, PurposeQuery, StoredObject, StoreObjectQuery } from './schemas.js';
import { serve } from './serve.js';
import type { IndexEntry } from './store.js';

export const TAG = 'R2 trustworthy storage';

export function objectRoutes(agent: StorageAgent): AnyRoute[] {
  const { ledger, o } = agent;
  return [
    route({
      method: 'put',
      path: '/r2/data/:dataId',
      tag: TAG,
      summary:
        'Store an object (streamed application/octet-stream): encrypted under a fresh data key wrapped by the owner’s key, content-addressed, and anchored with AnchorData (fingerprint, size, category, classification, location, key id)',
      access: 'authenticated',
      params: DataParams,
      query: StoreObjectQuery,
      rawBody: { contentType: STREAM_TYPE, description: 'The object, streamed; memory does not grow with its size' },
      response: StoredObject,
      successStatus: 201,
      statuses: [400, 403, 404, 409, 413, 415, 503],
      handler: async ({ req, caller, params, query }) => {
        const s = agent.store();
        if (await s.entry(params.dataId))
          throw fromChaincode('CONFLICT', `data ${params.dataId} already exists in store ${s.backend.storeId}`);
        // Before reading a byte: the thing, its placement policy, and the caller's write access.
        const thing = await ledger.things.get(caller, query.thingId);
        // X5: the thing's policy picks the store (ON_PLATFORM / EXTERNAL with its storageIds / ANY: the default).
        const placed = s.placeFor(thing.policy);
        if (!('backend' in placed)) throw deniedByLedger(`thing ${thing.thingId}: ${placed.reason}`);
        const d = await ledger.access.check(caller, {
          resourceType: query.avatarId ? 'AVATAR' : 'THING',
          resourceId: query.avatarId ?? query.thingId,
          action: 'write',
          purpose: '*',
        });
        if (!d.allowed) throw deniedByLedger(d.reason);
        const declared = Number(req.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > o.maxObjectBytes)
          throw new ApiError(413, `object is ${declared} bytes; the limit is ${o.maxObjectBytes}`);

        let stored;
        try {
          stored = await s.put(req, { owner: ownerKey(thing.mspId, thing.owner), maxBytes: o.maxObjectBytes, backend: placed.backend });
        } catch (err) {
          if (err instanceof TooLargeError) throw new ApiError(413, err.message);
          if (err instanceof StorageUnavailableError) throw agent.unavailable(err);
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
          anchored = await ledger.data.anchor(caller, {
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
            ...(query.piiHash ? { piiHash: query.piiHash } : {}),
          });
        } catch (err) {
          await s.discard(stored); // not anchored: nothing stays, the key is destroyed
          throw err;
        }
        const anchor = anchored.result;
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
      params: DataParams,
      query: PurposeQuery,
      binaryResponse: {
        contentType: STREAM_TYPE,
        description: 'The verified object; Repr-Digest carries its SHA-256 (the ledger fingerprint)',
      },
      statuses: [403, 404, 410, 502, 503],
      handler: async ({ req, res, caller, params, query }) => {
        const { e, anchor } = await agent.guardedAnchor(caller, params.dataId, query.purpose ?? '*');
        let reader;
        try {
          reader = await agent.store().openVerified(e, { sha256: anchor.sha256, size: anchor.size });
        } catch (err) {
          if (err instanceof IntegrityError || err instanceof KeyError) {
            agent.integrityFailed({ dataId: params.dataId, address: e.address, detail: `refused: ${err.message}` });
            throw integrityError(`data ${params.dataId} failed verification against the ledger and is not served: ${err.message}`);
          }
          if (err instanceof StorageUnavailableError) throw agent.unavailable(err);
          throw err;
        }
        await serve(req, res, reader, anchor, (detail) => agent.integrityFailed({ dataId: params.dataId, address: e.address, detail }));
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
      params: DataParams,
      query: DeleteObjectQuery,
      response: Deletion,
      statuses: [403, 404, 410, 503],
      handler: async ({ caller, params, query }) => {
        const e = await agent.entryOf(params.dataId);
        if (e.state === 'DELETED') throw agent.gone(e, agent.isOwner(caller, e));
        // The ledger first: it decides whether the caller may delete. Shredding without its record would lose data unauthorised.
        const r = await ledger.data.delete(caller, params.dataId, query.reason);
        let t: IndexEntry;
        try {
          t = await agent.store().shred(params.dataId, { record: r.result, txId: r.txId });
        } catch (err) {
          // Deleted on the ledger; the next fetch or verification pass shreds what is left.
          if (err instanceof StorageUnavailableError) throw agent.unavailable(err);
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
      params: DataParams,
      query: PurposeQuery,
      response: ObjectVerification,
      statuses: [403, 404, 410, 503],
      handler: async ({ caller, params, query }) => {
        const { e, anchor } = await agent.guardedAnchor(caller, params.dataId, query.purpose ?? '*');
        let v;
        try {
          v = await agent.store().verifyObject(e, { sha256: anchor.sha256, size: anchor.size });
        } catch (err) {
          if (err instanceof StorageUnavailableError) throw agent.unavailable(err);
          throw err;
        }
        if (!v.valid) agent.integrityFailed({ dataId: params.dataId, address: e.address, detail: v.reason });
        return { body: { dataId: params.dataId, ...v, ledger: { sha256: anchor.sha256, size: anchor.size } } };
      },
    }),
  ];
}
