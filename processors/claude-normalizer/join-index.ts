import type { LlmCall } from '../../core/llm-call.js';
import { isRecordKey } from './join-keys.js';
import type { Shape } from './types.js';

export interface IndexEntry {
  /** The record as last emitted (original or merged update); never mutated once emitted. */
  record: LlmCall;
  /** Shapes that reported this call: a second report of a shape already seen is a re-send. */
  shapes: Shape[];
  keys: string[];
  expiresAt: number;
  /** False while only link-only reports (Claude Code spans) know the call: nothing was emitted yet. */
  billed: boolean;
  /** Whether the record's 5m/1h cache-write split came from a source that knew it. */
  splitKnown: boolean;
  /**
   * The ingest version of the record last emitted for the call (0: none yet), which row stores keep
   * the newest of (ClickHouse's ReplacingMergeTree): stamped under the store's lock, so that a later
   * record of the call outranks an earlier one whichever replica, clock or exporter queue each went
   * through. Never taken back with a refused batch: versions only rise.
   */
  version: number;
  /** Batch sequence and position when first emitted, so a join within the same batch replaces it in place. */
  batch: number;
  position: number;
  /** Link-only reports after the first, merged into the record once a billable report arrives. */
  pending: LlmCall[];
  /** The session group holding the entry, if any, and the session it is held under. */
  group: SessionGroup | null;
  groupSession: string;
  /** Position in the index's insertion order, so that an entry can be taken back out (JoinIndex.remove). */
  slot: number;
}

/** The fields of an entry a batch may change, copied: what JoinIndex.revert puts back. */
export type EntryState = Pick<IndexEntry, 'record' | 'shapes' | 'keys' | 'billed' | 'splitKnown' | 'batch' | 'position' | 'pending' | 'group' | 'groupSession'>;

export function entryState(e: IndexEntry): EntryState {
  return {
    record: e.record, shapes: [...e.shapes], keys: [...e.keys], billed: e.billed, splitKnown: e.splitKnown,
    batch: e.batch, position: e.position, pending: [...e.pending], group: e.group, groupSession: e.groupSession,
  };
}

/** One batch's changes to an entry that existed before it: its state before the batch and after it. */
export interface EntryChange {
  entry: IndexEntry;
  before: EntryState;
  after: EntryState;
}

/**
 * Entries by session id, for reports of one call that share no id and no tokens: a gateway span
 * without usage (LiteLLM 1.80 streamed `/anthropic`) and the client's report of the call.
 */
export class SessionGroup {
  private readonly bySession = new Map<string, IndexEntry[]>();

  add(e: IndexEntry): void {
    const session = e.record.session_id;
    const list = this.bySession.get(session);
    if (list === undefined) this.bySession.set(session, [e]);
    else list.push(e);
    e.group = this;
    e.groupSession = session;
  }

  get(session: string): readonly IndexEntry[] {
    return this.bySession.get(session) ?? [];
  }

  remove(e: IndexEntry): void {
    if (e.group !== this) return;
    e.group = null;
    const list = this.bySession.get(e.groupSession);
    if (list === undefined) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bySession.delete(e.groupSession);
  }
}

/**
 * Reports seen, by join key and by record key (join-keys.ts), for exactly-once: emitted calls, links
 * waiting for a billable report, and records only counted. Bounded by a time window and an entry count (oldest
 * evicted first, in insertion order). The in-memory store keeps one for the process's lifetime (after
 * a restart, a call re-sent or reported by its second source is emitted again: README, "Exactly
 * once"); the Redis store fills one per batch with what the batch's keys lead to (join-store.ts).
 */
export class JoinIndex {
  /**
   * Entries in insertion (= expiry) order: an array with a moving head, compacted now and then.
   * A Set would do, but V8 walks the deleted slots at its head on every `values().next()`.
   */
  private queue: (IndexEntry | undefined)[] = [];
  private head = 0;
  /** Slot of queue[0]: slots count every entry ever added, so they survive compaction. */
  private base = 0;
  private live = 0;
  private readonly byKey = new Map<string, IndexEntry>();
  evictions = 0;
  /** Usage-less gateway links waiting for the client's report of their call. */
  readonly links = new SessionGroup();
  /** Billed client (Claude Code) calls no gateway report has joined yet. */
  readonly clientCalls = new SessionGroup();

