/** /r1/avatars and a thing's avatars: things mapped into metaverses (X1). */
import { Agents, MapAvatar, Reason } from 'mvsec-protocol/inputs';
import { journaled } from '../http/idempotency.js';
import { READ_STATUSES, route, WRITE_STATUSES, type AnyRoute } from '../http/routes.js';
import { Committed, LedgerRecord } from '../http/schemas.js';
import type { LedgerClient } from '../ledger/client.js';
import { AvatarParams, AvatarsOfThingQuery, ThingParams } from './schemas.js';
import { TAG } from './things.js';

export function avatarRoutes(ledger: LedgerClient): AnyRoute[] {
  const avatars = ledger.avatars;
  return [
    route({
      method: 'get',
      path: '/r1/things/:thingId/avatars',
      tag: TAG,
      summary: 'Avatars of a thing (optionally in one metaverse)',
      access: 'authenticated',
      params: ThingParams,
      query: AvatarsOfThingQuery,
      statuses: READ_STATUSES,
      handler: async ({ caller, params, query }) => ({ body: await avatars.ofThing(caller, params.thingId, query.metaverseId ?? '') }),
    }),
    route({
      method: 'post',
      path: '/r1/avatars',
      tag: TAG,
      summary: "Propose mapping a thing to an avatar in a metaverse (PENDING until the thing's owner approves it)",
      access: 'authenticated',
      body: MapAvatar,
      response: Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await avatars.map(caller, body, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r1/avatars/:avatarId/approve',
      tag: TAG,
      summary: "Approve a PENDING mapping (the thing's owner or a thing agent it lists; trust rule 8)",
      access: 'authenticated',
      params: AvatarParams,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await avatars.approve(caller, params.avatarId, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r1/avatars/:avatarId/reject',
      tag: TAG,
      summary: "Reject a PENDING mapping (the thing's owner or a thing agent it lists)",
      access: 'authenticated',
      params: AvatarParams,
      body: Reason,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await avatars.reject(caller, params.avatarId, body.reason, journaled()) }),
    }),
    route({
      method: 'get',
      path: '/r1/avatars/:avatarId',
      tag: TAG,
      summary: 'Read an avatar',
      access: 'authenticated',
      params: AvatarParams,
      response: LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await avatars.get(caller, params.avatarId) }),
    }),
    route({
      method: 'put',
      path: '/r1/avatars/:avatarId/agents',
      tag: TAG,
      summary: "Set an avatar's agents (controller)",
      access: 'authenticated',
      params: AvatarParams,
      body: Agents,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await avatars.setAgents(caller, params.avatarId, body.agents, journaled()),
      }),
    }),
    ...(['unmap', 'suspend'] as const).map((op) =>
      route({
        method: 'post',
        path: `/r1/avatars/:avatarId/${op}`,
        tag: TAG,
        summary: `${op === 'unmap' ? 'Unmap' : 'Suspend'} an avatar (controller)`,
        access: 'authenticated',
        params: AvatarParams,
        body: Reason,
        response: Committed,
        statuses: WRITE_STATUSES,
        idempotent: true,
        handler: async ({ caller, params, body }) => ({
          body: await (op === 'unmap' ? avatars.unmap : avatars.suspend).call(avatars, caller, params.avatarId, body.reason, journaled()),
        }),
      }),
    ),
    route({
      method: 'post',
      path: '/r1/avatars/:avatarId/resume',
      tag: TAG,
      summary: 'Resume an avatar (admin of its metaverse MSP)',
      access: 'authenticated',
      params: AvatarParams,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await avatars.resume(caller, params.avatarId, journaled()) }),
    }),
  ];
}
