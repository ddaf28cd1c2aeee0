/**
 * The live stream (R1, X1): `GET /r1/avatars/{avatarId}/stream` upgraded to a WebSocket (wss:// when
 * the gateway listens with TLS). The bearer token comes as the subprotocol pair
 * `Sec-WebSocket-Protocol: bearer, <token>` (the server answers `bearer`) or as `?access_token=`.
 * The caller must be allowed to read the avatar (CheckAccess on the ledger) and the thing's policy
 * must list the avatar's metaverse; otherwise the upgrade is answered with a problem+json 401/403/404.
 * Messages are JSON text frames (StreamMessage); the server never reads client frames.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request } from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Caller } from '../auth/principal.js';
import { ApiError } from '../http/problem.js';
import type { TelemetryService } from './service.js';

export const STREAM_PATH = /^\/r1\/avatars\/([^/]+)\/stream$/;

export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const protos = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const i = protos.findIndex((p) => p.toLowerCase() === 'bearer');
  if (i >= 0 && protos[i + 1]) return protos[i + 1];
  return url.searchParams.get('access_token') ?? undefined;
}

function refuse(socket: Duplex, e: ApiError): void {
  const p = JSON.stringify(e.toProblem());
  const head = [
    `HTTP/1.1 ${e.status} ${e.toProblem().title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(p)}`,
    'Connection: close',
    ...Object.entries(e.extra.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${p}`);
}

export interface StreamServer {
  close(): void;
}

/** Attach the stream to a listening server (HTTP or HTTPS). */
export function attachStream(
  server: Server,
  telemetry: TelemetryService,
  authenticate: (req: Request, required: boolean) => Promise<Caller | undefined>,
  log: (m: string) => void,
): StreamServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const m = STREAM_PATH.exec(url.pathname);
    if (!m) {
      refuse(socket, new ApiError(404, `no WebSocket endpoint at ${url.pathname}`, 'no-route'));
      return;
    }
    void (async () => {
      const avatarId = decodeURIComponent(m[1]);
      const token = tokenOf(req, url);
      const fake = { headers: token ? { authorization: `Bearer ${token}` } : {} } as unknown as Request;
      const caller = (await authenticate(fake, true))!;
      const avatar = await telemetry.admit(caller, avatarId);
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const unsubscribe = telemetry.subscribe({
          caller,
          avatar,
          checkedAt: Date.now(),
          send: (msg) => {
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
          },
          close: (code, reason) => ws.close(code, reason),
        });
        ws.on('close', unsubscribe);
        ws.on('error', unsubscribe);
        ws.send(JSON.stringify({ type: 'subscribed', avatarId, thingId: avatar.thingId, metaverseId: avatar.metaverseId }));
      });
    })().catch((e) => {
      if (e instanceof ApiError) refuse(socket, e);
      else {
        log(`telemetry: stream upgrade failed: ${(e as Error)?.stack ?? String(e)}`);
        refuse(socket, new ApiError(503, 'the stream could not be opened; see the gateway log', 'stream-unavailable'));
      }
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
