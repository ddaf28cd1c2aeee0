/**
 * Agents (gateway/src/r1-things/agents/agents.ts):
 *
 *  POST /agents                    create an agent serving things, avatars or entities (its own Fabric identity)
 *  GET  /agents/:agentId           the agent, its identity and (thing agents) its signing public key
 *  POST /agents/:agentId/readings  a constrained thing hands its raw readings to its thing agent,
 *                                  which applies its collection policy, numbers and signs them as the
 *                                  IoT gateway and submits them as itself (R1 telemetry)
 *  GET  /agents/:agentId/avatars/:avatarId/readings
 *                                  an avatar agent's feed: the avatar's live data, followed as itself
 *
 * Creating an agent configures a gateway component (admin or creator); it grants nothing: the agent
 * acts only where the chaincode lets its own identity act (listed among a thing's or avatar's agents),
 * and whoever hands it readings must be allowed to write the thing (the ledger decides both).
 */
import { z } from 'zod';
import { requireRole } from '../../auth/authenticate.js';
import { AGENT_KINDS, agentCaller, type AgentRecord, type AgentStore } from './agents.js';
import { AvatarFeeds } from './avatar-feed.js';
import type { LedgerClient } from '../../ledger/client.js';
import { ApiError } from '../../http/problem.js';
import { route, type AnyRoute } from '../../http/routes.js';
import { Id, Iso } from 'mvsec-protocol/inputs';
import type { TelemetryService } from '../telemetry/service.js';
import { signReadingSet } from '../telemetry/signature.js';
import { guardAccess } from '../../r4-access/guard.js';
import { Reading, ReadingsAccepted } from '../telemetry/routes.js';

const TAG = 'Agents';
const CreateAgent = z.strictObject({
  agentId: Id,
  kind: z.enum(AGENT_KINDS),
  serves: z.array(Id).min(1).max(100),
  sensors: z.array(Id.max(64)).max(64).optional(),
});
const AgentParams = z.strictObject({ agentId: Id });
const AgentOut = z.object({
  agentId: z.string(),
  kind: z.enum(AGENT_KINDS),
  mspId: z.string(),
  serves: z.array(z.string()),
  sensors: z.array(z.string()),
  identity: z.object({ role: z.string(), principal: z.string(), mspId: z.string() }),
  publicKey: z
    .string()
    .optional()
    .describe("a thing agent's signing key (base64 DER SPKI): register it as its IoT gateway thing's publicKey"),
  createdAt: z.string(),
});
const RawReadings = z.strictObject({
  thingId: Id,
  readings: z
    .array(z.strictObject({ time: Iso, sensor: Reading.shape.sensor, value: Reading.shape.value }))
    .min(1)
    .max(2000),
});

const view = (a: AgentRecord) => ({
  agentId: a.agentId,
  kind: a.kind,
  mspId: a.mspId,
  serves: a.serves,
  sensors: a.sensors,
  identity: { role: `${a.kind}-agent`, principal: a.agentId, mspId: a.mspId },
  ...(a.publicKey ? { publicKey: a.publicKey } : {}),
  createdAt: a.createdAt,
});

