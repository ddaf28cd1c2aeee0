import type { Actor } from './actor';

export const ALERT_SEVERITIES = ['INFO', 'WARNING', 'CRITICAL'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const ALERT_SUBJECTS = ['THING', 'AVATAR', 'TRANSFER', 'DATA', 'PLATFORM', 'JOB', 'PRINCIPAL'] as const;
export type AlertSubject = (typeof ALERT_SUBJECTS)[number];
export const ALERT_STATUSES = ['OPEN', 'RESOLVED'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** An anomaly found by the monitor (M2); a critical one may suspend a thing or avatar. */
export interface Alert {
  docType: 'alert';
  alertId: string;
  severity: AlertSeverity;
  rule: string;
  subjectType: AlertSubject;
  subjectId: string;
  description: string;
  evidence: string[];
  status: AlertStatus;
  suspended: boolean;
  raisedBy: Actor;
  raisedAt: string;
  resolvedBy?: Actor;
  resolvedAt?: string;
  resolution?: string;
  resumed?: boolean;
}

export interface AlertPage {
  items: Alert[];
  bookmark: string;
}
