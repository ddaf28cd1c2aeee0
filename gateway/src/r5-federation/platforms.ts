/** /r5/platforms: platforms bound to the MSP that registered them, as the caller's own Fabric identity. */
import { Reason, RegisterPlatform, UpdatePlatform } from 'mvsec-protocol/inputs';
import { journaled } from '../http/idempotency.js';
import { READ_STATUSES, route, WRITE_STATUSES, type AnyRoute } from '../http/routes.js';
import { Committed, LedgerRecord } from '../http/schemas.js';
import type { LedgerClient } from '../ledger/client.js';
import { PlatformParams } from './schemas.js';

export const TAG = 'R5 platforms and federation';

export function platformRoutes(ledger: LedgerClient): AnyRoute[] {
  const platforms = ledger.platforms;
  return [
    route({
      method: 'post',
      path: '/r5/platforms',
      tag: TAG,
      summary: "Register a platform of the caller's MSP (admin)",
      access: 'authenticated',
      body: RegisterPlatform,
      response: Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await platforms.register(caller, body, journaled()) }),
    }),
    route({
      method: 'get',
      path: '/r5/platforms/:platformId',
      tag: TAG,
      summary: 'Read a platform',
      access: 'authenticated',
      params: PlatformParams,
      response: LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await platforms.get(caller, params.platformId) }),
    }),
    route({
      method: 'patch',
      path: '/r5/platforms/:platformId',
      tag: TAG,
      summary: 'Update a platform (admin of its MSP)',
      access: 'authenticated',
      params: PlatformParams,
      body: UpdatePlatform,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await platforms.update(caller, params.platformId, body, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r5/platforms/:platformId/suspend',
      tag: TAG,
      summary: 'Suspend a platform',
      access: 'authenticated',
      params: PlatformParams,
      body: Reason,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await platforms.suspend(caller, params.platformId, body.reason, journaled()),
      }),
    }),
    route({
      method: 'post',
      path: '/r5/platforms/:platformId/resume',
      tag: TAG,
      summary: 'Resume a platform',
      access: 'authenticated',
      params: PlatformParams,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await platforms.resume(caller, params.platformId, journaled()) }),
    }),
  ];
}
