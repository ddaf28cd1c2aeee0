/**
 * /r4 grants and access: external entities reach things, avatars and data only as the ledger's
 * CheckAccess decides (guard.ts), with the contract's reason on a refusal.
 */
import { AccessCheck, CreateGrant, Reason } from 'mvsec-protocol/inputs';
import { journaled } from '../http/idempotency.js';
import { READ_STATUSES, route, WRITE_STATUSES, type AnyRoute } from '../http/routes.js';
import { Committed, LedgerRecord } from '../http/schemas.js';
import type { LedgerClient } from '../ledger/client.js';
import { guardAccess } from './guard.js';
import { AccessDecision, GrantParams } from './schemas.js';

const TAG = 'R4 external entities: grants and access';

export function accessRoutes(ledger: LedgerClient): AnyRoute[] {
  const access = ledger.access;
  return [
    route({
      method: 'post',
      path: '/r4/grants',
      tag: TAG,
      summary: 'Grant a principal, an MSP or a role actions on a thing, avatar or data',
      access: 'authenticated',
      body: CreateGrant,
      response: Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await access.createGrant(caller, body, journaled()) }),
    }),
    route({
      method: 'get',
      path: '/r4/grants/:grantId',
      tag: TAG,
      summary: 'Read a grant (grantor, grantee, controller, auditor, monitor)',
      access: 'authenticated',
      params: GrantParams,
      response: LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await access.getGrant(caller, params.grantId) }),
    }),
    route({
      method: 'post',
      path: '/r4/grants/:grantId/revoke',
      tag: TAG,
      summary: 'Revoke a grant',
      access: 'authenticated',
      params: GrantParams,
      body: Reason,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await access.revokeGrant(caller, params.grantId, body.reason, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r4/access-checks',
      tag: TAG,
      summary: 'Ask the ledger whether the caller may perform an action (always 200 with the decision)',
      access: 'authenticated',
      body: AccessCheck,
      response: AccessDecision,
      statuses: [400, 404],
      handler: async ({ caller, body }) => ({ body: await access.check(caller, body) }),
    }),
    route({
      method: 'post',
      path: '/r4/access',
      tag: TAG,
      summary:
        "Reach a resource: the guard evaluates CheckAccess and refuses with 403 and the contract's reason; on success returns the decision naming the grant",
      access: 'authenticated',
      body: AccessCheck,
      response: AccessDecision,
      statuses: [400, 403, 404],
      handler: async ({ caller, body }) => ({ body: await guardAccess(ledger, caller, body) }),
    }),
  ];
}
