/**
 * The monitor's rules (M2, X6): a config file validated here, and a deterministic engine that
 * turns chaincode activity events and gateway denials into alert drafts. The engine is pure
 * (no I/O but the `lookup` it is given) and its state is plain JSON, so the monitor can persist it
 * with its checkpoint and a replayed event gives the same alert id.
 */

import {
  alertIdOf,
  valueAtPath,
  type ActivityEvent,
  type ActivityRecord,
  type AlertDraft,
  type AlertSubjectType,
  type BoundsRule,
  type DenialRule,
  type HoursRule,
  type PolicyRule,
  type RateRule,
  type Reading,
  type Rule,
} from './rule-schema.js';

export * from './rule-schema.js';

const MAX_EVIDENCE = 50;
const shortText = (s: string) => (s.length > 900 ? `${s.slice(0, 897)}...` : s);

// ---------------------------------------------------------------- engine

/** The parts of a thing the policy rule needs. */
export interface ThingView {
  thingId: string;
  status?: string;
  policy?: { allowedMetaverses?: string[]; allowedDpmProviders?: string[] };
}

/** Ledger reads the policy rule needs (monitor identity; evaluate only). */
export interface Lookup {
  thing(thingId: string): Promise<ThingView | undefined>;
  thingOfData(dataId: string): Promise<string | undefined>;
  thingOfTransfer?(transferId: string): Promise<string | undefined>;
}

interface Hit {
  t: number;
  txId: string;
}

export interface EngineState {
  /** rate windows: rule id → subject key → recent hits (at most max+1) and the end of the alert's quiet period */
  rate: Record<string, Record<string, { hits: Hit[]; quietUntil?: number }>>;
}

export const emptyState = (): EngineState => ({ rate: {} });

