/**
 * The storage agent's service (R2, F2, S2, X7): the object store behind the routes, the read
 * guard (tombstones, CheckAccess, the ledger's anchor as the caller), integrity reporting and the
 * problems it answers. Used by the R2 routes and by the R3 delivery.
 */
import type { DataAnchor } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import { deniedByLedger } from '../http/ledger-errors.js';
import { ApiError } from '../http/problem.js';
import type { LedgerClient } from '../ledger/client.js';
import { isDeletedReason, refusedAsDeleted } from '../ledger/data.js';
import type { IndexEntry, ObjectStore } from './store.js';

export interface StorageRouteOptions {
  maxObjectBytes: number;
  log: (msg: string) => void;
  now?: () => number;
  /** Told of every integrity failure (the monitor records an alert on the ledger). */
  onIntegrity?: (f: IntegrityFailure) => void;
}

/** Stored bytes (or their location/key) that did not match the ledger. */
export interface IntegrityFailure {
  dataId: string;
  /** The content address of the object that failed. */
  address: string;
  detail: string;
}

/** Stored bytes that fail verification against the ledger: the store gave bad data (502), never served. */
export const integrityError = (detail: string) => new ApiError(502, detail, 'integrity-error', { code: 'INTEGRITY' });

export class StorageAgent {
  constructor(
    readonly ledger: LedgerClient,
    private readonly storage: ObjectStore | undefined,
    readonly o: StorageRouteOptions,
  ) {}

  /** The one place an integrity failure is reported: the log, and the monitor when there is one. */
  integrityFailed(f: IntegrityFailure): void {
    this.o.log(`storage: INTEGRITY data ${f.dataId} (object ${f.address}): ${f.detail}`);
    this.o.onIntegrity?.(f);
  }

  /** The object store cannot be reached: 503, the operator's problem, logged with the backend's words. */
  unavailable(err: Error): ApiError {
    this.o.log(`storage: UNAVAILABLE ${err.message}`);
    return new ApiError(503, `the object store is unavailable: ${err.message}`, 'storage-unavailable', { headers: { 'retry-after': '5' } });
  }

  store(): ObjectStore {
    if (!this.storage)
      throw new ApiError(503, 'no off-chain store is configured on this gateway (MVSEC_GATEWAY_STORAGE_DIR)', 'no-storage');
    return this.storage;
  }

  async entryOf(dataId: string): Promise<IndexEntry> {
    const e = await this.store().entry(dataId);
    if (!e) throw new ApiError(404, `data ${dataId} is not in store ${this.store().backend.storeId}`, 'not-found', { code: 'NOT_FOUND' });
    return e;
  }

  isOwner(c: Caller, e: IndexEntry): boolean {
    return c.principal === e.ownerPrincipal && c.mspId === e.ownerMspId;
  }

  /** 410 with the ledger's deletion record (the owner) or the ledger's reason only (anyone else). */
  gone(e: IndexEntry, full: boolean): ApiError {
    const d = e.deletion ?? { shreddedAt: '', objectErased: true, keyDestroyed: true };
    const record = d.record as DataAnchor | undefined;
    const step = record?.lifecycle?.filter((s) => s.stage === 'DELETED').pop();
    const detail = step
      ? `data ${e.dataId} was deleted at ${step.at} by ${step.by?.principal ?? '?'}@${step.by?.mspId ?? '?'}: ${step.note ?? ''}`.trim()
      : (d.ledgerReason ?? `data ${e.dataId} is deleted`);
    if (!full) return new ApiError(410, `data ${e.dataId} is deleted`, 'deleted', { code: 'EXPIRED' });
    return new ApiError(410, detail, 'deleted', {
      code: 'EXPIRED',
      members: {
        deletion: {
          dataId: e.dataId,
          txId: d.txId,
          fingerprint: e.sha256,
          deletedAt: step?.at,
          deletedBy: step?.by,
          reason: step?.note ?? d.ledgerReason,
          record,
          objectErased: d.objectErased,
          keyDestroyed: d.keyDestroyed,
        },
      },
    });
  }

  /** The ledger says deleted but this store still holds the object (deleted elsewhere): confirm, then shred. */
  private async shredDeletedOnLedger(caller: Caller, e: IndexEntry): Promise<IndexEntry> {
    const v = await this.ledger.data.verify(caller, e.dataId, e.sha256);
    if (!isDeletedReason(v?.reason, e.dataId))
      throw new ApiError(502, `the ledger refused data ${e.dataId} as deleted but VerifyData says: ${v?.reason}`);
    this.o.log(`storage: data ${e.dataId} is deleted on the ledger; erasing object ${e.address} and destroying key ${e.keyId}`);
    return this.store().shred(e.dataId, { ledgerReason: v.reason });
  }

  /**
   * The read guard: tombstones answer 410; a non-owner is asked CheckAccess 'read' first (403 with
   * the contract's reason); then the ledger's anchor is read as the caller. Returns the entry and anchor.
   */
  async guardedAnchor(caller: Caller, dataId: string, purpose: string): Promise<{ e: IndexEntry; anchor: DataAnchor }> {
    let e = await this.entryOf(dataId);
    const owner = this.isOwner(caller, e);
    if (e.state === 'DELETED' && owner) throw this.gone(e, true);
    if (!owner) {
      const d = await this.ledger.access.check(caller, { resourceType: 'DATA', resourceId: dataId, action: 'read', purpose });
      if (!d || typeof d.allowed !== 'boolean') throw new ApiError(502, 'CheckAccess gave no decision', 'bad-ledger-answer');
      if (!d.allowed) {
        if (isDeletedReason(d.reason ?? '', dataId)) {
          if (e.state !== 'DELETED') e = await this.shredDeletedOnLedger(caller, e);
          throw this.gone(e, false);
        }
        throw deniedByLedger(d.reason ?? 'access denied');
      }
      if (e.state === 'DELETED') throw this.gone(e, false);
    }
    let anchor: DataAnchor;
    try {
      anchor = await this.ledger.data.get(caller, dataId);
    } catch (err) {
      if (refusedAsDeleted(err, dataId)) {
        e = await this.shredDeletedOnLedger(caller, e);
        throw this.gone(e, owner);
      }
      throw err;
    }
    if (anchor.storage?.uri !== e.uri || (anchor.keyId ?? '') !== e.keyId) {
      this.integrityFailed({
        dataId,
        address: e.address,
        detail: `ledger locates it at ${anchor.storage?.uri} key ${anchor.keyId}, the store at ${e.uri} key ${e.keyId}`,
      });
      throw integrityError(`data ${dataId}: the ledger's storage location or key id is not this store's object`);
    }
    return { e, anchor };
  }
}
