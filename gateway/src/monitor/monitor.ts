/**
 * The real-time monitor (M2, X6). It follows the `mvsec.activity` chaincode events with
 * fabric-gateway's durable file checkpointer, applies the rules of rules.ts, records each alert on
 * the ledger with alert:RaiseAlert under its OWN Fabric identity (role `monitor`), pushes it to live
 * subscribers (SSE) and counts everything in Prometheus metrics.
 *
 * Exactly once, per event, in this order:
 *   1. skip it if the rule state already holds it (it was applied before a crash, not checkpointed);
 *   2. apply the rules; raise each alert (deterministic id; CONFLICT "already exists" = done;
 *      transient Fabric errors retried until it lands or the monitor stops);
 *   3. save the rule state atomically (temp file + rename), naming the event's block and tx id;
 *   4. checkpoint the event with the file checkpointer.
 * A crash before 3 re-applies the event from the previous state (same alerts, same ids: nothing
 * new on the ledger); a crash between 3 and 4 redelivers an event that step 1 skips.
 */
import { checkpointers, type ChaincodeEvent, type Checkpointer, type CloseableAsyncIterable } from '@hyperledger/fabric-gateway';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import client from 'prom-client';
import type { Caller } from '../auth/principal.js';
import { ApiError } from '../http/problem.js';
import { alreadyRaised } from '../ledger/alerts.js';
import { LedgerClient } from '../ledger/client.js';
import { LedgerRefusal, UnknownOrganisation } from '../ledger/errors.js';
import {
  emptyState,
  RuleEngine,
  type ActivityEvent,
  alertIdOf,
  type AlertDraft,
  type Lookup,
  type Reading,
  type ThingView,
} from './rules.js';
import { monitorMetrics, type MonitorMetrics } from './metrics.js';
import { ACTIVITY_EVENT, INTEGRITY_RULE, writeAtomic, type MonitorOptions, type RaisedAlert, type SavedState } from './monitor-types.js';

export { ACTIVITY_EVENT, INTEGRITY_RULE, writeAtomic } from './monitor-types.js';
export type { EventSource, MonitorOptions, RaisedAlert } from './monitor-types.js';

type Subscriber = (alert: RaisedAlert) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ledger's words when it refused (final: not retried), else undefined (a transient failure: retried). */
function refusalOf(e: unknown): string | undefined {
  if (e instanceof LedgerRefusal || e instanceof UnknownOrganisation) return e.message;
  // A collaborator's own refusal.
  if (e instanceof ApiError && e.status < 500 && e.kind !== 'commit-invalidated') return e.detail;
  return undefined;
}

export class Monitor {
  readonly engine: RuleEngine;
  private readonly log: (msg: string) => void;
  private readonly now: () => number;
  private readonly statePath: string;
  private readonly checkpointPath: string;
  private saved: SavedState;
  private stream?: CloseableAsyncIterable<ChaincodeEvent>;
  private stopping = false;
  private loop?: Promise<void>;
  private readonly subscribers = new Set<Subscriber>();
  private readonly recent: RaisedAlert[] = [];
  private denialQueue: Promise<void> = Promise.resolve();
  private lastBlock?: bigint;
  /** why the loop ended, when it ended by itself */
  failure?: Error;
  readonly metrics: MonitorMetrics;

  private readonly ledger: LedgerClient;

  constructor(private readonly o: MonitorOptions) {
    this.ledger = LedgerClient.of(o.ledger);
    this.log = o.log ?? ((m) => console.error(m));
    this.now = o.now ?? Date.now;
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    this.statePath = join(o.stateDir, 'state.json');
    this.checkpointPath = join(o.stateDir, 'checkpoint.json');
    this.saved = existsSync(this.statePath)
      ? (JSON.parse(readFileSync(this.statePath, 'utf8')) as SavedState)
      : { version: 1, txIds: [], processed: 0, engine: emptyState(), things: {} };
    this.engine = new RuleEngine(o.rules, this.saved.engine);
    if (this.saved.block !== undefined) this.lastBlock = BigInt(this.saved.block);

    this.metrics = monitorMetrics(o.registry ? [o.registry] : [], {
      lastBlock: () => this.lastBlock,
      height: () => this.o.source.height(),
    });
  }

  /** Put the monitor's metrics in the gateway's registry (served at /metrics). */
  registerMetrics(registry: client.Registry): void {
    for (const m of Object.values(this.metrics)) {
      if (!registry.getSingleMetric((m as unknown as { name: string }).name)) registry.registerMetric(m as client.Metric);
    }
  }

  get identity(): Caller {
    return this.o.identity;
  }

  get processed(): number {
    return this.saved.processed;
  }

