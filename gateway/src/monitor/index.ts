/**
 * Wiring of the monitor into the gateway: its routes and metrics, the caller of each request kept
 * for the error path, and every 403 the gateway answers reported as a denial. `monitorFromEnv`
 * builds the monitor for `npm start` (opt-in: monitor.enabled or MVSEC_MONITOR=1).
 */
import type { Request } from 'express';
import { join } from 'node:path';
import type client from 'prom-client';
import type { MonitorConfig } from '../config/load.js';
import { peerOrganizations, type FabricNetwork } from '../config/schema.js';
import type { Caller } from '../auth/principal.js';
import type { Ledger } from '../ledger/ledger.js';
import type { IdentityService } from '../ledger/identities.js';
import type { ApiError } from '../http/problem.js';
import type { AnyRoute } from '../http/routes.js';
import { fabricEventSource } from './fabric-source.js';
import { Monitor } from './monitor.js';
import { monitorRoutes } from './routes.js';
import { loadRules } from './rules.js';

export { Monitor } from './monitor.js';

type Authenticate = (req: Request, required: boolean) => Promise<Caller | undefined>;

export interface MonitorHooks {
  routes: AnyRoute[];
  /** Keep the authenticated caller on the response, for onProblem. */
  wrapAuth(a: Authenticate): Authenticate;
  /** The gateway is answering this problem: a 403 is reported to the monitor as a denial. */
  onProblem(req: Request, e: ApiError): void;
}

export const principalOf = (c: Pick<Caller, 'principal' | 'mspId'>) => `${c.principal}@${c.mspId}`;

export function monitorHooks(monitor: Monitor, ledger: Ledger, registry: client.Registry): MonitorHooks {
  monitor.registerMetrics(registry);
  return {
    routes: monitorRoutes(monitor, ledger),
    wrapAuth: (a) => async (req, required) => {
      const caller = await a(req, required);
      if (caller && req.res) req.res.locals.mvsecCaller = caller;
      return caller;
    },
    onProblem(req, e) {
      if (e.status !== 403) return;
      const caller = req.res?.locals.mvsecCaller as Caller | undefined;
      const who = caller ? principalOf(caller) : `unauthenticated@${req.ip ?? 'unknown'}`;
      monitor.recordDenial(who, e.detail, req.path);
    },
  };
}

/**
 * The monitor of `npm start`, when enabled (monitor.enabled in the configuration file, or
 * MVSEC_MONITOR=1): rules from monitor.rulesFile / MVSEC_MONITOR_RULES (default
 * gateway/monitor-rules.json), state in monitor.stateDir / MVSEC_MONITOR_STATE_DIR (default
 * <gateway state>/monitor), identity monitor.principal / MVSEC_MONITOR_PRINCIPAL (default
 * mvsec-monitor) with role `monitor` of monitor.mspId / MVSEC_MONITOR_MSP (default the first
 * organisation with peers).
 */
export async function monitorFromConfig(
  config: MonitorConfig | undefined,
  network: FabricNetwork,
  identities: IdentityService,
  ledger: Ledger,
  defaults: { stateDir?: string; rulesFile: string },
): Promise<Monitor | undefined> {
  if (!config?.enabled) return undefined;
  const stateDir = config.stateDir ?? (defaults.stateDir ? join(defaults.stateDir, 'monitor') : undefined);
  if (!stateDir)
    throw new Error(
      'the monitor needs monitor.stateDir or the gateway stateDir (MVSEC_MONITOR_STATE_DIR, MVSEC_GATEWAY_STATE_DIR): the checkpoint must survive restarts',
    );
  const first = peerOrganizations(network)[0];
  if (!config.mspId && !first) throw new Error('the monitor needs an organisation with peers (monitor.mspId)');
  const identity: Caller = {
    principal: config.principal ?? 'mvsec-monitor',
    mspId: config.mspId ?? first.mspId,
    role: 'monitor',
    issuer: 'gateway',
    amr: [],
  };
  const rules = loadRules(config.rulesFile ?? defaults.rulesFile);
  const source = await fabricEventSource(network, identities, identity);
  const monitor = new Monitor({ rules, ledger, identity, source, stateDir });
  await monitor.start();
  return monitor;
}
