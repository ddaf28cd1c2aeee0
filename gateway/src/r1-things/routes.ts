/**
 * Routes by reference point, each calling the chaincode as the caller's own Fabric identity:
 * /r5 platforms and federation, /r1 things and avatars, /r4 grants and access, /r3 transfers.
 * Data movements ask the ledger first (CheckAccess, the transfer's state) and refuse with 403
 * and the contract's reason.
 */
import type { Caller } from '../auth/principal.js';
import type { Ledger } from '../ledger/ledger.js';
import { ApiError, deniedByLedger } from '../http/problem.js';
import { route, type AnyRoute } from '../http/routes.js';
import { journalEndorsed } from '../http/idempotency.js';
import * as S from '../http/schemas.js';

const json = (v: unknown) => JSON.stringify(v);
const READ_STATUSES = [403, 404];
const WRITE_STATUSES = [400, 403, 404, 409, 410, 422, 503];

interface AccessDecision {
  allowed: boolean;
  reason: string;
  grantId?: string;
}

/** The data-movement guard: the ledger's CheckAccess for the caller, refusing with its reason. */
export async function guardAccess(
  ledger: Ledger,
  caller: Caller,
  resourceType: string,
  resourceId: string,
  action: string,
  purpose: string,
): Promise<AccessDecision> {
  const d = (await ledger.evaluate(caller, 'access:CheckAccess', [resourceType, resourceId, action, purpose])) as AccessDecision;
  if (!d || typeof d.allowed !== 'boolean') throw new ApiError(502, 'CheckAccess gave no decision', 'bad-ledger-answer');
  if (!d.allowed) throw deniedByLedger(d.reason);
  return d;
}

interface TransferRecord {
  transferId: string;
  dataId: string;
  status: string;
  sourceMspId: string;
  targetMspId: string;
  dataSha256: string;
  expiresAt: string;
}

/** The transfer guard (R3, X3): only a CONSENTED, unexpired transfer bound to this fingerprint may execute. */
export async function guardExecution(
  ledger: Ledger,
  caller: Caller,
  transferId: string,
  dataSha256: string,
  now: () => number,
): Promise<TransferRecord> {
  const t = (await ledger.evaluate(caller, 'transfer:GetTransfer', [transferId])) as TransferRecord;
  if (t.status !== 'CONSENTED') {
    throw deniedByLedger(
      `transfer ${t.transferId} is ${t.status}; only a CONSENTED transfer (approved by both metaverses and the owner) may be executed`,
    );
  }
  if (Date.parse(t.expiresAt) <= now()) throw deniedByLedger(`transfer ${t.transferId} expired at ${t.expiresAt}`);
  if (t.dataSha256 !== dataSha256)
    throw deniedByLedger(`transfer ${t.transferId} is bound to data fingerprint ${t.dataSha256}, not ${dataSha256}`);
  return t;
}

