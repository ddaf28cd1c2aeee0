/**
 * WebSocket endpoints share one HTTP `upgrade` listener: each endpoint matches its path and
 * handles the upgrade; anything else is refused with a problem+json 404. The bearer token comes as
 * the subprotocol pair `Sec-WebSocket-Protocol: bearer, <token>` (the server answers `bearer`) or
 * as `?access_token=`; refusals are answered as HTTP problems before the upgrade.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request } from 'express';
import { WebSocketServer } from 'ws';
import type { Caller } from '../auth/principal.js';
import { ledgerProblem } from './ledger-errors.js';
import { ApiError } from './problem.js';

export type Authenticate = (req: Request, required: boolean) => Promise<Caller | undefined>;

export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const protos = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const i = protos.findIndex((p) => p.toLowerCase() === 'bearer');
  if (i >= 0 && protos[i + 1]) return protos[i + 1];
  return url.searchParams.get('access_token') ?? undefined;
}

/** The caller of an upgrade request, through the same authenticator as the HTTP routes. */
export async function callerOf(authenticate: Authenticate, req: IncomingMessage, url: URL): Promise<Caller> {
  const token = tokenOf(req, url);
  const fake = { headers: token ? { authorization: `Bearer ${token}` } : {} } as unknown as Request;
  return (await authenticate(fake, true))!;
}

export function refuse(socket: Duplex, e: ApiError): void {
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

/** A WebSocket server for `bearer` subprotocol clients; the server never reads client frames. */
export const bearerSocketServer = () =>
  new WebSocketServer({ noServer: true, maxPayload: 4096, handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false) });

export interface Endpoint {
  path: RegExp;
  /** Handle the upgrade; refuse (with an ApiError thrown or `refuse`) when the caller may not. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, match: RegExpExecArray, url: URL): Promise<void>;
  close(): void;
}

export interface Endpoints {
  close(): void;
}

export function attachEndpoints(server: Server, endpoints: Endpoint[], log: (m: string) => void): Endpoints {
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    for (const e of endpoints) {
      const m = e.path.exec(url.pathname);
      if (!m) continue;
      e.upgrade(req, socket, head, m, url).catch((err: unknown) => {
        const problem = err instanceof ApiError ? err : ledgerProblem(err);
        if (problem) refuse(socket, problem);
        else {
          log(`websocket: upgrade of ${url.pathname} failed: ${(err as Error)?.stack ?? String(err)}`);
          refuse(socket, new ApiError(503, 'the stream could not be opened; see the gateway log', 'stream-unavailable'));
        }
      });
      return;
    }
    refuse(socket, new ApiError(404, `no WebSocket endpoint at ${url.pathname}`, 'no-route'));
  };
  server.on('upgrade', onUpgrade);
  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const e of endpoints) e.close();
    },
  };
}
