/**
 * R1 offline signing for autonomous things (A1, F4): the thing's controller obtains a Fabric CA
 * registration for the thing (role thing-agent, principal = the thing id), the thing enrols at
 * the CA itself, keeping its private key, and then transacts by signing the digests the gateway
 * prepares. See offline-service.ts for the four steps.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CertificatePem, Id } from 'mvsec-protocol/inputs';
import type { LedgerClient } from '../ledger/client.js';
import type { OfflineSigning } from './offline-service.js';
import { ApiError } from '../http/problem.js';
import { route, type AnyRoute } from '../http/routes.js';
import { guardAccess } from '../r4-access/guard.js';
import { ThingParams } from './schemas.js';

const TAG = 'R1 offline signing (autonomous things)';
const Base64 = z
  .string()
  .min(1)
  .max(1_000_000)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be standard base64');
const Identity = { mspId: Id, certificate: CertificatePem };
const Prepare = z.strictObject({
  ...Identity,
  fn: z.string().regex(/^[A-Za-z]{1,64}:[A-Za-z]{1,64}$/, 'must be contract:Function'),
  args: z.array(z.string().max(200_000)).max(32),
});
const SignedProposal = z.strictObject({ ...Identity, proposal: Base64, signature: Base64 });
const SignedTransaction = z.strictObject({ ...Identity, transaction: Base64, signature: Base64 });
const SignedCommit = z.strictObject({ ...Identity, commit: Base64, signature: Base64 });
const Unsigned = z.object({ txId: z.string(), bytes: z.string(), digest: z.string() });
const Enrolment = z.object({
  mspId: z.string(),
  enrollmentId: z.string(),
  enrollmentSecret: z.string(),
  caUrl: z.string(),
  caName: z.string(),
  caTlsCertificate: z.string(),
  role: z.literal('thing-agent'),
  principal: z.string(),
});
const STATUSES = [400, 403, 404, 409, 502, 503];

/** The CA identity name of a thing's own Fabric identity: stable and CA-safe. */
export const deviceIdentityName = (thingId: string) => `thing-${createHash('sha256').update(thingId).digest('hex').slice(0, 24)}`;

export function offlineRoutes(ledger: LedgerClient, offline: OfflineSigning | undefined): AnyRoute[] {
  const need = (): OfflineSigning => {
    if (!offline) throw new ApiError(503, 'offline signing needs the Fabric ledger; this gateway runs without one', 'fabric-unavailable');
    return offline;
  };
  return [
    route({
      method: 'post',
      path: '/r1/things/:thingId/fabric-identity',
      tag: TAG,
      summary: "Register an autonomous thing's own Fabric identity at its org's CA (controller); the thing enrols itself and keeps its key",
      description:
        'Asks the ledger first (the thing must be AUTONOMOUS and the caller must have write access: owner, thing agent or org admin). ' +
        "The identity's certificate carries role=thing-agent and principal=<thingId>: the chaincode lets an autonomous thing read and write its own data (F4); anything more needs a grant or agent listing like for any principal.",
      access: 'authenticated',
      params: ThingParams,
      response: Enrolment,
      successStatus: 201,
      statuses: STATUSES,
      handler: async ({ caller, params }) => {
        const o = need();
        const thing = await ledger.things.get(caller, params.thingId);
        if (thing.accessMode !== 'AUTONOMOUS')
          throw new ApiError(
            409,
            `thing ${thing.thingId} is ${thing.accessMode}: it signs through its IoT gateway, not with its own key`,
            'not-autonomous',
          );
        await guardAccess(ledger, caller, { resourceType: 'THING', resourceId: thing.thingId, action: 'write', purpose: '*' });
        const org = o.orgOf(thing.mspId);
        const name = deviceIdentityName(thing.thingId);
        const ca = await o.registerDevice(org, name, { role: 'thing-agent', principal: thing.thingId });
        return {
          body: {
            mspId: org.mspId,
            enrollmentId: name,
            enrollmentSecret: ca.secret,
            caUrl: ca.caUrl,
            caName: ca.caName,
            caTlsCertificate: ca.caTlsCertificate,
            role: 'thing-agent' as const,
            principal: thing.thingId,
          },
        };
      },
    }),
    route({
      method: 'post',
      path: '/r1/offline/proposals',
      tag: TAG,
      summary: 'Step 1: build an unsigned proposal for the certificate; sign `digest` with the thing key',
      access: 'public',
      body: Prepare,
      response: Unsigned,
      statuses: STATUSES,
      handler: async ({ body }) => ({ body: await need().prepare(body, body.fn, body.args) }),
    }),
    route({
      method: 'post',
      path: '/r1/offline/endorsements',
      tag: TAG,
      summary: "Step 2: endorse the signed proposal; answers the transaction to sign and the chaincode's result",
      access: 'public',
      body: SignedProposal,
      response: Unsigned.extend({ result: z.unknown() }),
      statuses: STATUSES,
      handler: async ({ body }) => ({ body: await need().endorse(body, body.proposal, body.signature) }),
    }),
    route({
      method: 'post',
      path: '/r1/offline/transactions',
      tag: TAG,
      summary: 'Step 3: send the signed transaction to the orderers; answers the commit-status request to sign',
      access: 'public',
      body: SignedTransaction,
      response: Unsigned,
      statuses: STATUSES,
      handler: async ({ body }) => ({ body: await need().submit(body, body.transaction, body.signature) }),
    }),
    route({
      method: 'post',
      path: '/r1/offline/commit-status',
      tag: TAG,
      summary: 'Step 4: wait for the commit with the signed status request; answers the validation code',
      access: 'public',
      body: SignedCommit,
      response: z.object({ txId: z.string(), successful: z.boolean(), code: z.string(), blockNumber: z.string() }),
      statuses: STATUSES,
      handler: async ({ body }) => ({ body: await need().status(body, body.commit, body.signature) }),
    }),
  ];
}
