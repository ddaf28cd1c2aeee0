/** Listen: HTTPS with the configured certificate, plain HTTP only on loopback. */
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import { assertTransport, type GatewayConfig } from './config.js';

export interface Running {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function listen(app: express.Express, config: Pick<GatewayConfig, 'host' | 'port' | 'tls'>): Promise<Running> {
  assertTransport(config);
  const server: Server = config.tls
    ? createHttps({ cert: config.tls.cert, key: config.tls.key, minVersion: 'TLSv1.2' }, app)
    : createHttp(app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    server,
    url: `${config.tls ? 'https' : 'http'}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