export function ledgerRoutes(ledger: Ledger, now: () => number): AnyRoute[] {
  const submit = async (caller: Caller, fn: string, args: string[], options?: Parameters<Ledger['submit']>[3]) => {
    // The reply is the submission itself: journal it once endorsed (durable idempotency across a crash).
    const r = await ledger.submit(caller, fn, args, { ...options, onEndorsed: (txId, result) => journalEndorsed(txId, { txId, result }) });
    return { txId: r.txId, result: r.result };
  };
  const read = (caller: Caller, fn: string, args: string[]) => ledger.evaluate(caller, fn, args);

  return [
    // ---------------------------------------------------------------- R5 platforms, federation
    route({
      method: 'post',
      path: '/r5/platforms',
      tag: 'R5 platforms and federation',
      summary: "Register a platform of the caller's MSP (admin)",
      access: 'authenticated',
      body: S.RegisterPlatform,
      response: S.Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await submit(caller, 'platform:RegisterPlatform', [json(body)]) }),
    }),
    route({
      method: 'get',
      path: '/r5/platforms/:platformId',
      tag: 'R5 platforms and federation',
      summary: 'Read a platform',
      access: 'authenticated',
      params: S.PlatformParams,
      response: S.LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await read(caller, 'platform:GetPlatform', [params.platformId]) }),
    }),
    route({
      method: 'patch',
      path: '/r5/platforms/:platformId',
      tag: 'R5 platforms and federation',
      summary: 'Update a platform (admin of its MSP)',
      access: 'authenticated',
      params: S.PlatformParams,
      body: S.UpdatePlatform,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await submit(caller, 'platform:UpdatePlatform', [params.platformId, json(body)]),
      }),
    }),
    route({
      method: 'post',
      path: '/r5/platforms/:platformId/suspend',
      tag: 'R5 platforms and federation',
      summary: 'Suspend a platform',
      access: 'authenticated',
      params: S.PlatformParams,
      body: S.Reason,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await submit(caller, 'platform:SuspendPlatform', [params.platformId, body.reason]),
      }),
    }),
    route({
      method: 'post',
      path: '/r5/platforms/:platformId/resume',
      tag: 'R5 platforms and federation',
      summary: 'Resume a platform',
      access: 'authenticated',
      params: S.PlatformParams,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await submit(caller, 'platform:ResumePlatform', [params.platformId]) }),
    }),
    route({
      method: 'post',
      path: '/r5/federations',
      tag: 'R5 platforms and federation',
      summary: 'Propose a federation between two metaverses (admin of the proposer)',
      access: 'authenticated',
      body: S.ProposeFederation,
      response: S.Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({
        body: await submit(caller, 'platform:ProposeFederation', [body.platformId, body.peerPlatformId, body.terms]),
      }),
    }),
    route({
      method: 'get',
      path: '/r5/federations/:platformId/:peerPlatformId',
      tag: 'R5 platforms and federation',
      summary: 'Read a federation',
      access: 'authenticated',
      params: S.FederationParams,
      response: S.LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({
        body: await read(caller, 'platform:GetFederation', [params.platformId, params.peerPlatformId]),
      }),
    }),
    route({
      method: 'post',
      path: '/r5/federations/:platformId/:peerPlatformId/accept',
      tag: 'R5 platforms and federation',
      summary: 'Accept a federation (admin of platformId, the side that did not propose); endorsed by both metaverse organisations',
      access: 'authenticated',
      params: S.FederationParams,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => {
        // The federation key carries a key-level policy naming both MSPs: endorse with both.
        const peer = (await read(caller, 'platform:GetPlatform', [params.peerPlatformId])) as { mspId?: string };
        const orgs = [...new Set([caller.mspId, peer.mspId].filter((x): x is string => typeof x === 'string'))];
        return {
          body: await submit(
            caller,
            'platform:AcceptFederation',
            [params.platformId, params.peerPlatformId],
            orgs.length === 2 ? { endorsingOrganizations: orgs } : {},
          ),
        };
      },
    }),
    route({
      method: 'post',
      path: '/r5/federations/:platformId/:peerPlatformId/revoke',
      tag: 'R5 platforms and federation',
      summary: 'Revoke a federation (admin of either side)',
      access: 'authenticated',
      params: S.FederationParams,
      body: S.Reason,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await submit(caller, 'platform:RevokeFederation', [params.platformId, params.peerPlatformId, body.reason]),
      }),
    }),

    // ---------------------------------------------------------------- R1 things, avatars
    route({
      method: 'post',
      path: '/r1/things',
      tag: 'R1 things and avatars',
      summary: 'Register a thing',
      access: 'authenticated',
      body: S.RegisterThing,
      response: S.Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await submit(caller, 'thing:RegisterThing', [json(body)]) }),
    }),
    route({
      method: 'get',
      path: '/r1/things/:thingId',
      tag: 'R1 things and avatars',
      summary: 'Read a thing',
      access: 'authenticated',
      params: S.ThingParams,
      response: S.LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await read(caller, 'thing:GetThing', [params.thingId]) }),
    }),
    route({
      method: 'put',
      path: '/r1/things/:thingId/policy',
      tag: 'R1 things and avatars',
      summary: "Set the thing's data-flow policy (controller)",
      access: 'authenticated',
      params: S.ThingParams,
      body: S.DataFlowPolicy,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await submit(caller, 'thing:SetThingPolicy', [params.thingId, json(body)]) }),
    }),
    route({
      method: 'put',
      path: '/r1/things/:thingId/agents',
      tag: 'R1 things and avatars',
      summary: "Set the thing's agents (controller)",
      access: 'authenticated',
      params: S.ThingParams,
      body: S.Agents,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await submit(caller, 'thing:SetThingAgents', [params.thingId, json(body.agents)]),
      }),
    }),
    route({
      method: 'post',
      path: '/r1/things/:thingId/suspend',
      tag: 'R1 things and avatars',
      summary: 'Suspend a thing (controller)',
      access: 'authenticated',
      params: S.ThingParams,
      body: S.Reason,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await submit(caller, 'thing:SuspendThing', [params.thingId, body.reason]) }),
    }),
    route({
      method: 'post',
      path: '/r1/things/:thingId/resume',
      tag: 'R1 things and avatars',
      summary: 'Resume a thing (admin of its MSP)',
      access: 'authenticated',
      params: S.ThingParams,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await submit(caller, 'thing:ResumeThing', [params.thingId]) }),
    }),
    route({
      method: 'post',
      path: '/r1/things/:thingId/revoke',
      tag: 'R1 things and avatars',
      summary: 'Revoke a thing (owner or admin; final)',
      access: 'authenticated',
      params: S.ThingParams,
      body: S.Reason,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await submit(caller, 'thing:RevokeThing', [params.thingId, body.reason]) }),
    }),
    route({
      method: 'get',
      path: '/r1/things/:thingId/avatars',
      tag: 'R1 things and avatars',
      summary: 'Avatars of a thing (optionally in one metaverse)',
      access: 'authenticated',
      params: S.ThingParams,
      query: S.AvatarsOfThingQuery,
      statuses: READ_STATUSES,
      handler: async ({ caller, params, query }) => ({
        body: await read(caller, 'avatar:ListAvatarsOfThing', [params.thingId, query.metaverseId ?? '']),
      }),
    }),
    route({
      method: 'post',
      path: '/r1/avatars',
      tag: 'R1 things and avatars',
      summary: 'Map a thing to an avatar in a metaverse',
      access: 'authenticated',
      body: S.MapAvatar,
      response: S.Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await submit(caller, 'avatar:MapAvatar', [json(body)]) }),
    }),
    route({
      method: 'get',
      path: '/r1/avatars/:avatarId',
      tag: 'R1 things and avatars',
      summary: 'Read an avatar',
      access: 'authenticated',
      params: S.AvatarParams,
      response: S.LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await read(caller, 'avatar:GetAvatar', [params.avatarId]) }),
    }),
    route({
      method: 'put',
      path: '/r1/avatars/:avatarId/agents',
      tag: 'R1 things and avatars',
      summary: "Set an avatar's agents (controller)",
      access: 'authenticated',
      params: S.AvatarParams,
      body: S.Agents,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await submit(caller, 'avatar:SetAvatarAgents', [params.avatarId, json(body.agents)]),
      }),
    }),
    ...(['unmap', 'suspend'] as const).map((op) =>
      route({
        method: 'post',
        path: `/r1/avatars/:avatarId/${op}`,
        tag: 'R1 things and avatars',
        summary: `${op === 'unmap' ? 'Unmap' : 'Suspend'} an avatar (controller)`,
        access: 'authenticated',
        params: S.AvatarParams,
        body: S.Reason,
        response: S.Committed,
        statuses: WRITE_STATUSES,
        idempotent: true,
        handler: async ({ caller, params, body }) => ({
          body: await submit(caller, op === 'unmap' ? 'avatar:UnmapAvatar' : 'avatar:SuspendAvatar', [params.avatarId, body.reason]),
        }),
      }),
    ),
    route({
      method: 'post',
      path: '/r1/avatars/:avatarId/resume',
      tag: 'R1 things and avatars',
      summary: 'Resume an avatar (admin of its metaverse MSP)',
      access: 'authenticated',
      params: S.AvatarParams,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await submit(caller, 'avatar:ResumeAvatar', [params.avatarId]) }),
    }),

    // ---------------------------------------------------------------- R4 grants, access
    route({
      method: 'post',
      path: '/r4/grants',
      tag: 'R4 external entities: grants and access',
      summary: 'Grant a principal, an MSP or a role actions on a thing, avatar or data',
      access: 'authenticated',
      body: S.CreateGrant,
      response: S.Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => ({ body: await submit(caller, 'access:CreateGrant', [json(body)]) }),
    }),
    route({
      method: 'get',
      path: '/r4/grants/:grantId',
      tag: 'R4 external entities: grants and access',
      summary: 'Read a grant (grantor, grantee, controller, auditor, monitor)',
      access: 'authenticated',
      params: S.GrantParams,
      response: S.LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await read(caller, 'access:GetGrant', [params.grantId]) }),
    }),
    route({
      method: 'post',
      path: '/r4/grants/:grantId/revoke',
      tag: 'R4 external entities: grants and access',
      summary: 'Revoke a grant',
      access: 'authenticated',
      params: S.GrantParams,
      body: S.Reason,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({ body: await submit(caller, 'access:RevokeGrant', [params.grantId, body.reason]) }),
    }),
    route({
      method: 'post',
      path: '/r4/access-checks',
      tag: 'R4 external entities: grants and access',
      summary: 'Ask the ledger whether the caller may perform an action (always 200 with the decision)',
      access: 'authenticated',
      body: S.AccessCheck,
      response: S.AccessDecision,
      statuses: [400, 404],
      handler: async ({ caller, body }) => ({
        body: await read(caller, 'access:CheckAccess', [body.resourceType, body.resourceId, body.action, body.purpose]),
      }),
    }),
    route({
      method: 'post',
      path: '/r4/access',
      tag: 'R4 external entities: grants and access',
      summary:
        "Reach a resource: the guard evaluates CheckAccess and refuses with 403 and the contract's reason; on success returns the decision naming the grant",
      access: 'authenticated',
      body: S.AccessCheck,
      response: S.AccessDecision,
      statuses: [400, 403, 404],
      handler: async ({ caller, body }) => ({
        body: await guardAccess(ledger, caller, body.resourceType, body.resourceId, body.action, body.purpose),
      }),
    }),

    // ---------------------------------------------------------------- R3 transfers
    route({
      method: 'post',
      path: '/r3/transfers',
      tag: 'R3 cross-metaverse transfers',
      summary: "Request a transfer; the guard first checks the caller's share access on the data for the purpose",
      access: 'authenticated',
      body: S.RequestTransfer,
      response: S.Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, body }) => {
        await guardAccess(ledger, caller, 'DATA', body.dataId, 'share', body.purpose);
        return { body: await submit(caller, 'transfer:RequestTransfer', [json(body)]) };
      },
    }),
    route({
      method: 'get',
      path: '/r3/transfers/:transferId',
      tag: 'R3 cross-metaverse transfers',
      summary: 'Read a transfer',
      access: 'authenticated',
      params: S.TransferParams,
      response: S.LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller, params }) => ({ body: await read(caller, 'transfer:GetTransfer', [params.transferId]) }),
    }),
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/approve',
      tag: 'R3 cross-metaverse transfers',
      summary: 'Approve as the source or the target metaverse (admin of that MSP)',
      access: 'authenticated',
      params: S.TransferParams,
      body: S.ApproveTransfer,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => ({
        body: await submit(caller, body.side === 'source' ? 'transfer:ApproveTransferAsSource' : 'transfer:ApproveTransferAsTarget', [
          params.transferId,
        ]),
      }),
    }),
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/consent',
      tag: 'R3 cross-metaverse transfers',
      summary: "Consent as the thing's owner",
      access: 'authenticated',
      params: S.TransferParams,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params }) => ({ body: await submit(caller, 'transfer:ConsentTransfer', [params.transferId]) }),
    }),
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/execute',
      tag: 'R3 cross-metaverse transfers',
      summary:
        "Execute a consented transfer; the guard refuses (403, the transfer's state) unless it is CONSENTED, unexpired and the hash is the bound one",
      access: 'authenticated',
      params: S.TransferParams,
      body: S.ExecuteTransfer,
      response: S.Committed,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller, params, body }) => {
        await guardExecution(ledger, caller, params.transferId, body.dataSha256, now);
        return { body: await submit(caller, 'transfer:ExecuteTransfer', [params.transferId, body.dataSha256]) };
      },
    }),
    ...(['reject', 'revoke'] as const).map((op) =>
      route({
        method: 'post',
        path: `/r3/transfers/:transferId/${op}`,
        tag: 'R3 cross-metaverse transfers',
        summary:
          op === 'reject' ? 'Reject a transfer (admin of source or target MSP, or the owner)' : 'Revoke a transfer (requester or owner)',
        access: 'authenticated',
        params: S.TransferParams,
        body: S.Reason,
        response: S.Committed,
        statuses: WRITE_STATUSES,
        idempotent: true,
        handler: async ({ caller, params, body }) => ({
          body: await submit(caller, op === 'reject' ? 'transfer:RejectTransfer' : 'transfer:RevokeTransfer', [
            params.transferId,
            body.reason,
          ]),
        }),
      }),
    ),
  ];
}
