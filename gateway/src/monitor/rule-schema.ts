/**
 * What the monitor's rules read and write: the chaincode event's wire format, the rules file
 * (zod, validated on load) and the alert drafts the engine produces (rules.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ALERT_SEVERITIES, type AlertSubject } from 'mvsec-protocol';
import { z } from 'zod';

// ---------------------------------------------------------------- wire format of the chaincode event

export interface EventActor {
  mspId: string;
  principal: string;
  role: string;
}

export interface ActivityRecord {
  txId: string;
  seq: number;
  time: string;
  fn: string;
  actor: EventActor;
  subjectType: string;
  subjectId: string;
  action: string;
  /** sorted-key JSON string */
  details: string;
}

/** Payload of the `mvsec.activity` chaincode event: one per transaction. */
export interface ActivityEvent {
  txId: string;
  time: string;
  fn: string;
  actor: EventActor;
  changes: ActivityRecord[];
}

/** An R1 reading the telemetry service accepted (signature verified, not a replay). */
export interface Reading {
  seq: number;
  time: string;
  sensor: string;
  value: unknown;
}

export function valueAtPath(v: unknown, path: string): unknown {
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Array.isArray(v) ? (/^\d+$/.test(part) ? v[Number(part)] : undefined) : (v as Record<string, unknown>)[part];
  }
  return v;
}

// ---------------------------------------------------------------- config

const Severity = z.enum(ALERT_SEVERITIES);
const RuleId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'rule ids: lower-case letters, digits and dashes (≤ 41)');
const Hour = z.number().int().min(0).max(24);

const base = { id: RuleId, severity: Severity, enabled: z.boolean().default(true), description: z.string().max(300).optional() };

export const RateRule = z.strictObject({
  ...base,
  type: z.literal('rate'),
  /** which subjects are counted (records of data/batches count for their thing) */
  subjects: z
    .array(z.enum(['thing', 'avatar']))
    .min(1)
    .default(['thing', 'avatar']),
  /** alert when MORE than `max` records fall within `windowSeconds` (transaction time) */
  max: z.number().int().min(1),
  windowSeconds: z.number().int().min(1).max(86_400),
  /** CRITICAL only: suspend the thing/avatar in the alert's transaction */
  suspend: z.boolean().default(false),
});

export const HoursRule = z.strictObject({
  ...base,
  type: z.literal('hours'),
  /** allowed UTC window by transaction time: fromHour ≤ h < toHour (wraps midnight when fromHour > toHour) */
  fromHour: Hour,
  toHour: Hour,
  /** only these chaincode functions (`contract:Function`); empty = every function */
  functions: z.array(z.string()).default([]),
});

export const PolicyRule = z.strictObject({
  ...base,
  type: z.literal('policy'),
  /** CRITICAL only: suspend the thing whose data moved */
  suspend: z.boolean().default(false),
});

export const BoundsRule = z.strictObject({
  ...base,
  type: z.literal('bounds'),
  /**
   * R1 telemetry: the metric (the reading's `sensor`, '*' = any) the bound applies to. Readings are
   * off-ledger: the telemetry service hands each accepted reading to the monitor.
   */
  metric: z.string().min(1).optional(),
  /** ledger records: data category the bound applies to ('*' = any) */
  category: z.string().default('*'),
  /**
   * with `metric`: dotted path inside an object reading value (default: the value itself, which must be a number);
   * without: numeric field inside a data/batch record's details (e.g. "value", "temperatureC")
   */
  field: z.string().min(1).optional(),
  min: z.number(),
  max: z.number(),
  /** readings: after an alert, no new one for the same thing and metric for this long (gateway clock) */
  quietSeconds: z.number().int().min(0).max(86_400).default(60),
  suspend: z.boolean().default(false),
});

export const DenialRule = z.strictObject({
  ...base,
  type: z.literal('denials'),
  /** alert when MORE than `max` refusals (HTTP 403) of one principal fall within `windowSeconds` (gateway clock) */
  max: z.number().int().min(0),
  windowSeconds: z.number().int().min(1).max(86_400),
  /** count only refusals on paths matching this regular expression (default: every path) */
  pathPattern: z.string().optional(),
});

export const Rule = z.discriminatedUnion('type', [RateRule, HoursRule, PolicyRule, BoundsRule, DenialRule]);
export type Rule = z.infer<typeof Rule>;
export type RateRule = z.infer<typeof RateRule>;
export type HoursRule = z.infer<typeof HoursRule>;
export type PolicyRule = z.infer<typeof PolicyRule>;
export type BoundsRule = z.infer<typeof BoundsRule>;
export type DenialRule = z.infer<typeof DenialRule>;

export const RulesFile = z.strictObject({ version: z.literal(1), rules: z.array(Rule) }).superRefine((f, ctx) => {
  const seen = new Set<string>();
  f.rules.forEach((r, i) => {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id ${r.id}` });
    seen.add(r.id);
    if ('suspend' in r && r.suspend && r.severity !== 'CRITICAL')
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'suspend'], message: 'only a CRITICAL rule may suspend' });
    if (r.type === 'bounds' && r.min > r.max) ctx.addIssue({ code: 'custom', path: ['rules', i, 'min'], message: 'min > max' });
    if (r.type === 'bounds' && r.metric === undefined && r.field === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['rules', i, 'metric'],
        message: 'a bounds rule needs metric (readings) or field (ledger records)',
      });
    if (r.type === 'denials' && r.pathPattern !== undefined) {
      try {
        new RegExp(r.pathPattern);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'pathPattern'], message: (e as Error).message });
      }
    }
  });
});
export type RulesFile = z.infer<typeof RulesFile>;

/** Parse and validate a rules document; errors name the field. */
export function parseRules(doc: unknown, where = 'rules'): Rule[] {
  const r = RulesFile.safeParse(doc);
  if (!r.success) throw new Error(`${where}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data.rules.filter((x) => x.enabled);
}

export function loadRules(path: string): Rule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`monitor rules ${path}: ${(e as Error).message}`);
  }
  return parseRules(doc, `monitor rules ${path}`);
}

// ---------------------------------------------------------------- alerts

export type AlertSubjectType = AlertSubject;

/** What alert:RaiseAlert takes. */
export interface AlertDraft {
  alertId: string;
  severity: 'INFO' | 'WARNING' | 'CRITICAL';
  rule: string;
  subjectType: AlertSubjectType;
  subjectId: string;
  description: string;
  evidence: string[];
  suspend?: true;
}

/** Deterministic alert id: the rule, the subject and the first transaction (or denial) that opened it. */
export function alertIdOf(ruleId: string, subjectType: string, subjectId: string, first: string): string {
  const h = createHash('sha256').update(`${ruleId}\u0000${subjectType}\u0000${subjectId}\u0000${first}`).digest('hex');
  return `${ruleId}-${h.slice(0, 32)}`;
}
