/**
 * /monitor routes: the alerts on the ledger (paged, as the caller's own identity: the chaincode
 * decides again) and the live stream of alerts as Server-Sent Events. Roles monitor, auditor, admin.
 */
import { z } from 'zod';
import { requireRole } from '../auth/authenticate.js';
import { LedgerClient } from '../ledger/client.js';
import type { Ledger } from '../ledger/ledger.js';
import { ApiError } from '../http/problem.js';
import { route, type AnyRoute } from '../http/routes.js';
import { ALERT_SUBJECTS } from 'mvsec-protocol';
import { Id } from 'mvsec-protocol/inputs';
import type { Monitor } from './monitor.js';

export const MONITOR_ROLES = ['monitor', 'auditor', 'admin'] as const;
const TAG = 'Monitoring (M2)';

const ListQuery = z.strictObject({
  subjectType: z.enum(ALERT_SUBJECTS).optional(),
  subjectId: Id.optional(),
  pageSize: z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/, 'a decimal page size 1-200')
    .default('50'),
  bookmark: z.string().max(4096).default(''),
});

export function monitorRoutes(monitor: Monitor, ledger: Ledger, heartbeatMs = 15_000): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/monitor/alerts',
      tag: TAG,
      summary: 'Alerts on the ledger: open alerts, or every alert of one subject (subjectType + subjectId); paged',
      access: 'authenticated',
      query: ListQuery,
      statuses: [400, 403],
      handler: async ({ caller, query }) => {
        requireRole(caller, MONITOR_ROLES, 'reading alerts');
        if (!!query.subjectType !== !!query.subjectId) {
          throw new ApiError(400, 'give both subjectType and subjectId, or neither', 'validation');
        }
        const alerts = LedgerClient.of(ledger).alerts;
        const body = query.subjectType
          ? await alerts.ofSubject(caller, query.subjectType, query.subjectId!, query.pageSize, query.bookmark)
          : await alerts.open(caller, query.pageSize, query.bookmark);
        return { body };
      },
    }),
    route({
      method: 'get',
      path: '/monitor/alerts/stream',
      tag: TAG,
      summary: 'Live alerts as Server-Sent Events (text/event-stream): one `alert` event per alert the monitor raises',
      access: 'authenticated',
      statuses: [403],
      handler: async ({ req, res, caller }) => {
        requireRole(caller, MONITOR_ROLES, 'the alert stream');
        res.status(200);
        res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Connection', 'keep-alive');
        res.setHeader('X-Accel-Buffering', 'no');
        res.flushHeaders();
        res.write(`retry: 3000\n: mvsec monitor alerts for ${caller.principal}@${caller.mspId}\n\n`);
        const unsubscribe = monitor.subscribe((a) => {
          const { record: _record, ...rest } = a;
          res.write(`event: alert\nid: ${a.alertId}\ndata: ${JSON.stringify(rest)}\n\n`);
        });
        const beat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
        beat.unref();
        req.on('close', () => {
          clearInterval(beat);
          unsubscribe();
        });
        return {};
      },
    }),
    route({
      method: 'get',
      path: '/monitor/status',
      tag: TAG,
      summary: "The monitor's progress: events processed, last block, its identity, live subscribers",
      access: 'authenticated',
      statuses: [403],
      handler: async ({ caller }) => {
        requireRole(caller, MONITOR_ROLES, 'the monitor status');
        return {
          body: {
            processed: monitor.processed,
            identity: { mspId: monitor.identity.mspId, principal: monitor.identity.principal, role: monitor.identity.role },
            subscribers: monitor.subscriberCount,
            running: !monitor.failure,
            ...(monitor.failure ? { failure: monitor.failure.message } : {}),
          },
        };
      },
    }),
  ];
}
