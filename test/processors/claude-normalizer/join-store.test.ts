import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { isRetryable } from '../../../core/errors.js';
import { defaults } from '../../../processors/claude-normalizer/config.js';
import { MemoryJoinStore, type JoinStore, type JoinTxn } from '../../../processors/claude-normalizer/join-store.js';
import { RedisJoinStore } from '../../../processors/claude-normalizer/join-store-redis.js';
import { testContext } from '../../helpers/context.js';
import { RedisServer, redisAvailable } from '../../helpers/redis.js';

/**
 * The contract every join store keeps, run against each: what one transaction commits, the next
 * one sees (records, shapes, billing state, pending links, session groups, which call a key leads
 * to); a transaction begun while another holds the same keys sees that one's writes; entries
 * leave after the window.
 */
const call = (id: string, session = ''): LlmCall => ({ call_id: id, session_id: session, record_type: 'call', timestamp: '2026-11-24T10:00:00.000Z', model: 'claude-sonnet-4-5' }) as LlmCall;

async function done(p: Promise<void> | undefined): Promise<void> {
  await p;
}

interface Subject { name: string; make: (windowMs: number) => JoinStore; clock: () => number; advance: (ms: number) => Promise<void> }

const hasRedis = redisAvailable();
let server: RedisServer | undefined;
const opened: JoinStore[] = [];

beforeAll(async () => { if (hasRedis) server = await RedisServer.start(); }, 20_000);
afterAll(async () => {
  for (const s of opened) await s.close();
  await server?.close();
});

let memNow = 1_000_000;
const subjects: Subject[] = [
  { name: 'memory', make: (w) => new MemoryJoinStore(w, 1000, () => {}), clock: () => memNow, advance: async (ms) => { memNow += ms; } },
  ...(hasRedis ? [{
    name: 'redis',
    make: (w: number) => new RedisJoinStore({ ...defaults.dedupe.redis, url: server!.url, key_prefix: `t${randomUUID()}`, window: `${w}ms`, lock_wait: '3s' }, 'claude-normalizer', testContext('claude-normalizer').logger, () => {}),
    clock: () => Date.now(),
    advance: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  }] : []),
];

describe.each(subjects)('join store contract: $name', (subject) => {
  async function open(windowMs = 60_000): Promise<JoinStore> {
    const s = subject.make(windowMs);
    opened.push(s);
    await s.start();
    return s;
  }
  const begin = async (s: JoinStore, keys: string[], sessions: string[] = []): Promise<JoinTxn> => s.begin({ keys, sessions }, subject.clock());

  it('a committed entry is found by each of its keys in the next transaction, with its state', async () => {
    const s = await open();
    const t1 = await begin(s, ['req:1', 'rec:a']);
    expect(t1.index.find(['req:1'])).toBeUndefined();
    const e = t1.index.add(call('c1'), 'litellm_v2', ['req:1', 'rec:a'], subject.clock(), false, 1, 0);
    e.pending.push(call('p1'));
    t1.index.addKeys(e, ['fp:x']);
    await done(t1.commit());

    const t2 = await begin(s, ['fp:x']);
    const found = t2.index.find(['fp:x']);
    expect(found?.entry.record.call_id).toBe('c1');
    expect(found?.entry.shapes).toEqual(['litellm_v2']);
    expect(found?.entry.billed).toBe(false);
    expect(found?.entry.pending.map((p) => p.call_id)).toEqual(['p1']);
    expect(found?.entry.keys.sort()).toEqual(['fp:x', 'rec:a', 'req:1']);
    found!.entry.billed = true;
    found!.entry.shapes.push('claude_code_events');
    await done(t2.commit());

    const t3 = await begin(s, ['req:1']);
    expect(t3.index.find(['req:1'])?.entry.billed).toBe(true);
    expect(t3.index.find(['req:1'])?.entry.shapes).toEqual(['litellm_v2', 'claude_code_events']);
    await done(t3.abort());
  });

  it('session groups: an entry added to or removed from one is seen so by a transaction on its session', async () => {
    const s = await open();
    const t1 = await begin(s, ['rec:l'], ['sess-1']);
    const link = t1.index.add(call('link', 'sess-1'), 'litellm_v2', ['rec:l'], subject.clock(), false, 1, -1);
    t1.index.links.add(link);
    await done(t1.commit());

    const t2 = await begin(s, ['rec:c'], ['sess-1']);
    expect(t2.index.links.get('sess-1').map((e) => e.record.call_id)).toEqual(['link']);
    const client = t2.index.add(call('client', 'sess-1'), 'claude_code_events', ['rec:c'], subject.clock(), true, 2, 0);
    const moved = t2.index.links.get('sess-1')[0];
    t2.index.links.remove(moved);
    t2.index.addKeys(client, moved.keys);
    t2.index.clientCalls.add(client);
    await done(t2.commit());

    const t3 = await begin(s, ['rec:l'], ['sess-1']);
    expect(t3.index.links.get('sess-1')).toEqual([]);
    expect(t3.index.clientCalls.get('sess-1').map((e) => e.record.call_id)).toEqual(['client']);
    // The absorbed link's key now leads to the call that absorbed it.
    expect(t3.index.find(['rec:l'])?.entry.record.call_id).toBe('client');
    await done(t3.abort());
  });

  it('a transaction begun while another holds its keys sees what that one committed', async () => {
    const s = await open();
    const t1 = await begin(s, ['req:9']);
    t1.index.add(call('first'), 'litellm_v2', ['req:9'], subject.clock(), true, 1, 0);
    const second = begin(s, ['req:9']);
    await new Promise((r) => setTimeout(r, 50));
    await done(t1.commit());
    const t2 = await second;
    expect(t2.index.find(['req:9'])?.entry.record.call_id).toBe('first');
    await done(t2.abort());
  });

  it('entries leave after the window', async () => {
    const s = await open(1000);
    const t1 = await begin(s, ['req:w']);
    t1.index.add(call('w'), 'litellm_v2', ['req:w'], subject.clock(), true, 1, 0);
    await done(t1.commit());
    await subject.advance(1300);
    const t2 = await begin(s, ['req:w']);
    expect(t2.index.find(['req:w'])).toBeUndefined();
    await done(t2.abort());
  });
});

