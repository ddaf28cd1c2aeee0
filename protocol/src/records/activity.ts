import type { Actor } from './actor';

/** One state change, written under the subject index and the time index (M1, S1). */
export interface ActivityRecord {
  docType: 'activity';
  txId: string;
  seq: number;
  time: string;
  fn: string;
  actor: Actor;
  subjectType: string;
  subjectId: string;
  action: string;
  details: string;
}

export interface ActivityPage {
  items: ActivityRecord[];
  bookmark: string;
}

/** One version of a key from the history database. */
export interface HistoryEntry {
  txId: string;
  time: string;
  isDelete: boolean;
  value: string;
}

/** The single chaincode event of a transaction: every change it made. */
export interface ChangeEvent {
  txId: string;
  time: string;
  fn: string;
  actor: Actor;
  changes: ActivityRecord[];
}
