import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { restoreEntry, storedEntry, type StoredEntry } from './join-entry.js';
import { JoinIndex, type IndexEntry } from './join-index.js';
import type { UndoLog } from './undo-log.js';

/** What one batch's reports may look up: their join and record keys, and the sessions of their calls. */
export interface JoinLookup {
  keys: string[];
  sessions: string[];
}

/**
 * One batch's view of the join state: `index` holds every entry the batch's lookup leads to, and
 * no other batch (of this process or another replica) changes them until commit() or abort().
 * After commit(), abandon() takes the batch back when the pipeline's exporters refused it (the
 * client re-sends it): `undo` is what the batch changed in `index`. Each returns undefined when it
 * completes synchronously (the in-memory store); abandon() never rejects.
 */
export interface JoinTxn {
  readonly index: JoinIndex;
  commit(): Promise<void> | undefined;
  abort(): Promise<void> | undefined;
  abandon(undo: UndoLog): Promise<void> | undefined;
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

/** Where and how often the in-memory store writes its index (`dedupe.snapshot`), so that a restart keeps it. */
export interface SnapshotOptions {
  file: string;
  intervalMs: number;
  logger: Logger;
  onError: (op: string) => void;
}

/**
 * The single-process store: one index for the process's lifetime, bounded by a window and an entry
 * count (join-index.ts). Batches run to completion one at a time (process() is synchronous), so
 * a transaction is the index itself, and abandoning one takes back what its undo log recorded.
 * With a snapshot file, the index is written there every
 * interval and at shutdown, and read back at start: a restart forgets at most one interval.
 */
export class MemoryJoinStore implements JoinStore {
  readonly needsLookup = false;
  private readonly index: JoinIndex;
  private readonly txn: JoinTxn;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;

  constructor(windowMs: number, maxEntries: number, onEvict: (e: IndexEntry) => void, private readonly clock: () => number = Date.now, private readonly snapshot?: SnapshotOptions) {
    this.index = new JoinIndex(windowMs, maxEntries, onEvict);
    const done = () => undefined;
    this.txn = { index: this.index, commit: done, abort: done, abandon: (undo) => this.abandon(undo) };
  }

  begin(_lookup: JoinLookup, now: number): JoinTxn {
    this.index.expire(now);
    return this.txn;
  }

  size(): number { return this.index.size; }
  evictions(): number { return this.index.evictions; }

  /**
   * Takes a refused batch back from the index: entries it added, newest first, then what it changed
   * in older ones, field by field (JoinIndex.remove and revert), so that batches in flight together
   * can be taken back in any order.
   */
  private abandon(undo: UndoLog): undefined {
    for (const { entry, end } of undo.addedEntries) this.index.remove(entry, end);
    this.index.revert(undo.entryChanges);
    return undefined;
  }

  async start(): Promise<void> {
    const snap = this.snapshot;
    if (snap === undefined) return;
    const t0 = performance.now();
    let text: string;
    try {
      text = await readFile(snap.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`join index snapshot ${snap.file}: ${(err as Error).message}`, { cause: err });
      text = '';
    }
    const now = this.clock();
    let restored = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const { entry, owned } = JSON.parse(line) as { entry: StoredEntry; owned: string[] };
      if (entry.expiresAt <= now) continue;
      restoreEntry(entry, this.index, owned);
      restored++;
    }
    if (text !== '') snap.logger.info('join index restored from its snapshot', { file: snap.file, entries: restored, ms: Math.round(performance.now() - t0) });
    this.timer = setInterval(() => void this.save(), snap.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.saving;
    if (this.snapshot !== undefined) await this.save();
  }

  /** Writes the live entries, oldest first, to a temporary file then renames it: a crash leaves the previous snapshot whole. */
  private save(): Promise<void> {
    const snap = this.snapshot;
    if (snap === undefined || this.saving !== undefined) return this.saving ?? Promise.resolve();
    const now = this.clock();
    const lines: string[] = [];
    for (const e of this.index.entries()) {
      if (e.expiresAt <= now) continue;
      lines.push(JSON.stringify({ entry: storedEntry(e, this.index), owned: e.keys.filter((k) => this.index.owner(k) === e) }));
    }
    const tmp = `${snap.file}.tmp`;
    this.saving = (async () => {
      await mkdir(dirname(snap.file), { recursive: true });
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, snap.file);
    })().catch((err: Error) => {
      snap.onError('snapshot');
      snap.logger.warn('join index snapshot failed; a restart now would forget more', { file: snap.file, error: err.message });
    }).finally(() => { this.saving = undefined; });
    return this.saving;
  }
}
