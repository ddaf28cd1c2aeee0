import { DataType, Property } from '../common/decorators';
import { Actor } from '../auth/identity';
import type * as P from 'mvsec-protocol';

/** One state change, written under the subject index and the time index (M1, S1). */
@DataType()
export class ActivityRecord implements P.ActivityRecord {
  @Property('docType', 'string') public docType!: 'activity';
  @Property('txId', 'string') public txId!: string;
  @Property('seq', 'number') public seq!: number;
  @Property('time', 'string') public time!: string;
  @Property('fn', 'string') public fn!: string;
  @Property('actor', 'Actor') public actor!: Actor;
  @Property('subjectType', 'string') public subjectType!: string;
  @Property('subjectId', 'string') public subjectId!: string;
  @Property('action', 'string') public action!: string;
  @Property('details', 'string') public details!: string;
}

@DataType()
export class ActivityPage implements P.ActivityPage {
  @Property('items', 'ActivityRecord[]') public items!: ActivityRecord[];
  @Property('bookmark', 'string') public bookmark!: string;
}

/** One version of a key from the history database. */
@DataType()
export class HistoryEntry implements P.HistoryEntry {
  @Property('txId', 'string') public txId!: string;
  @Property('time', 'string') public time!: string;
  @Property('isDelete', 'boolean') public isDelete!: boolean;
  @Property('value', 'string') public value!: string;
}

/** The single chaincode event of a transaction: every change it made. */
@DataType()
export class ChangeEvent implements P.ChangeEvent {
  @Property('txId', 'string') public txId!: string;
  @Property('time', 'string') public time!: string;
  @Property('fn', 'string') public fn!: string;
  @Property('actor', 'Actor') public actor!: Actor;
  @Property('changes', 'ActivityRecord[]') public changes!: ActivityRecord[];
}
