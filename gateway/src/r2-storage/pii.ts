/**
 * X7, trust rule 7: personal data through the API. PII belongs to a data object and never goes
 * on a block: it travels as transient data to the caller organisation's private collection,
 * endorsed by that organisation's own peers only; the ledger keeps a keyed fingerprint
 * (HMAC under the thing's secret in the collection), which the object's anchor binds.
 *
 *  PUT /r2/data/:dataId/pii   stage the PII before the object (then PUT /r2/data/:dataId?…&piiHash=)
 *  GET /r2/data/:dataId/pii   read it back (the holding organisation's members with read access; 410 once erased)
 *
 * Erasure is DELETE /r2/data/:dataId: DeleteData purges the PII from the collection and keeps the
 * fingerprint. The salt and the thing's key material are drawn here (the chaincode may not draw
 * randomness); the key material counts only for the thing's first PII.
 */
import { randomBytes } from 'node:crypto';
import { journaled } from '../http/idempotency.js';
import { ApiError } from '../http/problem.js';
import { refusedAsDeleted } from '../ledger/data.js';
import { route, type AnyRoute } from '../http/routes.js';
import type { LedgerClient } from '../ledger/client.js';
import { TAG } from './objects.js';
import { DataParams, PiiAnswer, PiiStagedAnswer, StorePii } from './schemas.js';

export function piiRoutes(ledger: LedgerClient): AnyRoute[] {
  return [
    route({
      method: 'put',
      path: '/r2/data/:dataId/pii',
      tag: TAG,
      summary:
        "Stage a data object's personal data (before storing the object): kept only in your organisation's private collection, never on a block; answers the fingerprint to pass as piiHash when storing the object",
      access: 'authenticated',
      params: DataParams,
      body: StorePii,
      response: PiiStagedAnswer,
      successStatus: 201,
      statuses: [400, 403, 404, 409, 503],
      idempotent: true,
      handler: async ({ caller, params, body }) => {
        const staged = await ledger.data.storePii(
          caller,
          { dataId: params.dataId, thingId: body.thingId, ...(body.avatarId ? { avatarId: body.avatarId } : {}) },
          { salt: randomBytes(32).toString('hex'), details: body.details, key: randomBytes(32).toString('hex') },
          journaled(),
        );
        const r = staged.result;
        return { body: { dataId: params.dataId, txId: staged.txId, piiCollection: r.piiCollection, piiHash: r.piiHash } };
      },
    }),
    route({
      method: 'get',
      path: '/r2/data/:dataId/pii',
      tag: TAG,
      summary: "A data object's personal data, from your organisation's own peer (its holders with read access; 404 once erased)",
      access: 'authenticated',
      params: DataParams,
      response: PiiAnswer,
      statuses: [403, 404, 410],
      handler: async ({ caller, params }) => {
        let p;
        try {
          p = await ledger.data.pii(caller, params.dataId);
        } catch (e) {
          if (refusedAsDeleted(e, params.dataId))
            throw new ApiError(410, `data ${params.dataId} is deleted: its PII was erased (the ledger keeps the fingerprint)`, 'erased');
          throw e;
        }
        return { body: { dataId: p.dataId, details: p.details, collection: p.collection } };
      },
    }),
  ];
}
