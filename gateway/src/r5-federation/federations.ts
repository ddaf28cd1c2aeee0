/** /r5/federations: mutual authorization of two metaverse platforms, ACTIVE once both sides signed (X3). */
import { ProposeFederation, Reason } from 'mvsec-protocol/inputs';
import { journaled } from '../http/idempotency.js';
import { READ_STATUSES, route, WRITE_STATUSES, type AnyRoute } from '../http/routes.js';
import { Committed, LedgerRecord } from '../http/schemas.js';
import type { LedgerClient } from '../ledger/client.js';
import { TAG } from './platforms.js';
import { FederationParams } from './schemas.js';

export function federationRoutes(ledger: LedgerClient): AnyRoute[] {
  const platforms = ledger.platforms;
  return [
    route({
      method: 'post',
      path: '/r5/federations',
      tag: TAG,
      summary: 'Propose a federation between two metaverses (admin of the proposer)',
      access: 'authenticated',
      body: ProposeFederation,
      response: Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await platforms.proposeFederation(caller, body, journaled()) }),
    }),
    route({
      method: 'get',
      path: '/r5/federations/:platformId/:peerPlatformId',
      tag: TAG,
      summary: 'Read a federation',
      access: 'authenticated',
      params: FederationParams,
      response: LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({
        body: await platforms.getFederation(caller, params.platformId, params.peerPlatformId),
      }),
    }),
    route({
      method: 'post',
      path: '/r5/federations/:platformId/:peerPlatformId/accept',
      tag: TAG,
      summary: 'Accept a federation (admin of platformId, the side that did not propose); endorsed by both metaverse organisations',
      access: 'authenticated',
      params: FederationParams,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => {
        // The federation key carries a key-level policy naming both MSPs: endorse with both.
        const peer = await platforms.get(caller, params.peerPlatformId);
        const orgs = [...new Set([caller.mspId, peer.mspId].filter((x): x is string => typeof x === 'string'))];
        return {
          body: await platforms.acceptFederation(
            caller,
            params.platformId,
            params.peerPlatformId,
            journaled(orgs.length === 2 ? { endorsingOrganizations: orgs } : {}),
          ),
        };
      },
    }),
    route({
      method: 'post',
      path: '/r5/federations/:platformId/:peerPlatformId/revoke',
      tag: TAG,
      summary: 'Revoke a federation (admin of either side)',
      access: 'authenticated',
      params: FederationParams,
      body: Reason,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await platforms.revokeFederation(caller, params.platformId, params.peerPlatformId, body.reason, journaled()),
      }),
    }),
  ];
}
