import type { SeriesChange } from './cumulative.js';
import { entryState, type EntryChange, type EntryState, type IndexEntry } from './join-index.js';

/**
 * What one batch changed in the normalizer's state, kept until its pipeline's exporters accept it:
 * if they refuse it (retry later), the client re-sends the same telemetry, which must then count as
 * new (processor `abandon`, README "A batch the exporters refused"). The entries are those of the
 * transaction's index: the in-memory store takes them back from its index (MemoryJoinStore); the
 * Redis store undoes its SAVE instead.
 */
export class UndoLog {
  /** Index entries the batch added, in order. */
  private readonly created: IndexEntry[] = [];
  private readonly createdSet = new Set<IndexEntry>();
  /** Each added entry as the batch left it. */
  private createdEnd: { entry: IndexEntry; end: EntryState }[] = [];
  /** Entries that existed before the batch, with their state before it was first changed. */
  private readonly touched = new Map<IndexEntry, EntryState>();
  private changes: EntryChange[] = [];
  /** Cumulative metric points the batch moved its series to. */
  readonly series: SeriesChange[] = [];
  /** Record keys whose Claude Code tokens or recovered LiteLLM span the batch counted. */
  readonly counted: string[] = [];

  get empty(): boolean {
    return this.created.length === 0 && this.touched.size === 0 && this.series.length === 0;
  }

  add(e: IndexEntry): void {
    this.created.push(e);
    this.createdSet.add(e);
  }

  /** Call before changing an entry found in the index; the first call per entry keeps its state before the batch. */
  touch(e: IndexEntry): void {
    if (!this.createdSet.has(e) && !this.touched.has(e)) this.touched.set(e, entryState(e));
  }

  /** At the end of the batch: each touched entry's state after it, so that a revert takes back only what this batch did. */
  seal(): void {
    this.createdEnd = this.created.map((entry) => ({ entry, end: entryState(entry) })).reverse();
    this.changes = [...this.touched].map(([entry, before]) => ({ entry, before, after: entryState(entry) }));
  }

  /** Entries the batch added, newest first, with their state when it ended. */
  get addedEntries(): readonly { entry: IndexEntry; end: EntryState }[] {
    return this.createdEnd;
  }

  get entryChanges(): readonly EntryChange[] {
    return this.changes;
  }
}
