import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { parseDuration } from '../../core/config/duration.js';
import { RetryableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RedisStoreConfig } from './config.js';
import { JoinIndex, type IndexEntry } from './join-index.js';
import { groupKey, restoreEntry, storedEntry, type StoredEntry } from './join-entry.js';
import type { JoinLookup, JoinStore, JoinTxn } from './join-store.js';
import { DEMOTE, LOAD, RESOLVE, SAVE, type Script } from './join-store-scripts.js';
import { isRecordKey } from './join-keys.js';


/** An entry as LOAD returned it: its id, JSON, the keys that led to it, its session group ('sl:S', 'sc:S' or ''). */
interface Loaded {
  id: string;
  data: string;
  owned: string[];
  group: string;
}

/** One entry as SAVE writes it, with what it replaced (for RESOLVE): '' where nothing was. */
interface Write {
  id: string;
  data: string;
  prev: string;
  exp: number;
  keys: string[];
  prevKeys: string[];
  add: string;
  rem: string;
}

/**
 * The join state of every replica in one Redis (standalone, or a primary behind Sentinel; not
 * Redis Cluster: the scripts compute the keys they touch). A batch's claims and merges
 * are one LOAD and one SAVE script call, under locks that make them atomic across replicas; keys
 * expire after `window`. While Redis is unreachable every batch fails with a RetryableError
 * (the receivers answer 503 / UNAVAILABLE): nothing is billed blind, nothing is claimed.
 */
export class RedisJoinStore implements JoinStore {
  readonly needsLookup = true;
  private readonly client;
  private readonly prefix: string;
  private readonly windowMs: number;
  /** The config's durations, in ms. */
  private readonly timeoutMs: number;
  private readonly lockTtlMs: number;
  private readonly lockWaitMs: number;
  private down = false;
  /**
   * Batches to give up on (RESOLVE): `refused` by the exporters after their SAVE, or whose reply
   * was lost; `demote`, once RESOLVE ran, the entries later batches rewrote, still to be DEMOTEd.
   */
  private readonly doubts: { token: string; writes: Write[]; refused: boolean; demote?: Demote[] }[] = [];

