import { createHash, randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { LlmCall } from '../../core/llm-call.js';
import { RetryableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RedisStoreConfig } from './config.js';
import { JoinIndex, type IndexEntry } from './join-index.js';
import type { JoinLookup, JoinStore, JoinTxn } from './join-store.js';
import type { Shape } from './types.js';


/**
 * Locks what one batch's keys and sessions lead to (the keys, the sessions' waiting links and client
 * calls, and the entries they point to), all or nothing, and returns those entries with the keys
 * that point to each. {0} when another batch holds any of them. The locks taken are listed under the
 * batch's token for commit and abort. One round trip per batch, whatever its size.
 * ARGV: prefix, token, lock ttl ms, number of keys, keys..., sessions...
 */
const LOAD = `
local p, token, ttl, nk = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local ids, idlist, owned, locks = {}, {}, {}, {}
local function add(id)
  if id and not ids[id] then ids[id] = true; idlist[#idlist + 1] = id; owned[id] = {} end
end
for i = 5, 4 + nk do
  locks[#locks + 1] = 'k:' .. ARGV[i]
  local id = redis.call('GET', p .. 'k:' .. ARGV[i])
  if id then add(id); table.insert(owned[id], ARGV[i]) end
end
for i = 5 + nk, #ARGV do
  locks[#locks + 1] = 's:' .. ARGV[i]
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'sl:' .. ARGV[i])) do add(id) end
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'sc:' .. ARGV[i])) do add(id) end
end
for _, id in ipairs(idlist) do locks[#locks + 1] = 'e:' .. id end
for _, l in ipairs(locks) do
  local holder = redis.call('GET', p .. 'l:' .. l)
  if holder and holder ~= token then return {0} end
end
local held = p .. 't:' .. token
for _, l in ipairs(locks) do
  redis.call('SET', p .. 'l:' .. l, token, 'PX', ttl)
  redis.call('RPUSH', held, l)
end
redis.call('PEXPIRE', held, ttl)
local out = {1}
for _, id in ipairs(idlist) do
  local e = redis.call('GET', p .. 'e:' .. id)
  if e then
    out[#out + 1] = id
    out[#out + 1] = e
    out[#out + 1] = owned[id]
  end
end
return out
`;

/**
 * Writes a batch's entries, the keys that lead to them and their session memberships, then releases
 * its locks — only if it still holds every one (a lock that expired may have let another batch in:
 * then nothing is written and the batch is retried). ARGV: prefix, token, session ttl ms, JSON writes.
 */
const SAVE = `
local p, token, sttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local held = redis.call('LRANGE', p .. 't:' .. token, 0, -1)
if #held == 0 then return 0 end
for _, l in ipairs(held) do
  if redis.call('GET', p .. 'l:' .. l) ~= token then return 0 end
end
for _, e in ipairs(cjson.decode(ARGV[4])) do
  redis.call('SET', p .. 'e:' .. e.id, e.data, 'PXAT', e.exp)
  for _, k in ipairs(e.keys) do redis.call('SET', p .. 'k:' .. k, e.id, 'PXAT', e.exp) end
  if e.rem ~= '' then redis.call('SREM', p .. e.rem, e.id) end
  if e.add ~= '' then redis.call('SADD', p .. e.add, e.id); redis.call('PEXPIRE', p .. e.add, sttl) end
end
for _, l in ipairs(held) do redis.call('DEL', p .. 'l:' .. l) end
redis.call('DEL', p .. 't:' .. token)
return 1
`;

/** Releases a batch's locks without writing. ARGV: prefix, token. */
const RELEASE = `
local p, token = ARGV[1], ARGV[2]
for _, l in ipairs(redis.call('LRANGE', p .. 't:' .. token, 0, -1)) do
  if redis.call('GET', p .. 'l:' .. l) == token then redis.call('DEL', p .. 'l:' .. l) end
end
redis.call('DEL', p .. 't:' .. token)
return 1
`;

/** An index entry as stored: everything but the batch-local fields (position, group objects). */
interface StoredEntry {
  record: LlmCall;
  shapes: Shape[];
  keys: string[];
  expiresAt: number;
  billed: boolean;
  splitKnown: boolean;
  pending: LlmCall[];
  /** 'sl' (usage-less gateway links) or 'sc' (client calls awaiting the gateway) and its session, or ''. */
  group: '' | 'sl' | 'sc';
  session: string;
}

class Script {
  readonly sha: string;
  constructor(readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }
}

const SCRIPTS = { load: new Script(LOAD), save: new Script(SAVE), release: new Script(RELEASE) };

/**
 * The join state of every replica in one Redis (standalone or behind Sentinel: the scripts touch
 * keys they compute, so all of a namespace's keys carry one hash tag). A batch's claims and merges
 * are one LOAD and one SAVE script call, under locks that make them atomic across replicas; keys
 * expire after `window_seconds`. While Redis is unreachable every batch fails with a RetryableError
 * (the receivers answer 503 / UNAVAILABLE): nothing is billed blind, nothing is claimed.
 */
export class RedisJoinStore implements JoinStore {
  readonly needsLookup = true;
  private readonly client;
  private readonly prefix: string;
  private readonly windowMs: number;
  private down = false;

  constructor(private readonly cfg: RedisStoreConfig, namespace: string, private readonly logger: Logger, private readonly onError: (op: string) => void) {
    this.prefix = `${cfg.key_prefix}:{${namespace}}:`;
    this.windowMs = cfg.window_seconds * 1000;
    this.client = createClient({
      url: cfg.url,
      // A command sent while disconnected fails at once instead of waiting for a reconnect.
      disableOfflineQueue: true,
      socket: { connectTimeout: cfg.timeout_ms, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2000) },
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

  /** Waits up to timeout_ms for Redis: a pipeline starts while it is down, and refuses batches until it is up. */
  async start(): Promise<void> {
    const connected = this.client.connect().then(() => true, (err: Error) => {
      this.logger.warn('join store: connecting to Redis failed', { url: redactUrl(this.cfg.url), error: err.message });
      return false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), this.cfg.timeout_ms); });
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
    const token = randomUUID();
    const index = new JoinIndex(this.windowMs, Number.POSITIVE_INFINITY);
    const loaded = new Map<IndexEntry, { id: string; group: string }>();
    const keys = [...new Set(lookup.keys)];
    const sessions = [...new Set(lookup.sessions)];
    const deadline = Date.now() + this.cfg.lock_wait_ms;
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      const reply = await this.run('load', SCRIPTS.load, [this.prefix, token, String(this.cfg.lock_ttl_ms), String(keys.length), ...keys, ...sessions]) as unknown[];
      if (reply[0] === 1) {
        for (let i = 1; i + 2 < reply.length; i += 3) {
          const id = String(reply[i]);
          const s = JSON.parse(String(reply[i + 1])) as StoredEntry;
          const owned = (reply[i + 2] as unknown[]).map(String);
          const entry: IndexEntry = {
            record: s.record, shapes: s.shapes, keys: s.keys, expiresAt: s.expiresAt, billed: s.billed, splitKnown: s.splitKnown,
            batch: -1, position: -1, pending: s.pending, group: null, groupSession: '',
          };
          index.restore(entry, owned);
          if (s.group === 'sl') index.links.add(entry);
          else if (s.group === 'sc') index.clientCalls.add(entry);
          loaded.set(entry, { id, group: s.group === '' ? '' : `${s.group}:${s.session}` });
        }
        break;
      }
      if (Date.now() >= deadline) {
        this.onError('busy');
        throw new RetryableError(`join store: the calls of this batch stayed locked by another batch for ${this.cfg.lock_wait_ms} ms`, 1);
      }
      await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
    }
    return {
      index,
      commit: () => this.save(token, index, loaded),
      abort: () => this.release(token),
    };
  }

  private async save(token: string, index: JoinIndex, loaded: Map<IndexEntry, { id: string; group: string }>): Promise<void> {
    const writes: { id: string; data: string; exp: number; keys: string[]; add: string; rem: string }[] = [];
    for (const e of index.entries()) {
      const before = loaded.get(e);
      const id = before?.id ?? randomUUID();
      const group = e.group === index.links ? 'sl' : e.group === index.clientCalls ? 'sc' : '';
      const now = group === '' ? '' : `${group}:${e.groupSession}`;
      const stored: StoredEntry = {
        record: e.record, shapes: e.shapes, keys: e.keys, expiresAt: e.expiresAt, billed: e.billed, splitKnown: e.splitKnown,
        pending: e.pending, group, session: e.groupSession,
      };
      const was = before?.group ?? '';
      writes.push({
        id, data: JSON.stringify(stored), exp: e.expiresAt,
        keys: e.keys.filter((k) => index.owner(k) === e),
        add: now !== was ? now : '', rem: was !== '' && was !== now ? was : '',
      });
    }
    const ok = await this.run('save', SCRIPTS.save, [this.prefix, token, String(this.windowMs), JSON.stringify(writes)]);
    if (ok !== 1) {
      this.onError('lock_lost');
      throw new RetryableError(`join store: this batch's locks expired (lock_ttl_ms ${this.cfg.lock_ttl_ms}) before it was saved; nothing written`, 1);
    }
  }

  private async release(token: string): Promise<void> {
    await this.run('release', SCRIPTS.release, [this.prefix, token]);
  }

  /** EVALSHA, loading the script on NOSCRIPT; any failure is retryable: the batch was not claimed. */
  private async run(op: string, script: Script, args: string[]): Promise<unknown> {
    if (!this.client.isReady) {
      this.onError(op);
      throw new RetryableError(`join store: Redis at ${redactUrl(this.cfg.url)} is unreachable`, 1);
    }
    const opts = { timeout: this.cfg.timeout_ms };
    try {
      try {
        return await this.client.sendCommand(['EVALSHA', script.sha, '0', ...args], opts);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return await this.client.sendCommand(['EVAL', script.body, '0', ...args], opts);
      }
    } catch (err) {
      this.onError(op);
      const msg = err instanceof Error ? err.message : String(err);
      this.logger.warn('join store: Redis command failed; batch refused (retryable)', { op, error: msg });
      throw new RetryableError(`join store: Redis ${op} failed: ${msg}`, 1, { cause: err });
    }
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
