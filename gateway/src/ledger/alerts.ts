/** M2 alerts (alert contract). */
import type { AlertPage, AlertSeverity, AlertSubject, Alert } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import { isRefusal, type LedgerRefusal } from './errors.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

/** What RaiseAlert takes (the id is the monitor's deterministic one: raising twice is refused CONFLICT). */
export interface RaiseAlertInput {
  alertId: string;
  severity: AlertSeverity;
  rule: string;
  subjectType: AlertSubject;
  subjectId: string;
  description: string;
  evidence: string[];
  suspend?: boolean;
}

export class AlertsLedger {
  constructor(private readonly tx: Transactions) {}

  raise(caller: Caller, input: RaiseAlertInput, o?: SubmitOptions): Promise<Committed<Alert>> {
    return this.tx.submit(caller, 'alert:RaiseAlert', [json(input)], o);
  }
  /** Open alerts, paged (pageSize and bookmark as the chaincode takes them). */
  open(caller: Caller, pageSize: string, bookmark: string): Promise<AlertPage> {
    return this.tx.evaluate(caller, 'alert:ListOpenAlerts', [pageSize, bookmark]);
  }
  ofSubject(caller: Caller, subjectType: string, subjectId: string, pageSize: string, bookmark: string): Promise<AlertPage> {
    return this.tx.evaluate(caller, 'alert:ListAlertsBySubject', [subjectType, subjectId, pageSize, bookmark]);
  }
}

/** RaiseAlert refused because an alert of that id exists (raised before: done). */
export const alreadyRaised = (e: unknown): e is LedgerRefusal => isRefusal(e, 'CONFLICT', /already exists/);
