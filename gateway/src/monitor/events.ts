/**
 * The event stream (M1, M2): `GET /events` upgraded to a WebSocket delivers every committed
 * `mvsec.activity` chaincode event — who did what to which subject, in which transaction and block —
 * as it commits, read from the peers as the caller's own Fabric identity. `?startBlock=N` replays
 * from block N first (resume after a disconnect: the last block seen, duplicates are the client's
 * to drop by txId). Who may follow the trail is the chaincode's decision: the upgrade first asks
 * the ledger for an activity page as the caller (audit.query: auditor, monitor or admin) and
 * refuses with 403 and the contract's reason otherwise.
 */
import type { WebSocket } from 'ws';
import type { LedgerClient } from '../ledger/client.js';
import { ApiError } from '../http/problem.js';
import { route } from '../http/routes.js';
import { bearerSocketServer, callerOf, type Authenticate, type Endpoint } from '../http/websocket.js';

export const EVENTS_PATH = /^\/events$/;

export interface EventMessage {
  type: 'event';
  blockNumber: string;
  txId: string;
  name: string;
  /** The event payload, parsed when it is JSON (the activity record), else base64. */
  payload: unknown;
}

function parsePayload(p: Uint8Array): unknown {
  const text = Buffer.from(p).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return Buffer.from(p).toString('base64');
  }
}

export function eventStream(ledger: LedgerClient, authenticate: Authenticate, log: (m: string) => void): Endpoint {
  const wss = bearerSocketServer();
  return {
    path: EVENTS_PATH,
    async upgrade(req, socket, head, _m, url) {
      const caller = await callerOf(authenticate, req, url);
      const from = url.searchParams.get('startBlock');
      if (from !== null && !/^\d{1,18}$/.test(from)) throw new ApiError(400, 'startBlock must be a block number', 'validation');
      if (!ledger.events) throw new ApiError(503, 'this gateway has no event source', 'fabric-unavailable');
      // The chaincode decides who may read the activity trail (throws its DENIED reason as a 403).
      await ledger.audit.byTime(caller, new Date().toISOString().slice(0, 10), '1', '');
      const events = await ledger.events(caller, from === null ? undefined : BigInt(from));
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        let open = true;
        const stop = () => {
          open = false;
          events.close();
        };
        ws.on('close', stop);
        ws.on('error', stop);
        ws.send(JSON.stringify({ type: 'subscribed', startBlock: from ?? 'next' }));
        void (async () => {
          try {
            for await (const e of events) {
              if (!open) break;
              const msg: EventMessage = {
                type: 'event',
                blockNumber: String(e.blockNumber),
                txId: e.txId,
                name: e.name,
                payload: parsePayload(e.payload),
              };
              ws.send(JSON.stringify(msg));
            }
          } catch (err) {
            if (open) {
              log(`events: stream for ${caller.principal}@${caller.mspId} ended: ${(err as Error).message}`);
              ws.close(1011, 'the event source ended; reconnect with startBlock');
            }
          }
        })();
      });
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

const TAG = 'Events';

/** A plain GET of /events (no upgrade): 426 (upgrades are taken before express). */
export const eventsRoute = route({
  method: 'get',
  path: '/events',
  tag: TAG,
  summary: 'Committed activity events (WebSocket only)',
  access: 'public',
  statuses: [426],
  handler: async () => {
    throw new ApiError(426, 'this is a WebSocket endpoint: connect with Upgrade: websocket (docs/api.md, Events)', 'upgrade-required', {
      headers: { Upgrade: 'websocket' },
    });
  },
});

/** The WebSocket endpoint, described for the OpenAPI document. */
export const eventsOpenApi = {
  get: {
    tags: [TAG],
    summary: 'Every committed activity event, live (WebSocket upgrade)',
    description:
      'Upgrade to a WebSocket (wss:// with TLS). Bearer token as `Sec-WebSocket-Protocol: bearer, <token>` or `?access_token=<token>`. ' +
      'Only callers the chaincode lets read the audit trail (auditor, monitor, admin); others get 403 with its reason. ' +
      'JSON text frames: {type: "subscribed", startBlock}, then {type: "event", blockNumber, txId, name, payload} per committed transaction. ' +
      '`startBlock` replays from that block first.',
    security: [{ bearer: [] }],
    parameters: [
      { name: 'startBlock', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,18}$' } },
      { name: 'access_token', in: 'query', required: false, schema: { type: 'string' } },
    ],
    responses: {
      101: { description: 'Switching Protocols (WebSocket)' },
      400: { description: 'bad startBlock', content: { 'application/problem+json': {} } },
      401: { description: 'no or bad token', content: { 'application/problem+json': {} } },
      403: { description: "the ledger's reason", content: { 'application/problem+json': {} } },
      426: { description: 'not a WebSocket upgrade', content: { 'application/problem+json': {} } },
    },
  },
};
