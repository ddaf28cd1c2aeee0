/**
 * The typed ledger client: one method per chaincode transaction the gateway uses, grouped by
 * contract, answering mvsec-protocol records and throwing ledger/errors.ts errors. Built on any
 * `Ledger` (the Fabric one, a test double).
 */
import type { Caller } from '../auth/principal.js';
import { AccessLedger } from './access.js';
import { AlertsLedger } from './alerts.js';
import { AuditLedger } from './audit.js';
import { AvatarsLedger } from './avatars.js';
import { DataLedger } from './data.js';
import { DpmLedger } from './dpm.js';
import { GovernanceLedger } from './governance.js';
import { IdentityLedger } from './identity.js';
import type { Ledger, LedgerEvents, Readiness, TransactionStatus } from './ledger.js';
import { PlatformsLedger } from './platforms.js';
import { ThingsLedger } from './things.js';
import { TransfersLedger } from './transfers.js';
import { Transactions } from './transactions.js';

export class LedgerClient {
  readonly things: ThingsLedger;
  readonly avatars: AvatarsLedger;
  readonly platforms: PlatformsLedger;
  readonly access: AccessLedger;
  readonly transfers: TransfersLedger;
  readonly data: DataLedger;
  readonly dpm: DpmLedger;
  readonly audit: AuditLedger;
  readonly alerts: AlertsLedger;
  readonly governance: GovernanceLedger;
  readonly identity: IdentityLedger;

  constructor(readonly raw: Ledger) {
    const tx = new Transactions(raw);
    this.things = new ThingsLedger(tx);
    this.avatars = new AvatarsLedger(tx);
    this.platforms = new PlatformsLedger(tx);
    this.access = new AccessLedger(tx);
    this.transfers = new TransfersLedger(tx);
    this.data = new DataLedger(tx);
    this.dpm = new DpmLedger(tx);
    this.audit = new AuditLedger(tx);
    this.alerts = new AlertsLedger(tx);
    this.governance = new GovernanceLedger(tx);
    this.identity = new IdentityLedger(tx);
  }

  /** The client of a ledger (itself when it already is one). */
  static of(ledger: Ledger | LedgerClient): LedgerClient {
    return ledger instanceof LedgerClient ? ledger : new LedgerClient(ledger);
  }

  /** The commit status of a transaction (qscc GetTransactionByID), when the ledger can tell. */
  get transactionStatus(): ((caller: Caller, txId: string) => Promise<TransactionStatus>) | undefined {
    const raw = this.raw;
    return raw.transactionStatus ? (caller, txId) => raw.transactionStatus!(caller, txId) : undefined;
  }

  /** Committed chaincode events, when the ledger has an event source. */
  get events(): ((caller: Caller, startBlock?: bigint) => Promise<LedgerEvents>) | undefined {
    const raw = this.raw;
    return raw.events ? (caller, startBlock) => raw.events!(caller, startBlock) : undefined;
  }

  ready(): Promise<Readiness> {
    return this.raw.ready();
  }
}
