/**
 * In-memory stand-in for the parts of the Fabric chaincode API the contracts use, with Fabric's
 * semantics where they matter for correctness:
 * - reads see committed state only (never the transaction's own writes);
 * - composite keys are built exactly as fabric-shim builds them;
 * - range and partial-composite-key queries are ordered by UTF-8 bytes; paged ones return the next
 *   key as bookmark ('' on the last page) and are refused in a transaction that also writes;
 * - a transaction's writes, private writes, validation parameters and event apply only at commit;
 *   commit checks key-level endorsement policies (setStateValidationParameter) against the
 *   organisations that endorsed, like the validator does, and drops the transaction if unmet;
 * - only the last setEvent survives, as in Fabric (the count is kept so tests can assert "one").
 */
import { createHash } from 'node:crypto';
import { KeyEndorsementPolicy } from 'fabric-shim';
import type { Iterators } from 'fabric-shim-api';
import Long from 'long';

const NS = '\u0000';
const MAX_RUNE = '\u{10ffff}';

export interface HistoryItem {
  txId: string;
  timestamp: { seconds: Long; nanos: number };
  isDelete: boolean;
  value: Uint8Array;
}

export interface CommittedEvent {
  txId: string;
  name: string;
  payload: Uint8Array;
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The committed world state, private collections, history and event log of one channel. */
export class MemoryLedger {
  readonly state = new Map<string, Uint8Array>();
  readonly privateData = new Map<string, Map<string, Uint8Array>>();
  readonly validationParams = new Map<string, Uint8Array>();
  readonly history = new Map<string, HistoryItem[]>();
  readonly events: CommittedEvent[] = [];
  readonly blocks: { txId: string; publicWrites: Map<string, Uint8Array | null> }[] = [];

  sortedKeys(): string[] {
    return [...this.state.keys()].sort(byteCompare);
  }

  /** Every byte written to the shared ledger (public write sets + events), for leakage checks. */
  publicBytes(): Buffer {
    const parts: Buffer[] = [];
    for (const b of this.blocks) for (const [k, v] of b.publicWrites) parts.push(Buffer.from(k), Buffer.from(v ?? []));
    for (const e of this.events) parts.push(Buffer.from(e.name), Buffer.from(e.payload));
    return Buffer.concat(parts);
  }
}

export class MemoryClientIdentity {
  constructor(
    private readonly mspId: string,
    private readonly attrs: Record<string, string>,
    private readonly subject = `x509::CN=${attrs.principal ?? 'anon'},OU=client::CN=ca.${mspId}`,
    /** the creator's certificate (PEM), as the peer passes it; default: the subject text */
    private readonly certificate?: string,
  ) {}
  getMSPID(): string {
    return this.mspId;
  }
  getID(): string {
    return this.subject;
  }
  getIDBytes(): Uint8Array {
    return Buffer.from(this.certificate ?? this.subject);
  }
  getAttributeValue(name: string): string | null {
    return Object.prototype.hasOwnProperty.call(this.attrs, name) ? this.attrs[name] : null;
  }
  assertAttributeValue(name: string, value: string): boolean {
    return this.getAttributeValue(name) === value;
  }
}

class ArrayIterator<T> {
  private i = 0;
  constructor(private readonly items: T[]) {}
  async next(): Promise<{ value: T; done: boolean }> {
    if (this.i < this.items.length) return { value: this.items[this.i++], done: false };
    return { value: undefined as unknown as T, done: true };
  }
  async close(): Promise<void> {}
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (const item of this.items) yield item;
  }
}

/** A query result that is both awaitable (iterator) and async-iterable, like fabric-shim's. */
function iterable<T, R>(result: R, items: T[]): Promise<R> & AsyncIterable<T> {
  const p = Promise.resolve(result) as Promise<R> & AsyncIterable<T>;
  p[Symbol.asyncIterator] = async function* () {
    for (const item of items) yield item;
  };
  return p;
}

export interface TxOptions {
  txId: string;
  timestampMs: number;
  fcn: string;
  args: string[];
  transient?: Record<string, string | Uint8Array>;
  /** the endorsing peer's organisation (stub.getMspID()); undefined: CORE_PEER_LOCALMSPID unset */
  mspId: string | undefined;
}

