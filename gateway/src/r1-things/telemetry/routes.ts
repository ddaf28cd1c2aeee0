/**
 * R1 telemetry routes (F4, C2, C3; docs/telemetry.md):
 *
 *  POST /r1/things/:thingId/readings            signed readings in (JSON or CBOR): 202, all or none
 *  GET  /r1/things/:thingId/readings/:seq/proof  the reading's Merkle inclusion proof and anchoring tx
 *  GET  /r1/avatars/:avatarId/stream             WebSocket live stream (attached to the server, see telemetry/stream.ts)
 */
import { z } from 'zod';
import { ApiError } from '../../http/problem.js';
import { route, type AnyRoute } from '../../http/routes.js';
import { Id, Iso, Sha256 } from 'mvsec-protocol/inputs';
import type { JsonValue } from 'mvsec-protocol';
import type { TelemetryService } from './service.js';

const TAG = 'R1 telemetry';

const Scalar = z.union([z.number(), z.string().max(256), z.boolean(), z.null()]);
// Arrays first: a union builds an issue for every option that fails, and vectors are the common readings.
const Value: z.ZodType<JsonValue> = z.union([
  z.array(Scalar).max(64),
  Scalar,
  z.record(z.string().max(64), Scalar),
]) as z.ZodType<JsonValue>;

const Signature = z
  .string()
  .min(16)
  .max(200)
  .regex(/^[A-Za-z0-9+/_-]+=*$/, 'must be base64 or base64url');

export const Reading = z.strictObject({
  seq: z
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .describe('per-thing sequence number; must exceed every seq already accepted for the thing'),
  time: Iso.describe('when the reading was taken (ISO-8601)'),
  sensor: Id.max(64).describe('which sensor of the thing'),
  value: Value.describe('a number, string, boolean, a short array of them, or a flat object of them'),
  signature: Signature.describe(
    'ECDSA P-256/SHA-256 over the canonical reading (sorted-key JSON of {thingId, seq, time, sensor, value}); 64-byte r‖s or DER. Leave out when the request carries setSignature.',
  ).optional(),
});
export const Readings = z.strictObject({
  readings: z.array(Reading).min(1).max(2000),
  setSignature: Signature.describe(
    'One signature for all readings of the request instead of one each: ECDSA P-256/SHA-256 over ' +
      '{"leafCount":N,"merkleRoot":"<hex>","thingId":"<id>","type":"mvsec.reading-set.v1"} (sorted keys, no whitespace), ' +
      "merkleRoot over the readings' leaves (SHA-256 of each canonical reading) in request order — docs/telemetry.md",
  ).optional(),
});
export const ReadingsAccepted = z.object({
  thingId: z.string(),
  accepted: z.number(),
  firstSeq: z.number(),
  lastSeq: z.number(),
  signer: z.string(),
});
const ProofParams = z.strictObject({ thingId: Id, seq: z.string().regex(/^\d{1,16}$/, 'must be a decimal sequence number') });
const ProofStep = z.object({ position: z.enum(['L', 'R']), sha256: Sha256 });
export const ReadingProof = z.object({
  thingId: z.string(),
  seq: z.number(),
  batchId: z.string(),
  leaf: Sha256.describe('SHA-256 of the canonical reading'),
  proof: z.array(ProofStep).describe('siblings from the leaf up, as data:VerifyInclusion takes them'),
  merkleRoot: Sha256,
  txId: z.string(),
  leafCount: z.number(),
  anchoredAt: z
    .string()
    .optional()
    .describe('when the gateway saw the batch committed (absent for batches anchored before this was recorded)'),
  keptUntil: z
    .string()
    .optional()
    .describe("anchoredAt plus the thing's policy.retentionDays: after it the gateway removes the batch and this proof answers 410"),
  reading: z.object({
    seq: z.number(),
    time: z.string(),
    sensor: z.string(),
    value: z.unknown(),
    signature: z.string().optional().describe('its own signature, when it was signed alone'),
    set: z.object({ root: Sha256, index: z.number() }).optional().describe('its place in a signed set'),
  }),
  set: z
    .object({
      merkleRoot: Sha256,
      leafCount: z.number(),
      index: z.number(),
      proof: z.array(ProofStep).describe("from the reading's leaf up to the set's merkleRoot"),
      signature: z.string(),
      signedText: z.string().describe('the exact text the signature covers'),
    })
    .optional()
    .describe('for a reading signed as part of a set: what proves its signature'),
});

