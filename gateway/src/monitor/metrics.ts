/** The monitor's Prometheus metrics: events, redeliveries, alerts, refusals, denials, last block and lag. */
import client from 'prom-client';

export interface MonitorMetrics {
  events: client.Counter;
  skipped: client.Counter;
  alerts: client.Counter<'rule' | 'severity'>;
  alertFailures: client.Counter<'rule'>;
  denials: client.Counter;
  lastBlock: client.Gauge;
  lag: client.Gauge;
}

export function monitorMetrics(
  registers: client.Registry[],
  at: { lastBlock(): bigint | undefined; height(): Promise<bigint> },
): MonitorMetrics {
  return {
    events: new client.Counter({
      name: 'mvsec_monitor_events_total',
      help: 'Chaincode activity events processed by the monitor',
      registers,
    }),
    skipped: new client.Counter({
      name: 'mvsec_monitor_events_redelivered_total',
      help: 'Events redelivered after a restart that had already been applied (skipped)',
      registers,
    }),
    alerts: new client.Counter({
      name: 'mvsec_monitor_alerts_total',
      help: 'Alerts raised, by rule and severity',
      labelNames: ['rule', 'severity'],
      registers,
    }),
    alertFailures: new client.Counter({
      name: 'mvsec_monitor_alert_failures_total',
      help: 'Alerts the ledger refused for a permanent reason (logged)',
      labelNames: ['rule'],
      registers,
    }),
    denials: new client.Counter({
      name: 'mvsec_monitor_denials_total',
      help: 'Gateway refusals (403) reported to the monitor',
      registers,
    }),
    lastBlock: new client.Gauge({
      name: 'mvsec_monitor_last_block',
      help: 'Block number of the last event the monitor processed',
      registers,
      collect() {
        if (at.lastBlock() !== undefined) this.set(Number(at.lastBlock()));
      },
    }),
    lag: new client.Gauge({
      name: 'mvsec_monitor_lag_blocks',
      help: 'Blocks committed on the channel after the last processed event (height - 1 - last processed block)',
      registers,
      async collect() {
        try {
          const h = await at.height();
          const last = at.lastBlock() ?? h - 1n;
          this.set(Math.max(0, Number(h - 1n - last)));
        } catch {
          /* the peer is unreachable: keep the previous value */
        }
      },
    }),
  };
}