  /** `onEvict` sees every entry leaving the index (window passed or bound reached). */
  constructor(private readonly windowMs: number, private readonly maxEntries: number, private readonly onEvict: (e: IndexEntry) => void = () => {}) {}

  get size(): number { return this.live; }

  /** The entry any of `keys` points to, and the key that matched. */
  find(keys: readonly string[]): { entry: IndexEntry; key: string } | undefined {
    for (const k of keys) {
      const entry = this.byKey.get(k);
      if (entry !== undefined) return { entry, key: k };
    }
    return undefined;
  }

  add(record: LlmCall, shape: Shape, keys: string[], now: number, billed: boolean, batch: number, position: number, splitKnown = false): IndexEntry {
    const entry: IndexEntry = {
      record, shapes: [shape], keys: [], expiresAt: now + this.windowMs, billed, splitKnown, version: 0, batch, position, pending: [], group: null, groupSession: '',
      slot: this.base + this.queue.length,
    };
    this.queue.push(entry);
    this.live++;
    this.addKeys(entry, keys);
    if (this.live > this.maxEntries) this.removeOldest();
    return entry;
  }

  addKeys(entry: IndexEntry, keys: readonly string[]): void {
    for (const k of keys) {
      if (entry.keys.includes(k)) continue;
      entry.keys.push(k);
      this.byKey.set(k, entry);
    }
  }

  /** Another shape has reported the entry's call. */
  addShape(entry: IndexEntry, shape: Shape): void {
    if (!entry.shapes.includes(shape)) entry.shapes.push(shape);
  }

  /** A link-only report of a call not billed yet: merged into its record once a billable report arrives (bill). */
  hold(entry: IndexEntry, call: LlmCall): void {
    entry.pending.push(call);
  }

  /** The call is billed: `record` (its links' reports merged in) is emitted at `position` of batch `batch`. */
  bill(entry: IndexEntry, record: LlmCall, splitKnown: boolean, batch: number, position: number): void {
    entry.pending = [];
    entry.record = record;
    entry.billed = true;
    entry.splitKnown = splitKnown;
    entry.batch = batch;
    entry.position = position;
  }

  /**
   * The version of a record of the entry's call emitted at `now` (ms): the time in µs, or one more
   * than the last version when that is later (another replica's clock ahead, or the same millisecond).
   */
  stamp(entry: IndexEntry, now: number): number {
    entry.version = Math.max(now * 1000, entry.version + 1);
    return entry.version;
  }

  /** A join enriched the call: `record` is emitted for it now; `splitKnown` when it brought the 5m/1h split. */
  replace(entry: IndexEntry, record: LlmCall, splitKnown: boolean): void {
    entry.record = record;
    if (splitKnown) entry.splitKnown = true;
  }

  /**
   * A usage-less gateway link joined the client's call `entry`: its keys and shapes lead there now,
   * and it does not count as an unjoined link when it leaves the index.
   */
  absorb(entry: IndexEntry, link: IndexEntry): void {
    this.links.remove(link);
    this.addKeys(entry, link.keys);
    for (const shape of link.shapes) this.addShape(entry, shape);
    link.billed = true;
  }

  /**
   * Puts back an entry read from a shared store (join-store-redis.ts). Only `ownedKeys`, the keys the
   * store says lead to it, are looked up to it: another of its keys may since lead to the call that absorbed it.
   */
  restore(entry: IndexEntry, ownedKeys: readonly string[]): void {
    entry.slot = this.base + this.queue.length;
    this.queue.push(entry);
    this.live++;
    for (const k of ownedKeys) this.byKey.set(k, entry);
  }

  /** The entry `key` leads to. */
  owner(key: string): IndexEntry | undefined {
    return this.byKey.get(key);
  }