  /** Alerts this process raised or met again, newest last (bounded). */
  recentAlerts(): RaisedAlert[] {
    return [...this.recent];
  }

  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Start following events (returns once the stream is open). */
  async start(): Promise<void> {
    const checkpointer = await checkpointers.file(this.checkpointPath);
    if (checkpointer.getBlockNumber() === undefined) {
      // First start: pin the position now, so a crash before the first event loses nothing.
      const first = this.o.startBlock ?? (await this.o.source.height());
      if (first > 0n) await checkpointer.checkpointBlock(first - 1n);
    }
    this.stream = await this.o.source.events(checkpointer);
    this.loop = this.run(checkpointer);
  }

  private async run(checkpointer: Checkpointer): Promise<void> {
    let backoff = 200;
    while (!this.stopping) {
      try {
        for await (const event of this.stream!) {
          await this.handle(event, checkpointer);
          backoff = 200;
          if (this.stopping) break;
        }
        if (this.stopping) break;
        throw new Error('event stream ended');
      } catch (e) {
        if (this.stopping) break;
        if ((e as { crash?: boolean }).crash) {
          this.failure = e as Error;
          this.log(`monitor: stopped: ${(e as Error).message}`);
          break;
        }
        this.log(`monitor: event stream interrupted (${(e as Error).message.split('\n')[0]}); resuming from the checkpoint`);
        this.stream?.close();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        if (this.stopping) break;
        try {
          this.stream = await this.o.source.events(checkpointer);
        } catch (e2) {
          this.log(`monitor: cannot reopen the event stream: ${(e2 as Error).message.split('\n')[0]}`);
        }
      }
    }
  }

  private already(event: ChaincodeEvent): boolean {
    if (this.saved.block === undefined) return false;
    const last = BigInt(this.saved.block);
    return event.blockNumber < last || (event.blockNumber === last && this.saved.txIds.includes(event.transactionId));
  }

  private async handle(event: ChaincodeEvent, checkpointer: Checkpointer): Promise<void> {
    if (this.already(event)) {
      this.metrics.skipped.inc();
      this.o.onSkipped?.(event);
      await checkpointer.checkpointChaincodeEvent(event);
      return;
    }
    let payload: ActivityEvent | undefined;
    if (event.eventName === ACTIVITY_EVENT) {
      try {
        payload = JSON.parse(Buffer.from(event.payload).toString('utf8')) as ActivityEvent;
      } catch (e) {
        this.log(`monitor: unreadable event payload in tx ${event.transactionId}: ${(e as Error).message}`);
      }
    }
    if (payload && Array.isArray(payload.changes)) {
      this.trackPolicies(payload);
      const drafts = await this.engine.onEvent(payload, this.lookup);
      for (const d of drafts) await this.raise(d, true);
    }
    // Step 3: the applied state names this event.
    const block = event.blockNumber.toString();
    this.saved = {
      ...this.saved,
      txIds: this.saved.block === block ? [...this.saved.txIds, event.transactionId] : [event.transactionId],
      block,
      processed: this.saved.processed + 1,
      engine: this.engine.state,
    };
    writeAtomic(this.statePath, JSON.stringify(this.saved));
    this.lastBlock = event.blockNumber;
    this.metrics.events.inc();
    this.o.onProcessed?.(event, payload);
    if (this.o.beforeCheckpoint) {
      try {
        await this.o.beforeCheckpoint(event);
      } catch (e) {
        throw Object.assign(new Error(`crash before checkpoint of ${event.transactionId}: ${(e as Error).message}`), { crash: true });
      }
    }
    // Step 4.
    await checkpointer.checkpointChaincodeEvent(event);
  }

  /** Keep the policies the events carry (policy-set), so replays judge with what the ledger said then. */
  private trackPolicies(ev: ActivityEvent): void {
    for (const c of ev.changes) {
      if (c.subjectType === 'thing' && c.action === 'policy-set') {
        try {
          const d = JSON.parse(c.details) as { policy?: ThingView['policy'] };
          this.saved.things[c.subjectId] = { thingId: c.subjectId, policy: d.policy };
        } catch {
          /* ignore */
        }
      }
    }
  }

  private readonly lookup: Lookup = {
    thing: async (thingId) => {
      const hit = this.saved.things[thingId];
      if (hit) return hit;
      const t = await this.read(`thing ${thingId}`, () => this.ledger.things.get(this.o.identity, thingId));
      if (t) this.saved.things[thingId] = { thingId, policy: t.policy };
      return t;
    },
    thingOfData: async (dataId) => (await this.read(`data ${dataId}`, () => this.ledger.data.get(this.o.identity, dataId)))?.thingId,
  };

