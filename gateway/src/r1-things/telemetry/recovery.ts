/**
 * Journal and recovery (R1, P2): every accepted request is journaled before its 202; an entry
 * stays open while any of its readings awaits its batch's outcome or a listener's work is
 * unfinished. At start, readings acknowledged but not anchored are anchored again and every entry
 * is told again to the listeners that register. The journal is emptied when nothing is open, and
 * compacted to its open entries when it grows meanwhile.
 */
import type { Anchoring } from './anchoring.js';
import type { BatchIndex } from './batch-index.js';
import type { Batch, StoredReading } from './batches.js';
import type { AcceptedJournal, JournalEntry } from './journal.js';
import type { SeqStore } from './seq-store.js';
import type { ReadingsListener } from './types.js';

/** A journal entry and how much of it is still open: readings not settled, listeners not finished. */
export interface EntryState {
  entry: JournalEntry;
  open: number;
}

export class AcceptedReadings {
  /** Open work on journaled entries — readings not settled (anchored or refused), listeners not finished; the journal is emptied at 0. */
  private unsettled = 0;
  /** Journal entries with readings not settled yet (what a compaction keeps), found from their readings. */
  private readonly openEntries = new Set<EntryState>();
  private readonly entryOf = new WeakMap<StoredReading, EntryState>();
  /** Entries journaled before this start: told to each listener that registers. */
  private readonly recovered: EntryState[] = [];
  private readonly listeners = new Set<ReadingsListener>();
  private compacting = false;

  constructor(
    readonly journal: AcceptedJournal,
    private readonly seqs: SeqStore,
    private readonly batches: BatchIndex,
    private readonly anchoring: () => Anchoring,
    private readonly log: (m: string) => void,
  ) {}

  /**
   * Readings acknowledged before a restart but not in an anchored batch are anchored again; every
   * journaled entry is told again to the listeners that register (their work may not have finished).
   */
  recover(): void {
    const entries = this.journal.load();
    if (this.journal.unreadable)
      this.log(
        `telemetry: ${this.journal.unreadable} journal lines could not be read (sealed under another storage key, or damaged) and are not re-anchored; the journal as found is kept in ${this.journal.unreadableCopy}`,
      );
    const open: StoredReading[][] = [];
    for (const e of entries) {
      // The journal is the replay marks' log too (seq.json is written only before the journal is emptied).
      const last = e.readings[e.readings.length - 1].seq;
      if (last > this.seqs.get(e.thingId)) this.seqs.advance(e.thingId, last);
      open.push(e.readings.filter((r) => this.batches.find(e.thingId, r.seq)?.batch.status !== 'ANCHORED'));
    }
    this.seqs.flushSync(); // before the journal drops the settled entries that carried marks
    this.journal.startWith(entries); // whole entries: a set's leaves are recomputed from all its readings
    entries.forEach((e, i) => {
      const readings = open[i];
      this.recovered.push(this.track(e, readings));
      if (!readings.length) return;
      if (e.set) this.anchoring().openSet(e.thingId, e.set, readings.length);
      this.anchoring().enqueue(e.caller, e.thingId, readings, e.at);
    });
    if (this.unsettled)
      this.log(`telemetry: ${this.unsettled} acknowledged readings were not anchored before the last stop; anchoring them now`);
  }

  /** Journal an accepted request; its state, to tell the listeners with. */
  accept(entry: JournalEntry): EntryState {
    this.journal.append(entry);
    return this.track(entry, entry.readings);
  }

  /** Durable: the journal's fsync (shared by concurrent requests), else the seq store's. */
  durable(): Promise<void> {
    return this.journal.durable ? this.journal.flush() : this.seqs.flush();
  }

  /**
   * Be told of accepted readings (synchronously, after acceptance; a listener's failure is logged),
   * and at once of the readings journaled before the last stop. Returns the unsubscribe.
   */
  onAccepted(listener: ReadingsListener): () => void {
    this.listeners.add(listener);
    // What was journaled but maybe not told before the last stop (telling again must be harmless).
    for (const state of this.recovered) this.tellOne(listener, state);
    return () => this.listeners.delete(listener);
  }

  /** Journaled readings awaiting their batch's outcome. */
  private track(entry: JournalEntry, readings: StoredReading[]): EntryState {
    this.unsettled += readings.length;
    const state = { entry, open: readings.length };
    if (state.open) this.openEntries.add(state);
    for (const r of readings) this.entryOf.set(r, state);
    return state;
  }

  /** Tell the listeners of an entry's readings. */
  tell(state: EntryState): void {
    for (const l of this.listeners) this.tellOne(l, state);
  }

  /** The entry stays journaled until the listener's work resolves. */
  private tellOne(l: ReadingsListener, state: EntryState): void {
    const { thingId, readings } = state.entry;
    let work: void | Promise<void>;
    try {
      work = l(
        thingId,
        readings.map(({ seq, time, sensor, value }) => ({ seq, time, sensor, value })),
      );
    } catch (e) {
      this.log(`telemetry: a readings listener failed: ${(e as Error).message}`);
      return;
    }
    if (!work) return;
    if (state.open++ === 0) this.openEntries.add(state);
    this.unsettled++;
    work.then(
      () => this.release([state]),
      (e: unknown) => this.log(`telemetry: a readings listener did not finish (kept for the next start): ${(e as Error)?.message}`),
    );
  }

  /** A batch is anchored or refused for good. */
  settled(batch: Batch): void {
    this.release(batch.readings.map((r) => this.entryOf.get(r)));
  }

  /**
   * One unit of work done per state (a reading settled, a listener finished); once nothing
   * journaled is open, the journal starts empty — and while a stream never lets that happen, it
   * is compacted to its open entries.
   */
  private release(states: (EntryState | undefined)[]): void {
    this.unsettled -= states.length;
    for (const state of states) if (state && --state.open <= 0) this.openEntries.delete(state);
    if (this.unsettled > 0 && this.journal.oversized && !this.compacting) {
      this.compacting = true;
      void Promise.all([this.seqs.flush(), this.batches.sync()])
        .then(() => this.journal.compact(() => [...this.openEntries].map((s) => s.entry)))
        .catch((e: unknown) => this.log(`telemetry: compacting the journal failed: ${(e as Error).message}`))
        .finally(() => (this.compacting = false));
    }
    if (this.unsettled <= 0 && this.anchoring().pendingCount === 0) {
      this.unsettled = 0;
      // The marks go to seq.json and the anchored batches to disk first: the journal entries about to be dropped were their only durable copy.
      void Promise.all([this.seqs.flush(), this.batches.sync()])
        .then(() => (this.unsettled === 0 && this.anchoring().pendingCount === 0 ? this.journal.reset() : undefined))
        .catch((e: unknown) => this.log(`telemetry: emptying the journal failed: ${(e as Error).message}`));
    }
  }
}
