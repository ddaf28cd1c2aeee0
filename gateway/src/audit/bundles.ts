/**
 * GET /audit/bundles/:subjectType/:subjectId — an evidence bundle (docs/auditor.md) exported by
 * the gateway on behalf of a signed-in account, as that account's own Fabric identity: the same
 * exporter as `mvsec export` (activity pages through the chaincode, which decides who may read;
 * blocks through qscc). The gateway adds nothing an auditor must trust: the bundle is verified
 * offline against the CA certificates the auditor chose (`mvsec verify`), and a gateway that
 * altered it would fail that check.
 */
import { z } from 'zod';
import { Id, Iso } from 'mvsec-protocol/inputs';
import { exportBundle } from 'mvsec-audit/export';
import { ApiError } from '../http/problem.js';
import { route, type AnyRoute } from '../http/routes.js';
import type { LedgerClient } from '../ledger/client.js';

const BundleParams = z.strictObject({ subjectType: Id, subjectId: Id });
const BundleQuery = z
  .strictObject({ from: Iso.optional(), to: Iso.optional(), fullBlocks: z.enum(['true', 'false']).optional() })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from is after to', path: ['from'] });

/** Mounted only on a ledger with `withGateway` (a real Fabric network). */
export function bundleRoutes(ledger: LedgerClient): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/audit/bundles/:subjectType/:subjectId',
      tag: 'Audit (M1, S1)',
      summary:
        "An evidence bundle of one subject (thing, avatar, transfer, data, job, …), exported as the caller's own Fabric identity; verify it offline with `mvsec verify` against CA certificates you obtained yourself (from/to ISO 8601, fullBlocks=true for completeness)",
      access: 'authenticated',
      params: BundleParams,
      query: BundleQuery,
      statuses: [400, 403, 404, 503],
      handler: async ({ caller, params, query }) => {
        const bundle = await ledger.raw.withGateway!(caller, 'evidence bundle', (gateway, where) =>
          exportBundle({
            gateway,
            ...where,
            subject: { type: params.subjectType, id: params.subjectId },
            ...(query.from ? { from: query.from } : {}),
            ...(query.to ? { to: query.to } : {}),
            fullBlocks: query.fullBlocks === 'true',
          }).catch((e: unknown) => {
            // the exporter's one refusal of its own: nothing to prove (the chaincode's refusals pass through as they are)
            if (/^no activity of /.test((e as Error).message)) return undefined;
            throw e;
          }),
        );
        if (!bundle) throw new ApiError(404, `no activity of ${params.subjectType} ${params.subjectId} in the range`, 'not-found');
        return { body: bundle };
      },
    }),
  ];
}
