/**
 * The express application: representations, authentication, routes by reference point,
 * operations endpoints, one error handler producing problems.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import client from 'prom-client';
import { auditRoutes } from './audit/routes.js';
import { bundleRoutes } from './audit/bundles.js';
import { authenticator } from './auth/authenticate.js';
import { RateLimiter } from './auth/rate-limit.js';
import { LoginService } from './auth/login.js';
import { OidcVerifier } from './auth/oidc.js';
import { authRoutes } from './auth/routes.js';
import { UserStore } from './auth/users.js';
import type { GatewayConfig } from './config.js';
import { IdempotencyStore } from './http/idempotency.js';
import { ledgerProblem } from './http/ledger-errors.js';
import { openApiDocument } from './http/openapi.js';
import { ApiError } from './http/problem.js';
import { bodyReader, send, sendProblem } from './http/representation.js';
import { mount, route, type AnyRoute } from './http/routes.js';
import { attachEndpoints, type Endpoints } from './http/websocket.js';
import { LedgerClient } from './ledger/client.js';
import { asLedgerError } from './ledger/errors.js';
import { FabricLedger } from './ledger/fabric-ledger.js';
import type { Ledger } from './ledger/ledger.js';
import { OfflineSigning } from './r1-things/offline-service.js';
import { eventsOpenApi, eventsRoute, eventStream } from './monitor/events.js';
import { monitorHooks, type Monitor } from './monitor/index.js';
import { AgentStore } from './r1-things/agents/agents.js';
import { agentRoutes } from './r1-things/agents/routes.js';
import { avatarRoutes } from './r1-things/avatars.js';
import { offlineRoutes } from './r1-things/offline-signing.js';
import { streamOpenApi, telemetryRoutes } from './r1-things/telemetry/routes.js';
import { TelemetryService, type TelemetryOptions } from './r1-things/telemetry/service.js';
import { avatarStream } from './r1-things/telemetry/stream.js';
import { thingRoutes } from './r1-things/things.js';
import { StorageAgent, type IntegrityFailure } from './r2-storage/agent.js';
import { anchorRoutes } from './r2-storage/anchors.js';
import { objectStoreFor } from './r2-storage/configure.js';
import { objectRoutes } from './r2-storage/objects.js';
import { piiRoutes } from './r2-storage/pii.js';
import type { ObjectStore } from './r2-storage/store.js';
import { deliveryRoutes } from './r3-transfers/delivery.js';
import { transferRoutes } from './r3-transfers/routes.js';
import { accessRoutes } from './r4-access/routes.js';
import { federationRoutes } from './r5-federation/federations.js';
import { platformRoutes } from './r5-federation/platforms.js';
import { dpmRoutes } from './r6-dpm/routes.js';

export interface Deps {
  ledger: Ledger;
  users?: UserStore;
  now?: () => number;
  log?: (msg: string) => void;
  /** The real-time monitor: /monitor routes, its metrics, and every 403 reported to it as a denial. */
  monitor?: Monitor;
  /** The storage agent's object store (R2); default from config.storageDir or <stateDir>/storage, else none. */
  storage?: ObjectStore;
  /** R1 telemetry batching knobs (count, wait, cache TTL); state in <stateDir>/telemetry. */
  telemetry?: Pick<TelemetryOptions, 'batchMaxReadings' | 'batchMaxWaitMs' | 'cacheTtlMs'>;
}

export interface App {
  app: express.Express;
  login: LoginService;
  users: UserStore;
  routes: AnyRoute[];
  openapi: Record<string, unknown>;
  registry: client.Registry;
  storage?: ObjectStore;
  /** R1 telemetry: readings, batches, proofs, live-stream subscribers. */
  telemetry: TelemetryService;
  /** Attach the WebSocket live stream (/r1/avatars/{avatarId}/stream) to the listening server. */
  attachStream(server: import('node:http').Server): Endpoints;
}

const VERSION = '0.1.0';