/** The stub of one transaction proposal. */
export class MemoryStub {
  readonly writes = new Map<string, Uint8Array | null>();
  readonly privateWrites = new Map<string, Map<string, Uint8Array | null>>();
  readonly validationWrites = new Map<string, Uint8Array>();
  readonly readKeys = new Set<string>();
  /** number of range / partial-key queries this transaction ran */
  rangeQueries = 0;
  eventCount = 0;
  event: { name: string; payload: Uint8Array } | undefined;
  paginated = false;
  private readonly transient: Map<string, Uint8Array>;

  constructor(
    private readonly ledger: MemoryLedger,
    private readonly tx: TxOptions,
  ) {
    this.transient = new Map(Object.entries(tx.transient ?? {}).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]));
  }

  getTxID(): string {
    return this.tx.txId;
  }
  getChannelID(): string {
    return 'mvsec';
  }
  /** The endorsing peer's local MSP id, as fabric-shim reads it from CORE_PEER_LOCALMSPID (throws when unset). */
  getMspID(): string {
    if (this.tx.mspId === undefined) throw new Error('CORE_PEER_LOCALMSPID is unset in chaincode process');
    return this.tx.mspId;
  }
  getFunctionAndParameters(): { fcn: string; params: string[] } {
    return { fcn: this.tx.fcn, params: this.tx.args };
  }
  getArgs(): string[] {
    return [this.tx.fcn, ...this.tx.args];
  }
  getStringArgs(): string[] {
    return this.getArgs();
  }
  getTransient(): Map<string, Uint8Array> {
    return new Map(this.transient);
  }
  getTxTimestamp(): { seconds: Long; nanos: number } {
    return { seconds: Long.fromNumber(Math.floor(this.tx.timestampMs / 1000), true), nanos: (this.tx.timestampMs % 1000) * 1e6 };
  }
  getDateTimestamp(): Date {
    return new Date(this.tx.timestampMs);
  }

  async getState(key: string): Promise<Uint8Array> {
    this.readKeys.add(key);
    return Buffer.from(this.ledger.state.get(key) ?? []);
  }
  async putState(key: string, value: Uint8Array): Promise<void> {
    if (typeof key !== 'string' || key.length === 0) throw new Error('key must not be empty');
    if (!value || value.length === 0) throw new Error(`empty value for ${JSON.stringify(key)} (an empty value is a delete in Fabric)`);
    this.writes.set(key, Buffer.from(value));
  }
  async deleteState(key: string): Promise<void> {
    this.writes.set(key, null);
  }
  async setStateValidationParameter(key: string, ep: Uint8Array): Promise<void> {
    this.validationWrites.set(key, Buffer.from(ep));
  }
  async getStateValidationParameter(key: string): Promise<Uint8Array> {
    return Buffer.from(this.ledger.validationParams.get(key) ?? []);
  }

  private range(startKey: string, endKey: string): Iterators.KV[] {
    this.rangeQueries += 1;
    return this.ledger
      .sortedKeys()
      .filter((k) => byteCompare(k, startKey) >= 0 && (endKey === '' || byteCompare(k, endKey) < 0))
      .map((key) => ({ namespace: 'mvsec', key, value: Buffer.from(this.ledger.state.get(key) as Uint8Array) }));
  }

  private page(startKey: string, endKey: string, pageSize: number, bookmark?: string) {
    this.paginated = true;
    const start = bookmark ? bookmark : startKey;
    const all = this.range(start, endKey);
    const items = all.slice(0, pageSize);
    const next = all.length > pageSize ? all[pageSize].key : '';
    return { iterator: new ArrayIterator(items), metadata: { fetchedRecordsCount: items.length, bookmark: next } };
  }

  getStateByRange(startKey: string, endKey: string) {
    if (startKey.startsWith(NS) || endKey.startsWith(NS))
      throw new Error('first character of the key contains a null character which is not allowed');
    const items = this.range(startKey || '\u0001', endKey);
    return iterable(new ArrayIterator(items), items);
  }
  getStateByRangeWithPagination(startKey: string, endKey: string, pageSize: number, bookmark?: string) {
    if (startKey.startsWith(NS) || endKey.startsWith(NS))
      throw new Error('first character of the key contains a null character which is not allowed');
    const res = this.page(startKey || '\u0001', endKey, pageSize, bookmark);
    return iterable(res, []);
  }
  getStateByPartialCompositeKey(objectType: string, attributes: string[]) {
    const prefix = this.createCompositeKey(objectType, attributes);
    const items = this.range(prefix, prefix + MAX_RUNE);
    return iterable(new ArrayIterator(items), items);
  }
  getStateByPartialCompositeKeyWithPagination(objectType: string, attributes: string[], pageSize: number, bookmark?: string) {
    const prefix = this.createCompositeKey(objectType, attributes);
    return iterable(this.page(prefix, prefix + MAX_RUNE, pageSize, bookmark), []);
  }
  getHistoryForKey(key: string) {
    const items = (this.ledger.history.get(key) ?? []).slice().reverse();
    return iterable(new ArrayIterator(items), items);
  }
  getQueryResult(): never {
    throw new Error('rich queries are not used by this chaincode (LevelDB)');
  }

  setEvent(name: string, payload: Uint8Array): void {
    if (!name) throw new Error('event name must be a non-empty string');
    this.eventCount += 1;
    this.event = { name, payload: Buffer.from(payload) };
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    const check = (a: unknown) => {
      if (!a || typeof a !== 'string') throw new Error('object type or attribute not a non-zero length string');
    };
    check(objectType);
    let key = NS + objectType + NS;
    for (const a of attributes) {
      check(a);
      key += a + NS;
    }
    return key;
  }
  splitCompositeKey(compositeKey: string): { objectType: string | null; attributes: string[] } {
    if (!compositeKey.startsWith(NS)) return { objectType: null, attributes: [] };
    const parts = compositeKey.substring(1).split(NS);
    parts.pop();
    return { objectType: parts[0], attributes: parts.slice(1) };
  }

  async getPrivateData(collection: string, key: string): Promise<Uint8Array> {
    return Buffer.from(this.ledger.privateData.get(collection)?.get(key) ?? []);
  }
  /** SHA-256 of the committed private value ('' when absent): what every peer, member or not, holds. */
  async getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
    const value = this.ledger.privateData.get(collection)?.get(key);
    return value ? createHash('sha256').update(value).digest() : Buffer.alloc(0);
  }
  async putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
    if (!value || value.length === 0) throw new Error('empty private value');
    this.privateWrite(collection).set(key, Buffer.from(value));
  }
  async deletePrivateData(collection: string, key: string): Promise<void> {
    this.privateWrite(collection).set(key, null);
  }
  async purgePrivateData(collection: string, key: string): Promise<void> {
    this.privateWrite(collection).set(key, null);
  }
  private privateWrite(collection: string): Map<string, Uint8Array | null> {
    let m = this.privateWrites.get(collection);
    if (!m) {
      m = new Map();
      this.privateWrites.set(collection, m);
    }
    return m;
  }

  /** Apply this transaction to the ledger as a valid commit, or throw as the validator would. */
  commit(endorsingOrgs: readonly string[]): void {
    const hasWrites = this.writes.size > 0 || this.privateWrites.size > 0 || this.validationWrites.size > 0;
    if (hasWrites && this.paginated) throw new Error('paginated queries are supported only in a read-only transaction');
    for (const key of this.writes.keys()) {
      const param = this.ledger.validationParams.get(key);
      if (!param) continue;
      const required = new KeyEndorsementPolicy(param).listOrgs();
      const missing = required.filter((org) => !endorsingOrgs.includes(org));
      if (missing.length)
        throw new Error(`ENDORSEMENT_POLICY_FAILURE: key-level policy of ${JSON.stringify(key)} needs ${missing.join(', ')}`);
    }
    if (!hasWrites && !this.event) return;
    const ts = this.getTxTimestamp();
    for (const [key, value] of this.writes) {
      if (value === null) this.ledger.state.delete(key);
      else this.ledger.state.set(key, value);
      const h = this.ledger.history.get(key) ?? [];
      h.push({ txId: this.tx.txId, timestamp: ts, isDelete: value === null, value: value ?? Buffer.alloc(0) });
      this.ledger.history.set(key, h);
    }
    for (const [key, ep] of this.validationWrites) this.ledger.validationParams.set(key, ep);
    for (const [collection, writes] of this.privateWrites) {
      let store = this.ledger.privateData.get(collection);
      if (!store) {
        store = new Map();
        this.ledger.privateData.set(collection, store);
      }
      for (const [key, value] of writes) {
        if (value === null) store.delete(key);
        else store.set(key, value);
      }
    }
    this.ledger.blocks.push({ txId: this.tx.txId, publicWrites: new Map(this.writes) });
    if (this.event) this.ledger.events.push({ txId: this.tx.txId, ...this.event });
  }
}
