/** R2 data anchors and telemetry batches (data contract), and how the contract words its data refusals. */
import type {
  BatchAnchor,
  DataAnchor,
  DataAnchorPage,
  DataStage,
  PiiRecord,
  PiiStaged,
  StorageLocation,
  Verification,
} from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import { isRefusal, type LedgerRefusal } from './errors.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

/** What AnchorData takes: an off-chain object's fingerprint, where it lives and under which key. */
export interface AnchorDataInput {
  dataId: string;
  thingId: string;
  avatarId?: string;
  sha256: string;
  size: number;
  category: string;
  classification: string;
  storage: StorageLocation;
  keyId?: string;
  encrypted: boolean;
  stage: Extract<DataStage, 'COLLECTED' | 'STORED'>;
  /** the fingerprint StorePII returned, when the object has PII (rule 7) */
  piiHash?: string;
}

/** The transient PII StorePII takes: a fresh salt, the details, key material for the thing's first PII. */
export interface PiiTransientInput {
  salt: string;
  details: string;
  key: string;
}

/** What AnchorBatch takes: the Merkle root of a batch of readings. */
export interface AnchorBatchInput {
  batchId: string;
  thingId: string;
  merkleRoot: string;
  leafCount: number;
  firstReadingAt: string;
  lastReadingAt: string;
}

/** The contract's reason for data that was deleted (CheckAccess, VerifyData, GetData's refusal). */
export const isDeletedReason = (reason: string | undefined, dataId: string) => reason === `data ${dataId} is deleted`;

export class DataLedger {
  constructor(private readonly tx: Transactions) {}

  get(caller: Caller, dataId: string): Promise<DataAnchor> {
    return this.tx.evaluate(caller, 'data:GetData', [dataId]);
  }
  verify(caller: Caller, dataId: string, sha256: string): Promise<Verification> {
    return this.tx.evaluate(caller, 'data:VerifyData', [dataId, sha256]);
  }
  /** One page of a thing's anchors (pageSize as the chaincode takes it, a decimal string). */
  ofThing(caller: Caller, thingId: string, pageSize: string, bookmark: string): Promise<DataAnchorPage> {
    return this.tx.evaluate(caller, 'data:ListDataOfThing', [thingId, pageSize, bookmark]);
  }
  /**
   * Rule 7: stage PII in the caller organisation's private collection. It travels only as
   * transient data, endorsed only by the caller organisation's own peers (the collection's member).
   */
  storePii(
    caller: Caller,
    input: { dataId: string; thingId: string; avatarId?: string },
    pii: PiiTransientInput,
    o?: SubmitOptions,
  ): Promise<Committed<PiiStaged>> {
    return this.tx.submit(caller, 'data:StorePII', [json(input)], {
      ...o,
      transient: { pii: json(pii) },
      endorsingOrganizations: [caller.mspId],
    });
  }
  /** The PII of a data object, from this organisation's own peer (a member of the collection). */
  pii(caller: Caller, dataId: string): Promise<PiiRecord> {
    return this.tx.evaluate(caller, 'data:GetPII', [dataId]);
  }
  anchor(caller: Caller, input: AnchorDataInput, o?: SubmitOptions): Promise<Committed<DataAnchor>> {
    return this.tx.submit(caller, 'data:AnchorData', [json(input)], o);
  }
  anchorBatch(caller: Caller, input: AnchorBatchInput, o?: SubmitOptions): Promise<Committed<BatchAnchor>> {
    return this.tx.submit(caller, 'data:AnchorBatch', [json(input)], o);
  }
  /** Delete (X7): the answer is the anchor with its DELETED lifecycle step. */
  delete(caller: Caller, dataId: string, reason: string, o?: SubmitOptions): Promise<Committed<DataAnchor>> {
    return this.tx.submit(caller, 'data:DeleteData', [dataId, reason], o);
  }
  /** Expire by the thing's retention (the storage agent). */
  expire(caller: Caller, dataId: string, o?: SubmitOptions): Promise<Committed<DataAnchor>> {
    return this.tx.submit(caller, 'data:ExpireData', [dataId], o);
  }
}

/** GetData refused because the data was deleted. */
export const refusedAsDeleted = (e: unknown, dataId: string): e is LedgerRefusal =>
  isRefusal(e, 'DENIED') && isDeletedReason(e.reason, dataId);
/** ExpireData refused: the data was already deleted. */
export const alreadyDeleted = (e: unknown): e is LedgerRefusal => isRefusal(e, 'CONFLICT', /already deleted/);
/** ExpireData refused: the thing's retention keeps it longer. */
export const notDueYet = (e: unknown): e is LedgerRefusal => isRefusal(e, 'CONFLICT', /kept until/);
/** AnchorBatch refused: a batch of that id is on the ledger (an earlier attempt committed). */
export const alreadyAnchored = (e: unknown): e is LedgerRefusal => isRefusal(e, 'CONFLICT', /already exists/);
