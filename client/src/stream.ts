/**
 * The gateway's WebSocket streams: the live readings of an avatar (`/r1/avatars/{avatarId}/stream`,
 * R1, X1) and the committed activity events (`/events`, M1). The bearer token goes as the
 * subprotocol pair `bearer, <token>`; a refused upgrade is answered with an HTTP problem, which
 * opening rejects with as an `ApiProblem`. Messages are JSON text frames; the server reads none.
 */
import WebSocket from 'ws';
import type { AvatarStreamMessage } from 'mvsec-protocol';
import { problemOf } from './problem.js';

export type { AvatarStreamMessage, StreamReading } from 'mvsec-protocol';

/** What an `/events` subscriber receives. */
export type EventStreamMessage =
  | { type: 'subscribed'; startBlock: string }
  | {
      type: 'event';
      blockNumber: string;
      txId: string;
      name: string;
      /** The chaincode event's payload: the activity record when it is JSON, else base64. */
      payload: unknown;
    };

/** Why a stream's socket closed. */
export interface StreamClose {
  code: number;
  reason: string;
}

/** An open stream. Messages that arrive while no handler is set wait for the first one. */
export interface Stream<M> {
  /** Add a handler for every message from now on (and the ones waiting). */
  onMessage(handler: (message: M) => void): void;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<StreamClose>;
  /** Close the socket (normal closure). */
  close(): void;
}

/** ws://… or wss://… of the gateway's `http(s)://…` base URL. */
export const socketUrl = (baseUrl: string, path: string): string => baseUrl.replace(/\/+$/, '').replace(/^http/i, 'ws') + path;

/**
 * Open the WebSocket endpoint at `path` as the account of `token`. Rejects with the gateway's
 * `ApiProblem` when the upgrade is refused (401, 403, 404…), or with the socket's error.
 */
export function openStream<M>(baseUrl: string, path: string, token: string, onMessage?: (message: M) => void): Promise<Stream<M>> {
  const ws = new WebSocket(socketUrl(baseUrl, path), ['bearer', token]);
  const handlers: ((m: M) => void)[] = onMessage ? [onMessage] : [];
  const waiting: M[] = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse(data.toString()) as M;
    if (handlers.length === 0) waiting.push(m);
    else for (const h of handlers) h(m);
  });
  const closed = new Promise<StreamClose>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const stream: Stream<M> = {
    onMessage(h) {
      handlers.push(h);
      for (const m of waiting.splice(0)) for (const x of handlers) x(m);
    },
    closed,
    close: () => ws.close(1000),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(stream));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not a problem document: keep the text
        }
        const status = res.statusCode ?? 0;
        reject(problemOf(status, body, `stream ${path}`));
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}

/** The live readings of `avatarId` (the caller must be allowed to read it, its metaverse be in the thing's policy). */
export function openAvatarStream(
  baseUrl: string,
  token: string,
  avatarId: string,
  onMessage?: (message: AvatarStreamMessage) => void,
): Promise<Stream<AvatarStreamMessage>> {
  return openStream(baseUrl, `/r1/avatars/${encodeURIComponent(avatarId)}/stream`, token, onMessage);
}

/** The committed activity events (auditor, monitor or admin), from `startBlock` when given (resume), else new ones. */
export function openEventStream(
  baseUrl: string,
  token: string,
  o: { startBlock?: bigint | number | string } = {},
  onMessage?: (message: EventStreamMessage) => void,
): Promise<Stream<EventStreamMessage>> {
  const q = o.startBlock !== undefined ? `?startBlock=${encodeURIComponent(String(o.startBlock))}` : '';
  return openStream(baseUrl, `/events${q}`, token, onMessage);
}
