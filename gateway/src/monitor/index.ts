/**
 * Wiring of the monitor into the gateway: its routes and metrics, the caller of each request kept
 * for the error path, and every 403 the gateway answers reported as a denial. `monitorFromEnv`
 * builds the monitor for `npm start` (opt-in: MVSEC_MONITOR=1).
 */
import type { Request } from 'express';
import { join } from 'node:path';
import type client from 'prom-client';
import type { Topology } from '../../../network/topology.js';
import { peerOrgs } from '../../../network/topology.js';
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
 * The monitor of `npm start`, when MVSEC_MONITOR=1: rules from MVSEC_MONITOR_RULES (default
 * gateway/monitor-rules.json), state in MVSEC_MONITOR_STATE_DIR (default <gateway state>/monitor),
 * identity MVSEC_MONITOR_PRINCIPAL (default mvsec-monitor) with role `monitor` of
 * MVSEC_MONITOR_MSP (default the first peer organisation).
 */
export async function monitorFromEnv(
  env: NodeJS.ProcessEnv,
  topology: Topology,
  identities: IdentityService,
  ledger: Ledger,
  defaults: { stateDir?: string; rulesFile: string },
): Promise<Monitor | undefined> {
  if (env.MVSEC_MONITOR !== '1') return undefined;
  const stateDir = env.MVSEC_MONITOR_STATE_DIR ?? (defaults.stateDir ? join(defaults.stateDir, 'monitor') : undefined);
  if (!stateDir)
    throw new Error('MVSEC_MONITOR=1 needs MVSEC_MONITOR_STATE_DIR or MVSEC_GATEWAY_STATE_DIR (the checkpoint must survive restarts)');
  const identity: Caller = {
    principal: env.MVSEC_MONITOR_PRINCIPAL ?? 'mvsec-monitor',
    mspId: env.MVSEC_MONITOR_MSP ?? peerOrgs(topology)[0].mspId,
    role: 'monitor',
    issuer: 'gateway',
    amr: [],
  };
  const rules = loadRules(env.MVSEC_MONITOR_RULES ?? defaults.rulesFile);
  const source = await fabricEventSource(topology, identities, identity);
  const monitor = new Monitor({ rules, ledger, identity, source, stateDir });
  await monitor.start();
  return monitor;
}