/** Requests counted per authenticated principal, so clients behind one proxy do not share a limit. */
function limitedPerPrincipal(authenticate: ReturnType<typeof authenticator>, limiter: RateLimiter): ReturnType<typeof authenticator> {
  return async (req, required) => {
    const caller = await authenticate(req, required);
    if (caller) limiter.take(`${caller.principal}@${caller.mspId}`, 'requests from this principal');
    return caller;
  };
}

export function createApp(config: GatewayConfig, deps: Deps): App {
  const now = deps.now ?? Date.now;
  const ledger = new LedgerClient(deps.ledger);
  const log = deps.log ?? ((m: string) => console.error(m));
  const users = deps.users ?? new UserStore();
  const login = new LoginService(
    users,
    {
      jwtSecret: config.jwtSecret,
      accessTtlSeconds: config.accessTtlSeconds,
      refreshTtlSeconds: config.refreshTtlSeconds,
      maxFailedAttempts: config.maxFailedAttempts,
      lockoutSeconds: config.lockoutSeconds,
      attemptsPerMinute: config.loginAttemptsPerMinute,
    },
    now,
  );
  const oidc = new OidcVerifier(config.oidcIssuers, now);
  // Durable under a state folder (<stateDir>/idempotency.jsonl): a retry after a gateway restart still replays.
  const idempotency = new IdempotencyStore(config.idempotencyTtlSeconds * 1000, now, {
    ...(config.stateDir ? { file: join(config.stateDir, 'idempotency.jsonl') } : {}),
    ...(ledger.transactionStatus ? { verify: ledger.transactionStatus } : {}),
  });

  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'mvsec_gateway_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'mvsec_gateway_http_request_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const opsRoutes: AnyRoute[] = [
    route({
      method: 'get',
      path: '/healthz',
      tag: 'Operations',
      summary: 'Liveness',
      access: 'public',
      handler: async () => ({ body: { status: 'ok' } }),
    }),
    route({
      method: 'get',
      path: '/readyz',
      tag: 'Operations',
      summary: 'Readiness: the Fabric network answers (503 with the reason when not)',
      access: 'public',
      statuses: [503],
      handler: async () => {
        const r = await ledger.ready();
        if (!r.ready) throw new ApiError(503, `not ready: ${r.detail}`, 'not-ready');
        return { body: { status: 'ready', detail: r.detail } };
      },
    }),
  ];
  const monitor = deps.monitor ? monitorHooks(deps.monitor, deps.ledger, registry) : undefined;
  const storageDir = config.storageDir ?? (config.stateDir ? join(config.stateDir, 'storage') : undefined);
  const storage = deps.storage ?? (storageDir ? objectStoreFor(storageDir, config) : undefined);
  const telemetry = TelemetryService.inStateDir(config.stateDir, {
    ledger: deps.ledger,
    now,
    log,
    sealKey: config.storageKey,
    ...deps.telemetry,
  });
  if (deps.monitor) telemetry.onAccepted(deps.monitor.recordReadings);
  const stored = new StorageAgent(ledger, storage, {
    maxObjectBytes: config.maxObjectBytes,
    log,
    now,
    ...(deps.monitor ? { onIntegrity: (f: IntegrityFailure) => deps.monitor!.recordIntegrity(f) } : {}),
  });
  // By reference point; each folder declares its routes (app.ts only composes them).
  const routes = [
    ...opsRoutes,
    ...authRoutes(login, ledger),
    ...platformRoutes(ledger),
    ...federationRoutes(ledger),
    ...thingRoutes(ledger),
    ...avatarRoutes(ledger),
    ...accessRoutes(ledger),
    ...transferRoutes(ledger, now),
    ...offlineRoutes(ledger, deps.ledger instanceof FabricLedger ? new OfflineSigning(deps.ledger) : undefined),
    ...objectRoutes(stored),
    ...deliveryRoutes(stored),
    ...anchorRoutes(ledger),
    ...piiRoutes(ledger),
    ...dpmRoutes(ledger, storage, { stateDir: config.stateDir, storageKey: config.storageKey, log }),
    ...(monitor?.routes ?? []),
    ...telemetryRoutes(telemetry),
    ...agentRoutes(ledger, new AgentStore(config.storageKey, config.stateDir), telemetry, now),
    eventsRoute,
    ...auditRoutes(ledger),
    // evidence bundles need a Fabric connection as the caller (qscc blocks), which only a real ledger has
    ...(ledger.raw.withGateway ? bundleRoutes(ledger) : []),
  ];
  const openapi = openApiDocument(routes, { version: VERSION });
  (openapi.paths as Record<string, unknown>)['/openapi.json'] = {
    get: {
      tags: ['Operations'],
      summary: 'This document',
      security: [],
      responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
    },
  };
  (openapi.paths as Record<string, unknown>)['/r1/avatars/{avatarId}/stream'] = streamOpenApi;
  (openapi.paths as Record<string, unknown>)['/events'] = eventsOpenApi;
  (openapi.paths as Record<string, unknown>)['/metrics'] = {
    get: {
      tags: ['Operations'],
      summary: 'Prometheus metrics',
      security: [],
      responses: { 200: { description: 'text exposition format', content: { 'text/plain': {} } } },
    },
  };
  (openapi.paths as Record<string, unknown>)['/docs'] = {
    get: {
      tags: ['Operations'],
      summary: 'Browsable API documentation (offline)',
      security: [],
      responses: { 200: { description: 'HTML', content: { 'text/html': {} } } },
    },
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (config.trustedProxies.length) app.set('trust proxy', config.trustedProxies);
  app.use((req, res, next) => {
    const end = latency.startTimer();
    res.on('finish', () => {
      const r = (req.route?.path as string | undefined) ?? 'unmatched';
      requests.inc({ method: req.method, route: r, status: String(res.statusCode) });
      end({ method: req.method, route: r });
    });
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    if (config.tls) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  });

  app.get('/openapi.json', (req, res) => send(req, res, 200, openapi));
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const docsHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mvsec gateway API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>`;
  const docsInit = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;
  const docsPage = (_req: Request, res: Response) => {
    res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    res.type('html').send(docsHtml);
  };
  app.get('/docs', docsPage);
  app.get('/docs/', docsPage);
  app.get('/docs/init.js', (_req, res) => res.type('application/javascript').send(docsInit));
  for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    const body = readFileSync(join(swaggerDir, f));
    app.get(`/docs/${f}`, (_req, res) => res.type(f.endsWith('.css') ? 'text/css' : 'application/javascript').send(body));
  }

  app.use(bodyReader(config.bodyLimitBytes));
  const router = express.Router({ strict: false });
  const authenticate = limitedPerPrincipal(authenticator(login, oidc), new RateLimiter(config.requestsPerMinute, now));
  mount(router, routes, {
    authenticate: monitor ? monitor.wrapAuth(authenticate) : authenticate,
    idempotent: (req, caller, run) => idempotency.run(req, caller, run),
  });
  app.use(router);

  app.use((req: Request) => {
    throw new ApiError(404, `no route ${req.method} ${req.path}`, 'no-route');
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if ((err as { type?: string })?.type === 'entity.too.large') e = new ApiError(413, 'request body too large');
    else if (err instanceof URIError || (err as { status?: number })?.status === 400)
      e = new ApiError(400, `malformed request: ${(err as Error).message}`);
    else {
      const p = ledgerProblem(asLedgerError(err));
      if (p) e = p;
      else {
        log(`gateway: unexpected error on ${req.method} ${req.path}: ${(err as Error)?.stack ?? String(err)}`);
        e = new ApiError(500, 'internal error; see the gateway log');
      }
    }
    monitor?.onProblem(req, e);
    if (res.headersSent) {
      res.end();
      return;
    }
    sendProblem(req, res, e.toProblem(), e.extra.headers);
  });

  const streamAuth = monitor ? monitor.wrapAuth(authenticate) : authenticate;
  return {
    app,
    login,
    users,
    routes,
    openapi,
    registry,
    ...(storage ? { storage } : {}),
    telemetry,
    attachStream: (server) => attachEndpoints(server, [avatarStream(telemetry, streamAuth), eventStream(ledger, streamAuth, log)], log),
  };
}
