/** /r1/things: things registered by IoT platforms, their data-flow policy, agents and status. */
import { Agents, DataFlowPolicy, Reason, RegisterThing } from 'mvsec-protocol/inputs';
import { journaled } from '../http/idempotency.js';
import { READ_STATUSES, route, WRITE_STATUSES, type AnyRoute } from '../http/routes.js';
import { Committed, LedgerRecord } from '../http/schemas.js';
import type { LedgerClient } from '../ledger/client.js';
import { ThingParams } from './schemas.js';

export const TAG = 'R1 things and avatars';

export function thingRoutes(ledger: LedgerClient): AnyRoute[] {
  const things = ledger.things;
  return [
    route({
      method: 'post',
      path: '/r1/things',
      tag: TAG,
      summary: 'Register a thing',
      access: 'authenticated',
      body: RegisterThing,
      response: Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await things.register(caller, body, journaled()) }),
    }),
    route({
      method: 'get',
      path: '/r1/things/:thingId',
      tag: TAG,
      summary: 'Read a thing',
      access: 'authenticated',
      params: ThingParams,
      response: LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await things.get(caller, params.thingId) }),
    }),
    route({
      method: 'put',
      path: '/r1/things/:thingId/policy',
      tag: TAG,
      summary: "Set the thing's data-flow policy (controller)",
      access: 'authenticated',
      params: ThingParams,
      body: DataFlowPolicy,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await things.setPolicy(caller, params.thingId, body, journaled()) }),
    }),
    route({
      method: 'put',
      path: '/r1/things/:thingId/agents',
      tag: TAG,
      summary: "Set the thing's agents (controller)",
      access: 'authenticated',
      params: ThingParams,
      body: Agents,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await things.setAgents(caller, params.thingId, body.agents, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r1/things/:thingId/suspend',
      tag: TAG,
      summary: 'Suspend a thing (controller)',
      access: 'authenticated',
      params: ThingParams,
      body: Reason,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await things.suspend(caller, params.thingId, body.reason, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r1/things/:thingId/resume',
      tag: TAG,
      summary: 'Resume a thing (admin of its MSP)',
      access: 'authenticated',
      params: ThingParams,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await things.resume(caller, params.thingId, journaled()) }),
    }),
    route({
      method: 'post',
      path: '/r1/things/:thingId/revoke',
      tag: TAG,
      summary: 'Revoke a thing (owner or admin; final)',
      access: 'authenticated',
      params: ThingParams,
      body: Reason,
      response: Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await things.revoke(caller, params.thingId, body.reason, journaled()) }),
    }),
  ];
}