  /** Every entry held, oldest first. */
  *entries(): Iterable<IndexEntry> {
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e !== undefined) yield e;
    }
  }

  /**
   * Takes back an entry a refused batch added, `end` its state when that batch ended. Unless a later
   * batch has joined it since, it goes as if never reported (not an eviction): keys, session group,
   * slot, so that the client's re-send is a new report again. If one has, that batch's reports still
   * lead to it: it keeps its keys and record, loses the refused batch's shapes, and is unbilled if
   * the refused batch billed it, so that the re-send bills it (with what the later batch merged);
   * the refused batch's record keys go, or its re-sent records would be dropped as seen.
   */
  remove(e: IndexEntry, end: EntryState): void {
    if (!this.holds(e)) return; // already evicted
    if (e.record !== end.record || e.billed !== end.billed || !sameItems(e.keys, end.keys) || !sameItems(e.shapes, end.shapes)) {
      e.shapes = e.shapes.filter((s) => !end.shapes.includes(s));
      const records = new Set(end.keys.filter(isRecordKey));
      for (const k of records) if (this.byKey.get(k) === e) this.byKey.delete(k);
      e.keys = e.keys.filter((k) => !records.has(k));
      if (end.billed) e.billed = false;
      return;
    }
    this.queue[e.slot - this.base] = undefined;
    this.live--;
    this.unlink(e);
  }

  /**
   * Takes back what refused batches changed in entries that existed before them: keys and shapes
   * they added go, and each other field a batch changed returns to its value before the batch unless
   * a later batch has changed it since. Field by field, so that batches in flight together can be
   * taken back in any order: the one refused first does not restore what a later one left, nor the
   * later one re-apply what the first took back (a call it billed is unbilled, whatever merged into
   * it since). Keys are released first, then the earlier keys re-pointed, so that keys a batch moved
   * from one entry to another (a link absorbed) return to their first owner.
   */
  revert(changes: readonly EntryChange[]): void {
    for (const { entry: e, before, after } of changes) {
      if (!this.holds(e)) continue; // taken back or evicted since: nothing of it is left to restore
      const addedKeys = new Set(after.keys.filter((k) => !before.keys.includes(k)));
      for (const k of addedKeys) if (this.byKey.get(k) === e) this.byKey.delete(k);
      e.keys = e.keys.filter((k) => !addedKeys.has(k));
      e.shapes = e.shapes.filter((s) => before.shapes.includes(s) || !after.shapes.includes(s));
      if (undone(e.record, before.record, after.record)) e.record = before.record;
      if (undone(e.billed, before.billed, after.billed)) e.billed = before.billed;
      if (undone(e.splitKnown, before.splitKnown, after.splitKnown)) e.splitKnown = before.splitKnown;
      if (undone(e.batch, before.batch, after.batch)) e.batch = before.batch;
      if (undone(e.position, before.position, after.position)) e.position = before.position;
      if (undone(e.pending, before.pending, after.pending, sameItems)) e.pending = [...before.pending];
      if (undone(e.group, before.group, after.group)) {
        e.group?.remove(e);
        before.group?.add(e);
      }
    }
    for (const { entry: e, before } of changes) {
      if (!this.holds(e)) continue;
      // Not the keys remove() took from it since: the record keys of a batch already taken back.
      for (const k of before.keys) if (!this.byKey.has(k) && e.keys.includes(k)) this.byKey.set(k, e);
    }
  }

  /** Drops entries whose window has passed (insertion order is expiry order: the window is fixed). */
  expire(now: number): void {
    for (let e = this.oldest(); e !== undefined && e.expiresAt <= now; e = this.oldest()) this.removeOldest();
  }

  private holds(e: IndexEntry): boolean {
    const i = e.slot - this.base;
    return i >= this.head && this.queue[i] === e;
  }

  /** The oldest entry, past the slots that removed entries left empty. */
  private oldest(): IndexEntry | undefined {
    while (this.head < this.queue.length && this.queue[this.head] === undefined) this.head++;
    return this.queue[this.head];
  }

  private removeOldest(): void {
    const e = this.oldest();
    if (e === undefined) return;
    this.queue[this.head] = undefined;
    this.head++;
    this.live--;
    this.unlink(e);
    this.evictions++;
    this.onEvict(e);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }

  private unlink(e: IndexEntry): void {
    for (const k of e.keys) if (this.byKey.get(k) === e) this.byKey.delete(k);
    e.group?.remove(e);
  }
}

/** Whether a batch changed a field from `before` to `after` and nothing has changed it since. */
function undone<T>(now: T, before: T, after: T, same: (x: T, y: T) => boolean = Object.is): boolean {
  return !same(before, after) && same(now, after);
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