export function telemetryRoutes(telemetry: TelemetryService): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/r1/things/:thingId/readings',
      tag: TAG,
      summary: 'Submit signed readings of a thing (batched and anchored with data:AnchorBatch)',
      description:
        'Each reading — or the whole request, with setSignature — is signed by the thing (AUTONOMOUS: its publicKey on the ledger) or by its IoT gateway (GATEWAY: the publicKey of the thing registered as gatewayId). ' +
        "All readings of a request are accepted or none: 403 when the thing is not ACTIVE or the caller may not write it (the contract's reason), " +
        '409 on a replay (seq not above the highest accepted), 422 when a signature does not verify. Accepted readings go to the live stream at once and are anchored in batches.',
      access: 'authenticated',
      params: z.strictObject({ thingId: Id }),
      body: Readings,
      response: ReadingsAccepted,
      successStatus: 202,
      statuses: [403, 404, 409, 422, 503],
      handler: async ({ caller, params, body }) => ({
        body: await telemetry.ingest(caller, params.thingId, body.readings, body.setSignature),
      }),
    }),
    route({
      method: 'get',
      path: '/r1/things/:thingId/readings/:seq/proof',
      tag: TAG,
      summary: "A reading's Merkle inclusion proof against its anchored batch",
      description:
        "Needs read on the thing (CheckAccess). 409 with Retry-After while the batch is not anchored yet; 410 once the batch passed the thing's retention (policy.retentionDays) and was removed.",
      access: 'authenticated',
      params: ProofParams,
      response: ReadingProof,
      statuses: [403, 404, 409, 410, 503],
      handler: async ({ caller, params }) => ({ body: await telemetry.proof(caller, params.thingId, Number(params.seq)) }),
    }),
    // A plain GET of the stream (no WebSocket upgrade; upgrades are taken by telemetry/stream.ts before express).
    route({
      method: 'get',
      path: '/r1/avatars/:avatarId/stream',
      tag: TAG,
      summary: 'Live stream (WebSocket only)',
      access: 'public',
      params: z.strictObject({ avatarId: Id }),
      statuses: [426],
      handler: async () => {
        throw new ApiError(426, 'this is a WebSocket endpoint: connect with Upgrade: websocket (docs/telemetry.md)', 'upgrade-required', {
          headers: { Upgrade: 'websocket' },
        });
      },
    }),
  ];
}

/** The WebSocket endpoint, described for the OpenAPI document (it is not an express route). */
export const streamOpenApi = {
  get: {
    tags: [TAG],
    summary: "Live stream of the avatar's thing's readings (WebSocket upgrade)",
    description:
      'Upgrade to a WebSocket (wss:// with TLS). Bearer token as `Sec-WebSocket-Protocol: bearer, <token>` or `?access_token=<token>`. ' +
      "The caller must be allowed to read the avatar (CheckAccess) and the thing's policy must list the avatar's metaverse. " +
      'JSON text frames: {type: "subscribed"}, {type: "readings", readings: [{seq, time, sensor, value, signature | set: {root, index}}], set?: {merkleRoot, leafCount, signature}} (set: the request was signed as one set), ' +
      '{type: "anchored", batchId, merkleRoot, txId, firstSeq, lastSeq}, {type: "closed", reason} (then close code 4403: the policy no longer allows the metaverse, the avatar is gone or the thing revoked). ' +
      "Nothing is sent while the thing or avatar is suspended or outside the policy's transmit window.",
    security: [{ bearer: [] }],
    parameters: [
      { name: 'avatarId', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'access_token', in: 'query', required: false, schema: { type: 'string' } },
    ],
    responses: {
      101: { description: 'Switching Protocols (WebSocket)' },
      401: { description: 'no or bad token', content: { 'application/problem+json': {} } },
      403: { description: "the ledger's reason", content: { 'application/problem+json': {} } },
      404: { description: 'no such avatar', content: { 'application/problem+json': {} } },
    },
  },
};