export function agentRoutes(ledger: LedgerClient, agents: AgentStore, telemetry: TelemetryService, now: () => number): AnyRoute[] {
  const feeds = new AvatarFeeds(telemetry, now);
  const agentOf = (agentId: string) => {
    const a = agents.get(agentId);
    if (!a) throw new ApiError(404, `no agent ${agentId} on this gateway`, 'not-found', { code: 'NOT_FOUND' });
    return a;
  };
  return [
    route({
      method: 'post',
      path: '/agents',
      tag: TAG,
      summary: "Create an agent of the caller's organisation serving things, avatars or entities; it gets its own Fabric identity",
      description:
        'An admin or creator configures the component; it is no grant: the agent acts on a thing or avatar only where the chaincode lets its own identity act, i.e. once the controller lists the agent id among the thing’s or avatar’s agents. ' +
        "A thing agent's public key is what its IoT gateway thing registers as publicKey.",
      access: 'authenticated',
      body: CreateAgent,
      response: AgentOut,
      successStatus: 201,
      statuses: [400, 403, 409],
      handler: async ({ caller, body }) => {
        if (agents.get(body.agentId)) throw new ApiError(409, `agent ${body.agentId} already exists`, 'conflict');
        requireRole(caller, ['admin', 'creator'], 'creating agents');
        const a = agents.create({
          agentId: body.agentId,
          kind: body.kind,
          mspId: caller.mspId,
          serves: body.serves,
          sensors: body.sensors ?? [],
          createdBy: { principal: caller.principal, mspId: caller.mspId },
          createdAt: new Date(now()).toISOString(),
        });
        return { body: view(a) };
      },
    }),
    route({
      method: 'get',
      path: '/agents/:agentId',
      tag: TAG,
      summary: 'An agent: what it serves, its Fabric identity, its signing public key (thing agents)',
      access: 'authenticated',
      params: AgentParams,
      response: AgentOut,
      statuses: [404],
      handler: async ({ params }) => ({ body: view(agentOf(params.agentId)) }),
    }),
    route({
      method: 'post',
      path: '/agents/:agentId/readings',
      tag: TAG,
      summary:
        "A constrained thing's raw readings handed to its thing agent, which signs them as the IoT gateway and submits them as itself",
      description:
        'The caller must be allowed to write the thing (the ledger decides); the agent must serve it and accept the sensors (its collection policy, 422 otherwise). ' +
        "The agent numbers the readings, signs them as one set with the IoT gateway's key and submits them through R1 telemetry as its own identity — the chaincode lets it only if it is listed among the thing's agents.",
      access: 'authenticated',
      params: AgentParams,
      body: RawReadings,
      response: ReadingsAccepted.extend({ agentId: z.string() }),
      successStatus: 202,
      statuses: [403, 404, 409, 422, 503],
      handler: async ({ caller, params, body }) => {
        const a = agentOf(params.agentId);
        if (a.kind !== 'thing')
          throw new ApiError(422, `agent ${a.agentId} is a ${a.kind} agent; readings go to thing agents`, 'not-a-thing-agent');
        if (!a.serves.includes(body.thingId))
          throw new ApiError(403, `agent ${a.agentId} does not serve thing ${body.thingId}`, 'not-served');
        const refused = a.sensors.length ? body.readings.filter((r) => !a.sensors.includes(r.sensor)) : [];
        if (refused.length)
          throw new ApiError(
            422,
            `agent ${a.agentId} collects only sensors ${a.sensors.join(', ')}; got ${refused[0].sensor}`,
            'sensor-not-collected',
          );
        await guardAccess(ledger, caller, { resourceType: 'THING', resourceId: body.thingId, action: 'write', purpose: '*' });
        const key = agents.signingKey(a);
        const first = agents.reserve(a, body.thingId, body.readings.length);
        const readings = body.readings.map((r, i) => ({ seq: first + i, time: r.time, sensor: r.sensor, value: r.value }));
        // One signature over the request's readings (a signed set): what the gateway would verify per reading otherwise.
        const setSignature = signReadingSet(key, body.thingId, readings);
        return { body: { ...(await telemetry.ingest(agentCaller(a), body.thingId, readings, setSignature)), agentId: a.agentId } };
      },
    }),
    route({
      method: 'get',
      path: '/agents/:agentId/avatars/:avatarId/readings',
      tag: TAG,
      summary: "An avatar agent's feed: the latest live readings of an avatar it serves, collected as its own identity",
      description:
        'The caller must be allowed to read the avatar (the ledger decides). On the first call the agent starts following the avatar — admitted by the ledger as itself: listed among the avatar’s agents, the thing’s policy allowing the metaverse (403 with the reason otherwise). ' +
        'Answers the readings received since (the latest 1,000) and, once the stream ended for good (policy revoked, avatar gone), why.',
      access: 'authenticated',
      params: z.strictObject({ agentId: Id, avatarId: Id }),
      response: z.object({
        agentId: z.string(),
        avatarId: z.string(),
        since: z.string(),
        readings: z.array(z.unknown()),
        anchoredBatches: z.number(),
        closed: z.string().optional(),
      }),
      statuses: [403, 404, 422, 503],
      handler: async ({ caller, params }) => {
        const a = agentOf(params.agentId);
        if (a.kind !== 'avatar')
          throw new ApiError(422, `agent ${a.agentId} is a ${a.kind} agent; avatar feeds are kept by avatar agents`, 'not-an-avatar-agent');
        if (!a.serves.includes(params.avatarId))
          throw new ApiError(403, `agent ${a.agentId} does not serve avatar ${params.avatarId}`, 'not-served');
        await guardAccess(ledger, caller, { resourceType: 'AVATAR', resourceId: params.avatarId, action: 'read', purpose: '*' });
        const f = await feeds.follow(a, params.avatarId);
        return {
          body: {
            agentId: a.agentId,
            avatarId: params.avatarId,
            since: f.since,
            readings: f.readings,
            anchoredBatches: f.anchored,
            ...(f.closed ? { closed: f.closed } : {}),
          },
        };
      },
    }),
  ];
}
