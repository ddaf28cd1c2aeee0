/** The ledger's anchors of stored data (R2): one data id's (GetData) and a thing's, paged (ListDataOfThing). */
import { route, type AnyRoute } from '../http/routes.js';
import { bookmarkIn, bookmarkOut, LedgerRecord } from '../http/schemas.js';
import type { LedgerClient } from '../ledger/client.js';
import { ThingParams } from '../r1-things/schemas.js';
import { TAG } from './objects.js';
import { AnchorsQuery, DataParams } from './schemas.js';

export function anchorRoutes(ledger: LedgerClient): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/r2/data/:dataId/anchor',
      tag: TAG,
      summary: "The ledger's anchor of a data id (GetData: read access, auditor or monitor)",
      access: 'authenticated',
      params: DataParams,
      response: LedgerRecord,
      statuses: [403, 404],
      handler: async ({ caller, params }) => ({ body: await ledger.data.get(caller, params.dataId) }),
    }),
    route({
      method: 'get',
      path: '/r2/things/:thingId/anchors',
      tag: TAG,
      summary: "A thing's anchors, paged (ListDataOfThing: read access on the thing, auditor or monitor)",
      access: 'authenticated',
      params: ThingParams,
      query: AnchorsQuery,
      statuses: [403, 404],
      handler: async ({ caller, params, query }) => {
        const page = await ledger.data.ofThing(caller, params.thingId, query.pageSize ?? '50', bookmarkIn(query.bookmark));
        return { body: { items: page?.items ?? [], bookmark: bookmarkOut(page?.bookmark ?? '') } };
      },
    }),
  ];
}
