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
}

/**
 * Emitted calls by join key, for exactly-once: bounded by a time window and an entry count (oldest
 * evicted first, in insertion order). It lives in memory only: after a restart, a call re-sent or
 * reported by its second source is emitted again (README, "Exactly once").
 */
export class JoinIndex {
  private readonly entries = new Set<IndexEntry>();
  private readonly byKey = new Map<string, IndexEntry>();
  evictions = 0;

  constructor(private readonly windowMs: number, private readonly maxEntries: number) {}

  get size(): number { return this.entries.size; }

  /** The entry any of `keys` points to, and the key that matched. */
  find(keys: readonly string[]): { entry: IndexEntry; key: string } | undefined {
    for (const k of keys) {
      const entry = this.byKey.get(k);
      if (entry !== undefined) return { entry, key: k };
    }
    return undefined;
  }

  add(record: LlmCall, shape: Shape, keys: string[], now: number, billed: boolean, batch: number, position: number): IndexEntry {
    const entry: IndexEntry = { record, shapes: [shape], keys: [], expiresAt: now + this.windowMs, billed, splitKnown: false, batch, position };
    this.entries.add(entry);
    this.addKeys(entry, keys);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.values().next().value;
      if (oldest !== undefined) this.remove(oldest);
    }
    return entry;
  }

  addKeys(entry: IndexEntry, keys: readonly string[]): void {
    for (const k of keys) {
      if (entry.keys.includes(k)) continue;
      entry.keys.push(k);
      this.byKey.set(k, entry);
    }
  }

  /** Drops entries whose window has passed (insertion order is expiry order: the window is fixed). */
  expire(now: number): void {
    for (const e of this.entries) {
      if (e.expiresAt > now) break;
      this.remove(e);
    }
  }

  private remove(e: IndexEntry): void {
    this.entries.delete(e);
    for (const k of e.keys) if (this.byKey.get(k) === e) this.byKey.delete(k);
    this.evictions++;
  }
}
