import type { LlmCall } from '../../core/llm-call.js';
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
  /** Batch sequence and position when first emitted, so a join within the same batch replaces it in place. */
  batch: number;
  position: number;
  /** Link-only reports after the first, merged into the record once a billable report arrives. */
  pending: LlmCall[];
  /** The session group holding the entry, if any, and the session it is held under. */
  group: SessionGroup | null;
  groupSession: string;
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
 * Reports seen, by join key and by record key (record-key.ts), for exactly-once: emitted calls, links
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

  add(record: LlmCall, shape: Shape, keys: string[], now: number, billed: boolean, batch: number, position: number): IndexEntry {
    const entry: IndexEntry = { record, shapes: [shape], keys: [], expiresAt: now + this.windowMs, billed, splitKnown: false, batch, position, pending: [], group: null, groupSession: '' };
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

  /**
   * Puts back an entry read from a shared store (join-store-redis.ts). Only `ownedKeys`, the keys the
   * store says lead to it, are looked up to it: another of its keys may since lead to the call that absorbed it.
   */
  restore(entry: IndexEntry, ownedKeys: readonly string[]): void {
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

  /** Drops entries whose window has passed (insertion order is expiry order: the window is fixed). */
  expire(now: number): void {
    for (let e = this.queue[this.head]; e !== undefined && e.expiresAt <= now; e = this.queue[this.head]) this.removeOldest();
  }

  private removeOldest(): void {
    const e = this.queue[this.head];
    if (e === undefined) return;
    this.queue[this.head] = undefined;
    this.head++;
    this.live--;
    for (const k of e.keys) if (this.byKey.get(k) === e) this.byKey.delete(k);
    e.group?.remove(e);
    this.evictions++;
    this.onEvict(e);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
