import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
export { ALERT_SEVERITIES, ALERT_SUBJECTS, ALERT_STATUSES, type AlertSeverity, type AlertSubject, type AlertStatus } from 'mvsec-protocol';
import { type AlertSeverity, type AlertSubject, type AlertStatus } from 'mvsec-protocol';
import type * as P from 'mvsec-protocol';

/** An anomaly found by the monitor (M2); a critical one may suspend a thing or avatar. */
@DataType()
export class Alert implements P.Alert {
  @Property('docType', 'string') public docType!: 'alert';
  @Property('alertId', 'string') public alertId!: string;
  @Property('severity', 'string') public severity!: AlertSeverity;
  @Property('rule', 'string') public rule!: string;
  @Property('subjectType', 'string') public subjectType!: AlertSubject;
  @Property('subjectId', 'string') public subjectId!: string;
  @Property('description', 'string') public description!: string;
  @Property('evidence', 'string[]') public evidence!: string[];
  @Property('status', 'string') public status!: AlertStatus;
  @Property('suspended', 'boolean') public suspended!: boolean;
  @Property('raisedBy', 'Actor') public raisedBy!: Actor;
  @Property('raisedAt', 'string') public raisedAt!: string;
  @Property('resolvedBy', 'Actor') public resolvedBy?: Actor;
  @Property('resolvedAt', 'string') public resolvedAt?: string;
  @Property('resolution', 'string') public resolution?: string;
  @Property('resumed', 'boolean') public resumed?: boolean;
}

@DataType()
export class AlertPage implements P.AlertPage {
  @Property('items', 'Alert[]') public items!: Alert[];
  @Property('bookmark', 'string') public bookmark!: string;
}
