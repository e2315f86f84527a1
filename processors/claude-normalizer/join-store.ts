import { JoinIndex, type IndexEntry } from './join-index.js';

/** What one batch's reports may look up: their join and record keys, and the sessions of their calls. */
export interface JoinLookup {
  keys: string[];
  sessions: string[];
}

/**
 * One batch's view of the join state: `index` holds every entry the batch's lookup leads to, and
 * no other batch (of this process or another replica) changes them until commit() or abort().
 * commit() and abort() return undefined when they complete synchronously (the in-memory store).
 */
export interface JoinTxn {
  readonly index: JoinIndex;
  commit(): Promise<void> | undefined;
  abort(): Promise<void> | undefined;
}

/**
 * Where the normalizer's exactly-once state lives: in this process (MemoryJoinStore), or shared by
 * every replica (RedisJoinStore, join-store-redis.ts). begin() is the one place a batch waits for it.
 */
export interface JoinStore {
  /** Whether begin() needs the batch's lookup (a shared store fetches only what the batch touches). */
  readonly needsLookup: boolean;
  begin(lookup: JoinLookup, now: number): JoinTxn | Promise<JoinTxn>;
  /** Calls held, when the store knows without a round trip. */
  size(): number | undefined;
  evictions(): number;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The single-process store: one index for the process's lifetime, bounded by a window and an entry
 * count (join-index.ts). Batches run to completion one at a time (process() is synchronous), so
 * a transaction is the index itself.
 */
export class MemoryJoinStore implements JoinStore {
  readonly needsLookup = false;
  private readonly index: JoinIndex;
  private readonly txn: JoinTxn;

  constructor(windowMs: number, maxEntries: number, onEvict: (e: IndexEntry) => void) {
    this.index = new JoinIndex(windowMs, maxEntries, onEvict);
    const done = () => undefined;
    this.txn = { index: this.index, commit: done, abort: done };
  }

  begin(_lookup: JoinLookup, now: number): JoinTxn {
    this.index.expire(now);
    return this.txn;
  }

  size(): number { return this.index.size; }
  evictions(): number { return this.index.evictions; }
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}
