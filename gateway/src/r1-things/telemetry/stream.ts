/**
 * The live stream (R1, X1): `GET /r1/avatars/{avatarId}/stream` upgraded to a WebSocket (wss:// when
 * the gateway listens with TLS); authentication as for every WebSocket endpoint (http/websocket.ts).
 * The caller must be allowed to read the avatar (CheckAccess on the ledger) and the thing's policy
 * must list the avatar's metaverse; otherwise the upgrade is answered with a problem+json 401/403/404.
 * Messages are JSON text frames (StreamMessage); the server never reads client frames.
 */
import type { WebSocket } from 'ws';
import { bearerSocketServer, callerOf, type Authenticate, type Endpoint } from '../../http/websocket.js';
import type { TelemetryService } from './service.js';

export const STREAM_PATH = /^\/r1\/avatars\/([^/]+)\/stream$/;

export function avatarStream(telemetry: TelemetryService, authenticate: Authenticate): Endpoint {
  const wss = bearerSocketServer();
  return {
    path: STREAM_PATH,
    async upgrade(req, socket, head, m, url) {
      const avatarId = decodeURIComponent(m[1]);
      const caller = await callerOf(authenticate, req, url);
      const avatar = await telemetry.admit(caller, avatarId);
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const unsubscribe = telemetry.subscribe({
          caller,
          avatar,
          send: (msg) => {
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
          },
          close: (code, reason) => ws.close(code, reason),
        });
        ws.on('close', unsubscribe);
        ws.on('error', unsubscribe);
        ws.send(JSON.stringify({ type: 'subscribed', avatarId, thingId: avatar.thingId, metaverseId: avatar.metaverseId }));
      });
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