describe.runIf(hasRedis)('redis join store failure', () => {
  it('a save whose reply is lost (Redis frozen) is undone before the next batch: the refused batch\'s retry can claim its calls', async () => {
    const own = await RedisServer.start();
    try {
      const errors: string[] = [];
      const ctx = testContext('claude-normalizer');
      const s = new RedisJoinStore({ ...defaults.dedupe.redis, url: own.url, timeout: '300ms' }, 'claude-normalizer', ctx.logger, (op) => errors.push(op));
      opened.push(s);
      await s.start();
      const t1 = await s.begin({ keys: ['req:lost'], sessions: [] }, Date.now());
      t1.index.add(call('lost'), 'litellm_v2', ['req:lost'], Date.now(), true, 1, 0);
      own.pause();
      const err = await t1.commit()?.catch((e: unknown) => e);
      expect(isRetryable(err)).toBe(true);
      expect(errors).toEqual(['save']);
      own.resume(); // the save runs now, unheard
      const deadline = Date.now() + 10_000;
      let t2: JoinTxn | undefined;
      while (t2 === undefined) {
        try {
          t2 = await s.begin({ keys: ['req:lost'], sessions: [] }, Date.now());
        } catch (e) {
          if (!isRetryable(e) || Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(t2.index.find(['req:lost'])).toBeUndefined();
      expect(ctx.logs.some((l) => String(l.msg).includes('undid the save of a refused batch'))).toBe(true);
      await done(t2.abort());
    } finally {
      await own.close();
    }
  }, 30_000);

  it('a replica that dies holding locks: batches on the same calls are refused (busy) until the locks expire, then go through', async () => {
    const cfg = { ...defaults.dedupe.redis, url: server!.url, key_prefix: `t${randomUUID()}`, lock_ttl: '800ms', lock_wait: '100ms' };
    const dead = new RedisJoinStore(cfg, 'claude-normalizer', testContext('claude-normalizer').logger, () => {});
    const errors: string[] = [];
    const alive = new RedisJoinStore(cfg, 'claude-normalizer', testContext('claude-normalizer').logger, (op) => errors.push(op));
    opened.push(dead, alive);
    await dead.start();
    await alive.start();
    await dead.begin({ keys: ['req:held'], sessions: [] }, Date.now()); // never committed: its process was killed
    await dead.close();
    const refused = await Promise.resolve(alive.begin({ keys: ['req:held', 'req:other'], sessions: [] }, Date.now())).catch((e: unknown) => e);
    expect(isRetryable(refused)).toBe(true);
    expect(errors).toEqual(['busy']);
    const other = await alive.begin({ keys: ['req:other'], sessions: [] }, Date.now()); // calls it did not hold are not blocked
    await done(other.abort());
    await new Promise((r) => setTimeout(r, 900));
    const t = await alive.begin({ keys: ['req:held'], sessions: [] }, Date.now());
    expect(t.index.size).toBe(0);
    await done(t.abort());
  });

  it('Redis unreachable: begin rejects with a RetryableError and counts it', async () => {
    const errors: string[] = [];
    const s = new RedisJoinStore({ ...defaults.dedupe.redis, url: 'redis://127.0.0.1:1', timeout: '200ms' }, 'claude-normalizer', testContext('claude-normalizer').logger, (op) => errors.push(op));
    opened.push(s);
    await s.start();
    const err = await Promise.resolve(s.begin({ keys: ['req:1'], sessions: [] }, Date.now())).catch((e: unknown) => e);
    expect(isRetryable(err)).toBe(true);
    expect(errors).toEqual(['load']);
  });
});
