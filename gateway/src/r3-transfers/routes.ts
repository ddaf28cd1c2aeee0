/**
 * /r3 cross-metaverse transfers under double verification: request (the share guard first),
 * approvals by both metaverses, the owner's consent, execution (the transfer guard first),
 * rejection and revocation. The delivery of the data itself is delivery.ts.
 */
import { Reason, RequestTransfer } from 'mvsec-protocol/inputs';
import { journaled } from '../http/idempotency.js';
import { READ_STATUSES, route, WRITE_STATUSES, type AnyRoute } from '../http/routes.js';
import { Committed, LedgerRecord } from '../http/schemas.js';
import type { LedgerClient } from '../ledger/client.js';
import { guardAccess } from '../r4-access/guard.js';
import { guardExecution } from './guard.js';
import { ApproveTransfer, ExecuteTransfer, TransferParams } from './schemas.js';

export const TAG = 'R3 cross-metaverse transfers';

export function transferRoutes(ledger: LedgerClient, now: () => number): AnyRoute[] {
  const transfers = ledger.transfers;
  return [
    route({
      method: 'post',
      path: '/r3/transfers',
      tag: TAG,
      summary: "Request a transfer; the guard first checks the caller's share access on the data for the purpose",
      access: 'authenticated',
      body: RequestTransfer,
      response: Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => {
        await guardAccess(ledger, caller, { resourceType: 'DATA', resourceId: body.dataId, action: 'share', purpose: body.purpose });
        return { body: await transfers.request(caller, body, journaled()) };
      },
    }),
    route({
      method: 'get',
      path: '/r3/transfers/:transferId',
      tag: TAG,
      summary: 'Read a transfer',
      access: 'authenticated',
      params: TransferParams,
      response: LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await transfers.get(caller, params.transferId) }),
    }),
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/approve',
      tag: TAG,
      summary: 'Approve as the source or the target metaverse (admin of that MSP)',
      access: 'authenticated',
      params: TransferParams,
      body: ApproveTransfer,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await (body.side === 'source'
          ? transfers.approveAsSource(caller, params.transferId, journaled())
          : transfers.approveAsTarget(caller, params.transferId, journaled())),
      }),
    }),
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/consent',
      tag: TAG,
      summary: "Consent as the thing's owner",
      access: 'authenticated',
      params: TransferParams,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await transfers.consent(caller, params.transferId, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/execute',
      tag: TAG,
      summary:
        "Execute a consented transfer; the guard refuses (403, the transfer's state) unless it is CONSENTED, unexpired and the hash is the bound one",
      access: 'authenticated',
      params: TransferParams,
      body: ExecuteTransfer,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => {
        await guardExecution(ledger, caller, params.transferId, body.dataSha256, now);
        return { body: await transfers.execute(caller, params.transferId, body.dataSha256, journaled()) };
      },
    }),
    ...(['reject', 'revoke'] as const).map((op) =>
      route({
        method: 'post',
        path: `/r3/transfers/:transferId/${op}`,
        tag: TAG,
        summary:
          op === 'reject' ? 'Reject a transfer (admin of source or target MSP, or the owner)' : 'Revoke a transfer (requester or owner)',
        access: 'authenticated',
        params: TransferParams,
        body: Reason,
        response: Committed,
        statuses: WRITE_STATUSES,
        idempotent: true,
        handler: async ({ caller, params, body }) => ({
          body: await (op === 'reject'
            ? transfers.reject(caller, params.transferId, body.reason, journaled())
            : transfers.revoke(caller, params.transferId, body.reason, journaled())),
        }),
      }),
    ),
  ];
}