function parseDetails(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The things and avatars a change is about (data and batch records count for their thing). */
export function subjectsOf(c: ActivityRecord): { type: 'thing' | 'avatar'; id: string }[] {
  const out: { type: 'thing' | 'avatar'; id: string }[] = [];
  if (c.subjectType === 'thing' || c.subjectType === 'avatar') out.push({ type: c.subjectType, id: c.subjectId });
  const d = parseDetails(c.details);
  if (c.subjectType !== 'thing' && typeof d.thingId === 'string' && ['data', 'batch'].includes(c.subjectType))
    out.push({ type: 'thing', id: d.thingId });
  if (c.subjectType !== 'avatar' && typeof d.avatarId === 'string' && c.subjectType === 'data')
    out.push({ type: 'avatar', id: d.avatarId });
  return out;
}

export function hourAllowed(hour: number, from: number, to: number): boolean {
  if (from === to) return true;
  return from < to ? hour >= from && hour < to : hour >= from || hour < to;
}

export class RuleEngine {
  readonly ledgerRules: Rule[];
  readonly denialRules: DenialRule[];
  /** bounds rules on R1 readings (off-ledger, fed by the telemetry service) */
  readonly readingRules: (BoundsRule & { metric: string })[];
  private readonly readingQuiet = new Map<string, number>();
  private readonly denials = new Map<string, { t: number; reason: string; path: string }[]>();
  private readonly denialQuiet = new Map<string, number>();

  constructor(
    rules: Rule[],
    public state: EngineState = emptyState(),
  ) {
    this.ledgerRules = rules.filter((r) => r.type !== 'denials');
    this.denialRules = rules.filter((r): r is DenialRule => r.type === 'denials');
    this.readingRules = rules.filter((r): r is BoundsRule & { metric: string } => r.type === 'bounds' && r.metric !== undefined);
  }

  /** Apply every ledger rule to one transaction's event; returns the alerts to raise, in order. */
  async onEvent(ev: ActivityEvent, lookup?: Lookup): Promise<AlertDraft[]> {
    const out: AlertDraft[] = [];
    const t = Date.parse(ev.time);
    for (const rule of this.ledgerRules) {
      if (rule.type === 'rate') out.push(...this.rate(rule, ev, t));
      else if (rule.type === 'hours') out.push(...this.hours(rule, ev, t));
      else if (rule.type === 'bounds') out.push(...this.bounds(rule, ev));
      else if (rule.type === 'policy' && lookup) out.push(...(await this.policy(rule, ev, lookup)));
    }
    return out;
  }

  private rate(rule: RateRule, ev: ActivityEvent, t: number): AlertDraft[] {
    const windowMs = rule.windowSeconds * 1000;
    const perRule = (this.state.rate[rule.id] ??= {});
    const out: AlertDraft[] = [];
    const counted = new Set<string>();
    for (const c of ev.changes) {
      for (const s of subjectsOf(c)) {
        if (!rule.subjects.includes(s.type)) continue;
        const key = `${s.type}\u0000${s.id}`;
        const w = (perRule[key] ??= { hits: [] });
        w.hits.push({ t, txId: ev.txId });
        counted.add(key);
      }
    }
    for (const key of counted) {
      const w = perRule[key];
      w.hits = w.hits.filter((h) => h.t > t - windowMs);
      if (w.hits.length > rule.max + 1) w.hits = w.hits.slice(-(rule.max + 1));
      if (w.hits.length > rule.max && (w.quietUntil === undefined || t >= w.quietUntil)) {
        const [type, id] = key.split('\u0000');
        const subjectType = type === 'thing' ? 'THING' : 'AVATAR';
        const first = w.hits[0].txId;
        out.push({
          alertId: alertIdOf(rule.id, subjectType, id, first),
          severity: rule.severity,
          rule: rule.id,
          subjectType,
          subjectId: id,
          description: shortText(
            `${rule.description ?? 'rate spike'}: more than ${rule.max} activity records for ${type} ${id} within ${rule.windowSeconds} s (transaction time ${new Date(w.hits[0].t).toISOString()} .. ${ev.time})`,
          ),
          evidence: [...new Set(w.hits.map((h) => h.txId))].slice(-MAX_EVIDENCE),
          ...(rule.suspend ? { suspend: true as const } : {}),
        });
        w.quietUntil = t + windowMs;
      }
    }
    // forget subjects whose window and quiet period are over
    for (const [key, w] of Object.entries(perRule)) {
      const last = w.hits.length ? w.hits[w.hits.length - 1].t : -Infinity;
      if (last <= t - windowMs && (w.quietUntil === undefined || w.quietUntil <= t)) delete perRule[key];
    }
    return out;
  }

  private hours(rule: HoursRule, ev: ActivityEvent, t: number): AlertDraft[] {
    if (rule.functions.length && !rule.functions.includes(ev.fn)) return [];
    const hour = new Date(t).getUTCHours();
    if (hourAllowed(hour, rule.fromHour, rule.toHour)) return [];
    const subj = ev.changes.flatMap(subjectsOf)[0];
    const subjectType: AlertSubjectType = subj ? (subj.type === 'thing' ? 'THING' : 'AVATAR') : 'PRINCIPAL';
    const subjectId = subj ? subj.id : `${ev.actor.principal}@${ev.actor.mspId}`;
    return [
      {
        alertId: alertIdOf(rule.id, subjectType, subjectId, ev.txId),
        severity: rule.severity,
        rule: rule.id,
        subjectType,
        subjectId,
        description: shortText(
          `${rule.description ?? 'activity at an unusual hour'}: ${ev.fn} by ${ev.actor.principal}@${ev.actor.mspId} at ${ev.time} (allowed ${rule.fromHour}:00-${rule.toHour}:00 UTC)`,
        ),
        evidence: [ev.txId],
      },
    ];
  }

  private bounds(rule: BoundsRule, ev: ActivityEvent): AlertDraft[] {
    const out: AlertDraft[] = [];
    if (rule.metric !== undefined || rule.field === undefined) return out;
    for (const c of ev.changes) {
      if (c.subjectType !== 'data' && c.subjectType !== 'batch') continue;
      const d = parseDetails(c.details);
      if (rule.category !== '*' && d.category !== rule.category) continue;
      const v = d[rule.field];
      if (typeof v !== 'number' || (v >= rule.min && v <= rule.max)) continue;
      const thingId = typeof d.thingId === 'string' ? d.thingId : undefined;
      const subjectType: AlertSubjectType = thingId ? 'THING' : c.subjectType === 'data' ? 'DATA' : 'PRINCIPAL';
      const subjectId = thingId ?? (c.subjectType === 'data' ? c.subjectId : `${ev.actor.principal}@${ev.actor.mspId}`);
      out.push({
        alertId: alertIdOf(rule.id, subjectType, subjectId, `${ev.txId}/${c.seq}`),
        severity: rule.severity,
        rule: rule.id,
        subjectType,
        subjectId,
        description: shortText(
          `${rule.description ?? 'reading outside physical bounds'}: ${rule.field} = ${v} in ${c.subjectType} ${c.subjectId} (allowed ${rule.min}..${rule.max})`,
        ),
        evidence: [ev.txId],
        ...(rule.suspend && subjectType === 'THING' ? { suspend: true as const } : {}),
      });
    }
    return out;
  }

  /** Movement toward a metaverse or DPM provider the thing's current policy does not list. */
  private async policy(rule: PolicyRule, ev: ActivityEvent, lookup: Lookup): Promise<AlertDraft[]> {
    const out: AlertDraft[] = [];
    for (const c of ev.changes) {
      const d = parseDetails(c.details);
      let thingId: string | undefined;
      let target: string | undefined;
      let kind: 'metaverse' | 'DPM provider' | undefined;
      if (c.subjectType === 'avatar' && c.action === 'mapped' && typeof d.thingId === 'string' && typeof d.metaverseId === 'string') {
        [thingId, target, kind] = [d.thingId, d.metaverseId, 'metaverse'];
      } else if (c.subjectType === 'data' && (c.action === 'transfer-requested' || c.action === 'shared') && typeof d.to === 'string') {
        [thingId, target, kind] = [await lookup.thingOfData(c.subjectId), d.to, 'metaverse'];
      } else if (c.subjectType === 'data' && c.action === 'sent-to-dpm' && typeof d.providerId === 'string') {
        [thingId, target, kind] = [await lookup.thingOfData(c.subjectId), d.providerId, 'DPM provider'];
      }
      if (!kind || !target || !thingId) continue;
      const thing = await lookup.thing(thingId);
      if (!thing) continue;
      const allowed = (kind === 'metaverse' ? thing.policy?.allowedMetaverses : thing.policy?.allowedDpmProviders) ?? [];
      if (allowed.includes(target)) continue;
      out.push({
        alertId: alertIdOf(rule.id, 'THING', thingId, `${ev.txId}/${c.seq}`),
        severity: rule.severity,
        rule: rule.id,
        subjectType: 'THING',
        subjectId: thingId,
        description: shortText(
          `${rule.description ?? 'movement against policy'}: ${c.subjectType} ${c.subjectId} ${c.action} toward ${kind} ${target}, which the policy of thing ${thingId} does not allow (allowed: ${allowed.join(', ') || 'none'}) — ${ev.fn} by ${ev.actor.principal}@${ev.actor.mspId}`,
        ),
        evidence: [ev.txId],
        ...(rule.suspend ? { suspend: true as const } : {}),
      });
    }
    return out;
  }

  /**
   * Readings the telemetry service accepted for `thingId` (R1, off-ledger): each numeric value of a
   * metric with a bound outside `[min, max]` gives an alert on the thing, at most one per rule,
   * thing and metric within `quietSeconds` (gateway clock, `atMs`). The id is deterministic by
   * the reading (`thingId/seq`: the telemetry service accepts each seq of a thing once).
   */
  onReadings(thingId: string, readings: Reading[], atMs: number): AlertDraft[] {
    const out: AlertDraft[] = [];
    for (const rule of this.readingRules) {
      for (const r of readings) {
        if (rule.metric !== '*' && rule.metric !== r.sensor) continue;
        const v = rule.field === undefined ? r.value : valueAtPath(r.value, rule.field);
        if (typeof v !== 'number' || !Number.isFinite(v) || (v >= rule.min && v <= rule.max)) continue;
        const key = `${rule.id}\u0000${thingId}\u0000${r.sensor}`;
        const quiet = this.readingQuiet.get(key);
        if (quiet !== undefined && atMs < quiet) continue;
        this.readingQuiet.set(key, atMs + rule.quietSeconds * 1000);
        out.push({
          alertId: alertIdOf(rule.id, 'THING', thingId, `reading/${r.seq}`),
          severity: rule.severity,
          rule: rule.id,
          subjectType: 'THING',
          subjectId: thingId,
          description: shortText(
            `${rule.description ?? 'reading outside physical bounds'}: ${r.sensor}${rule.field ? `.${rule.field}` : ''} = ${v} in reading seq ${r.seq} of thing ${thingId} at ${r.time} (allowed ${rule.min}..${rule.max})`,
          ),
          evidence: [],
          ...(rule.suspend ? { suspend: true as const } : {}),
        });
      }
    }
    if (this.readingQuiet.size > 10_000) for (const [k, t] of this.readingQuiet) if (t <= atMs) this.readingQuiet.delete(k);
    return out;
  }

  /**
   * A refusal the gateway answered (403): denied requests never reach the ledger, so the gateway
   * reports them here. `atMs` is the gateway's clock.
   */
  onDenial(principal: string, reason: string, atMs: number, path = ''): AlertDraft[] {
    const out: AlertDraft[] = [];
    for (const rule of this.denialRules) {
      if (rule.pathPattern !== undefined && !new RegExp(rule.pathPattern).test(path)) continue;
      const key = `${rule.id}\u0000${principal}`;
      const windowMs = rule.windowSeconds * 1000;
      const list = (this.denials.get(key) ?? []).filter((d) => d.t > atMs - windowMs);
      list.push({ t: atMs, reason, path });
      if (list.length > rule.max + 1) list.splice(0, list.length - (rule.max + 1));
      this.denials.set(key, list);
      const quiet = this.denialQuiet.get(key);
      if (list.length > rule.max && (quiet === undefined || atMs >= quiet)) {
        this.denialQuiet.set(key, atMs + windowMs);
        out.push({
          alertId: alertIdOf(rule.id, 'PRINCIPAL', principal, `${list[0].t}:${list[0].path}`),
          severity: rule.severity,
          rule: rule.id,
          subjectType: 'PRINCIPAL',
          subjectId: principal.slice(0, 128),
          description: shortText(
            `${rule.description ?? 'repeated denials'}: ${list.length} refusal(s) of ${principal} within ${rule.windowSeconds} s; last ${path ? `on ${path}` : ''}: ${reason}`,
          ),
          evidence: [],
        });
      }
    }
    // bounded memory: drop principals whose window is over
    if (this.denials.size > 10_000) {
      for (const [k, l] of this.denials) if (!l.length || l[l.length - 1].t <= atMs - 86_400_000) this.denials.delete(k);
    }
    return out;
  }
}