  constructor(private readonly cfg: RedisStoreConfig, namespace: string, private readonly logger: Logger, private readonly onError: (op: string) => void) {
    this.prefix = `${cfg.key_prefix}:{${namespace}}:`;
    this.windowMs = parseDuration(cfg.window);
    this.timeoutMs = parseDuration(cfg.timeout);
    this.lockTtlMs = parseDuration(cfg.lock_ttl);
    this.lockWaitMs = parseDuration(cfg.lock_wait);
    this.client = createClient({
      url: cfg.url,
      // A command sent while disconnected fails at once instead of waiting for a reconnect.
      disableOfflineQueue: true,
      socket: { connectTimeout: this.timeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2000) },
    });
    this.client.on('error', (err: Error) => {
      if (this.down) return;
      this.down = true;
      this.logger.warn('join store: Redis unreachable; batches are refused (retryable) until it returns', { url: redactUrl(cfg.url), error: err.message });
    });
    this.client.on('ready', () => {
      if (this.down) this.logger.info('join store: Redis reachable again', { url: redactUrl(cfg.url) });
      this.down = false;
    });
  }

  /** Waits up to `timeout` for Redis: a pipeline starts while it is down, and refuses batches until it is up. */
  async start(): Promise<void> {
    const connected = this.client.connect().then(() => true, (err: Error) => {
      this.logger.warn('join store: connecting to Redis failed', { url: redactUrl(this.cfg.url), error: err.message });
      return false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), this.timeoutMs); });
    const ok = await Promise.race([connected, timeout]);
    clearTimeout(timer);
    if (!ok) this.logger.warn('join store: Redis not reachable yet; batches are refused (retryable) until it is', { url: redactUrl(this.cfg.url) });
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  size(): undefined { return undefined; }
  evictions(): number { return 0; }

  async begin(lookup: JoinLookup, _now: number): Promise<JoinTxn> {
    await this.resolveDoubts();
    const token = randomUUID();
    const index = new JoinIndex(this.windowMs, Number.POSITIVE_INFINITY);
    const loaded = new Map<IndexEntry, Loaded>();
    const keys = [...new Set(lookup.keys)];
    const sessions = [...new Set(lookup.sessions)];
    const deadline = Date.now() + this.lockWaitMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      const reply = await this.run('load', LOAD, token, [String(this.lockTtlMs), String(keys.length), ...keys, ...sessions], []) as unknown[];
      if (reply[0] === 1) {
        for (let i = 1; i + 2 < reply.length; i += 3) {
          const data = String(reply[i + 1]);
          const s = JSON.parse(data) as StoredEntry;
          const owned = (reply[i + 2] as unknown[]).map(String);
          const entry = restoreEntry(s, index, owned);
          loaded.set(entry, { id: String(reply[i]), data, owned, group: groupKey(s) });
        }
        break;
      }
      if (Date.now() >= deadline) {
        this.onError('busy');
        throw new RetryableError(`join store: the calls of this batch stayed locked by another batch for lock_wait ${this.cfg.lock_wait}`, 1);
      }
      await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
    }
    let saved: Write[] | undefined;
    return {
      index,
      commit: async () => { saved = await this.save(token, index, loaded); },
      abort: () => this.run('release', RESOLVE, token, [String(this.windowMs), '[]'], []).then(() => undefined),
      abandon: () => saved === undefined ? undefined : this.abandon(token, saved),
    };
  }

  /**
   * Takes back a saved batch the pipeline's exporters refused: it joins the batches in doubt and is
   * RESOLVEd at once, before the client hears of the refusal, so that its re-send (to this replica
   * or another) claims its calls again. An entry a later batch has rewritten since is kept for it,
   * without what this batch did (DEMOTE; README, "A batch the exporters refused"). If Redis fails,
   * the batch stays in doubt and this replica refuses batches until it is resolved.
   */
  private async abandon(token: string, writes: Write[]): Promise<void> {
    this.doubts.push({ token, writes, refused: true });
    try {
      await this.resolveDoubts();
    } catch (err) {
      this.logger.warn('join store: taking back a refused batch failed; retried before the next batch', { error: (err as Error).message });
    }
  }

  private async save(token: string, index: JoinIndex, loaded: Map<IndexEntry, Loaded>): Promise<Write[]> {
    const prevOwner = new Map<string, string>();
    for (const l of loaded.values()) for (const k of l.owned) prevOwner.set(k, l.id);
    const writes: Write[] = [];
    for (const e of index.entries()) {
      const before = loaded.get(e);
      const id = before?.id ?? randomUUID();
      const stored = storedEntry(e, index);
      const now = groupKey(stored);
      const was = before?.group ?? '';
      const keys = e.keys.filter((k) => index.owner(k) === e);
      writes.push({
        id, data: JSON.stringify(stored), prev: before?.data ?? '', exp: e.expiresAt, keys, prevKeys: keys.map((k) => prevOwner.get(k) ?? ''),
        add: now !== was ? now : '', rem: was !== '' && was !== now ? was : '',
      });
    }
    const ok = await this.run('save', SAVE, token, [String(this.windowMs), JSON.stringify(writes)], writes);
    if (ok !== 1) {
      this.onError('lock_lost');
      throw new RetryableError(`join store: this batch's locks expired (lock_ttl ${this.cfg.lock_ttl}) before it was saved; nothing written`, 1);
    }
    return writes;
  }

  /**
   * Batches whose last script may have run without this process hearing back: each is given up on
   * (RESOLVE) before any other batch begins, so the client's retry of a refused batch finds
   * nothing of it claimed. Until that succeeds every batch is refused.
   */
  private async resolveDoubts(): Promise<void> {
    while (this.doubts.length > 0) {
      const d = this.doubts[0];
      if (d.demote === undefined) {
        const undone = await this.run('resolve', RESOLVE, d.token, [String(this.windowMs), JSON.stringify(d.writes)], null);
        d.demote = Array.isArray(undone) ? demotions(d.writes, undone.slice(1).map(String)) : [];
        if (d.refused) this.logger.debug('join store: undid the save of a batch the exporters refused', { entries: d.writes.length, rewritten: d.demote.length });
        else if (Array.isArray(undone)) this.logger.warn('join store: undid the save of a refused batch whose reply was lost', { entries: d.writes.length });
      }
      if (d.demote.length > 0) await this.run('resolve', DEMOTE, d.token, [String(this.windowMs), JSON.stringify(d.demote)], null);
      const at = this.doubts.indexOf(d);
      if (at >= 0) this.doubts.splice(at, 1);
    }
  }


  /**
   * EVALSHA, loading the script on NOSCRIPT. Any failure is retryable: the batch was refused. A
   * failure after the command may have reached Redis leaves the batch in doubt (`undo`: what its
   * SAVE writes, [] for a LOAD, null for RESOLVE itself, which is retried as it stands).
   */
  private async run(op: string, script: Script, token: string, args: string[], undo: Write[] | null): Promise<unknown> {
    if (!this.client.isReady) {
      this.onError(op);
      throw new RetryableError(`join store: Redis at ${redactUrl(this.cfg.url)} is unreachable`, 1);
    }
    const argv = [this.prefix, token, ...args];
    const call = this.client.sendCommand(['EVALSHA', script.sha, '0', ...argv]).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.client.sendCommand(['EVAL', script.body, '0', ...argv]);
    });
    let timer: NodeJS.Timeout | undefined;
    // node-redis's own timeout covers only commands not yet written; a hung Redis must refuse too.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        call.catch((err: Error) => this.logger.debug('join store: a Redis command that had timed out failed', { op, error: err.message }));
        reject(new Error(`no reply within ${this.cfg.timeout}`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([call, late]);
    } catch (err) {
      if (undo !== null) this.doubts.push({ token, writes: undo, refused: false });
      this.onError(op);
      const msg = err instanceof Error ? err.message : String(err);
      this.logger.warn('join store: Redis command failed; batch refused (retryable)', { op, error: msg });
      throw new RetryableError(`join store: Redis ${op} failed: ${msg}`, 1, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** An entry to replace (DEMOTE) if it is still as RESOLVE `seen` it, and the session sets to move it between. */
interface Demote {
  id: string;
  seen: string;
  data: string;
  add: string;
  rem: string;
}

/**
 * Entries a given-up batch wrote that a later batch has rewritten since (RESOLVE's reply: id, data,
 * ...), as the in-memory store takes them back (JoinIndex.remove and revert): each keeps the later
 * batch's reports, loses the shapes and keys the given-up batch added (only its record keys if it
 * created the entry: the later batch found it by the others), and every other field
 * that batch changed goes back to its value before it unless a later batch has changed it too. An
 * entry the given-up batch created is unbilled if it billed it, so that its re-send bills it.
 */
function demotions(writes: readonly Write[], rewritten: readonly string[]): Demote[] {
  const byId = new Map(writes.map((w) => [w.id, w]));
  const out: Demote[] = [];
  for (let i = 0; i + 1 < rewritten.length; i += 2) {
    const w = byId.get(rewritten[i]);
    if (w === undefined) continue;
    const wrote = JSON.parse(w.data) as StoredEntry;
    const prev = w.prev === '' ? undefined : JSON.parse(w.prev) as StoredEntry;
    const now = JSON.parse(rewritten[i + 1]) as StoredEntry;
    const was = groupKey(now);
    now.shapes = now.shapes.filter((x) => !wrote.shapes.includes(x) || prev?.shapes.includes(x) === true);
    // The keys it added (if the entry existed before it), else its record keys: RESOLVE released them.
    const added = (k: string) => wrote.keys.includes(k) && prev?.keys.includes(k) !== true;
    now.keys = now.keys.filter((k) => !added(k) || (prev === undefined && !isRecordKey(k)));
    if (prev === undefined) {
      if (wrote.billed) now.billed = false;
    } else {
      const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
      const undone = (f: 'record' | 'billed' | 'splitKnown' | 'pending') => !same(prev[f], wrote[f]) && same(now[f], wrote[f]);
      if (undone('record')) now.record = prev.record;
      if (undone('billed')) now.billed = prev.billed;
      if (undone('splitKnown')) now.splitKnown = prev.splitKnown;
      if (undone('pending')) now.pending = prev.pending;
      if (groupKey(prev) !== groupKey(wrote) && groupKey(now) === groupKey(wrote)) {
        now.group = prev.group;
        now.session = prev.session;
      }
    }
    const group = groupKey(now);
    out.push({ id: w.id, seen: rewritten[i + 1], data: JSON.stringify(now), add: group !== was ? group : '', rem: was !== '' && was !== group ? was : '' });
  }
  return out;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