  private async read<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
    for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
      try {
        return await read();
      } catch (e) {
        const refused = refusalOf(e);
        if (refused) {
          this.log(`monitor: ${what}: ${refused}`);
          return undefined;
        }
        if (this.stopping) throw e;
        await sleep(wait);
      }
    }
  }

  /** Record an alert on the ledger (idempotent by id), then tell subscribers. */
  private async raise(d: AlertDraft, retryForever: boolean): Promise<RaisedAlert | undefined> {
    let raised: RaisedAlert | undefined;
    for (let wait = 200, tries = 0; ; wait = Math.min(wait * 2, 5000), tries++) {
      try {
        const r = await this.ledger.alerts.raise(this.o.identity, d);
        const rec = r.result as { raisedAt?: string } | undefined;
        raised = { ...d, txId: r.txId, record: r.result, existing: false, raisedAt: rec?.raisedAt ?? new Date(this.now()).toISOString() };
        break;
      } catch (e) {
        if (alreadyRaised(e)) {
          raised = { ...d, existing: true, raisedAt: new Date(this.now()).toISOString() };
          break;
        }
        const refused = refusalOf(e);
        if (refused) {
          this.metrics.alertFailures.inc({ rule: d.rule });
          this.log(`monitor: alert ${d.alertId} (${d.rule}) refused by the ledger: ${refused}`);
          return undefined;
        }
        if (this.stopping || (!retryForever && tries >= 5)) throw e;
        this.log(`monitor: alert ${d.alertId} not recorded yet (${(e as Error).message.split('\n')[0]}); retrying`);
        await sleep(wait);
      }
    }
    if (!raised.existing) this.metrics.alerts.inc({ rule: d.rule, severity: d.severity });
    this.recent.push(raised);
    if (this.recent.length > 500) this.recent.shift();
    for (const s of this.subscribers) {
      try {
        s(raised);
      } catch {
        /* a subscriber's failure is its own */
      }
    }
    return raised;
  }

  /**
   * The gateway refused a request (403). Denials never reach the ledger, so the gateway's error
   * path reports them here; alerts are raised in the background, one at a time.
   */
  recordDenial(principal: string, reason: string, path = ''): void {
    this.metrics.denials.inc();
    const drafts = this.engine.onDenial(principal, reason, this.now(), path);
    for (const d of drafts) {
      this.denialQueue = this.denialQueue
        .then(() => this.raise(d, false))
        .then(
          () => undefined,
          (e) => this.log(`monitor: alert ${d.alertId} for ${principal} not recorded: ${(e as Error).message}`),
        );
    }
  }

  /**
   * Stored bytes failed verification against the ledger (R2: tampering, a swapped object, a lost
   * key). The gateway refused to serve them; this records a CRITICAL alert on the DATA so that
   * auditors see it on the ledger — one per data id and object (the id is deterministic: a fetch
   * repeated against the same bad object finds the alert already there).
   */
  recordIntegrity(f: { dataId: string; address: string; detail: string }): void {
    const d: AlertDraft = {
      alertId: alertIdOf(INTEGRITY_RULE, 'DATA', f.dataId, f.address),
      severity: 'CRITICAL',
      rule: INTEGRITY_RULE,
      subjectType: 'DATA',
      subjectId: f.dataId,
      description: `stored object ${f.address} of data ${f.dataId} does not match the ledger and was not served: ${f.detail}`.slice(
        0,
        1000,
      ),
      evidence: [],
    };
    this.denialQueue = this.denialQueue
      .then(() => this.raise(d, false))
      .then(
        () => undefined,
        (e) => this.log(`monitor: integrity alert ${d.alertId} for data ${f.dataId} not recorded: ${(e as Error).message}`),
      );
  }

  /**
   * Readings the telemetry service accepted (R1, off-ledger): the bounds rules with a `metric`
   * judge them, and their alerts are recorded on the ledger in the background like denials.
   * Shaped as the telemetry service's `onAccepted` listener: the promise resolves once the alerts
   * are on the ledger, and until then the readings stay in the telemetry journal (exactly-once
   * across a crash, as the ledger-fed rules are through the checkpoint).
   */
  readonly recordReadings = (thingId: string, readings: readonly Reading[]): Promise<void> | undefined => {
    if (!this.engine.readingRules.length) return undefined;
    const drafts = this.engine.onReadings(thingId, [...readings], this.now());
    if (!drafts.length) return undefined;
    // Retried until recorded (or the monitor stops): the telemetry journal keeps the readings until
    // then and tells them again after a restart — alert ids are per reading, so that is harmless.
    const done = this.denialQueue.then(async () => {
      for (const d of drafts) await this.raise(d, true);
    });
    this.denialQueue = done.catch((e: unknown) =>
      this.log(`monitor: alerts for readings of ${thingId} not recorded: ${(e as Error).message}`),
    );
    return done;
  };

  /** Wait for pending denial and reading alerts (tests, shutdown). */
  async drain(): Promise<void> {
    await this.denialQueue;
  }

  /** Stop after the event in progress has been processed and checkpointed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stream?.close();
    await this.loop;
    await this.denialQueue;
  }

  /** Resolves when the loop has ended (stop or crash). */
  async done(): Promise<void> {
    await this.loop;
  }
}
