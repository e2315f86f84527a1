import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { isRetryable } from '../../../core/errors.js';
import type { LlmCall } from '../../../core/llm-call.js';
import type { ResourceLogs, ResourceSpans } from '../../../core/telemetry.js';
import { defaults } from '../../../processors/claude-normalizer/config.js';
import type { ClaudeNormalizer } from '../../../processors/claude-normalizer/normalizer.js';
import { defaults as costDefaults } from '../../../processors/cost-enrichment/config.js';
import { priceCalls, pricerFor } from '../../../processors/cost-enrichment/index.js';
import { batchOf, metricTotal } from '../../helpers/context.js';
import { RedisServer, redisAvailable } from '../../helpers/redis.js';
import { finalRecords, normalizer } from './helpers.js';

/**
 * Two normalizers ("replicas") sharing one Redis join store, fed the real Claude Code → LiteLLM
 * capture split as a deployment splits it: LiteLLM's exports reach replica A (its sidecar),
 * Claude Code's reach replica B (the shared endpoint). Together they must bill exactly what one
 * process fed everything bills — the same records, merged with both sources' fields — in every
 * arrival order, and stay exact across a Redis outage (clients retry what was refused).
 */
const CAPTURES = join(import.meta.dirname, '../../fixtures/claude-code-via-litellm');
const RUNS = ['claude-code-via-litellm-1.80.11-and-1.108.7.jsonl', 'claude-code-via-litellm-1.80.11.jsonl'];

function load(file: string): Batch[] {
  return readFileSync(join(CAPTURES, file), 'utf8').trim().split('\n')
    .map((l) => batchOf(JSON.parse(l) as { resourceSpans: ResourceSpans[]; resourceLogs: ResourceLogs[] }));
}

/** Claude Code's exports (its events, its spans) go to replica B, LiteLLM's to replica A. */
const fromClaudeCode = (b: Batch): boolean => b.resourceLogs.length > 0 || b.resourceSpans.some((rs) => rs.resource['service.name'] === 'claude-code');

const hasRedis = redisAvailable();
let server: RedisServer | undefined;
const started: ClaudeNormalizer[] = [];

beforeAll(async () => { if (hasRedis) server = await RedisServer.start(); }, 20_000);
afterAll(async () => {
  for (const n of started) await n.shutdown();
  await server?.close();
});

type Replica = ReturnType<typeof normalizer>;

/** A normalizer on the shared store; replicas made with the same prefix share their join state. */
async function replica(prefix: string, redis: Partial<typeof defaults.dedupe.redis> = {}, clock?: () => number): Promise<Replica> {
  const r = normalizer({ dedupe: { ...defaults.dedupe, store: 'redis', redis: { ...defaults.dedupe.redis, url: server!.url, key_prefix: prefix, ...redis } } }, clock);
  started.push(r.n);
  await r.n.start();
  return r;
}

const byId = (a: LlmCall, b: LlmCall) => a.call_id.localeCompare(b.call_id);

/** What one process fed every batch in this order emits. */
function singleProcess(batches: Batch[]): { calls: LlmCall[]; updates: LlmCall[] }[] {
  const { n } = normalizer();
  return batches.map((b) => n.process(structuredClone(b)) as Batch);
}

async function twoReplicas(batches: Batch[], a: Replica, b: Replica): Promise<Batch[]> {
  const out: Batch[] = [];
  for (const batch of batches) out.push(await (fromClaudeCode(batch) ? b : a).n.process(structuredClone(batch)));
  return out;
}

const cost = (calls: LlmCall[]): number => Math.round(priceCalls(calls, pricerFor(costDefaults, CAPTURES)).reduce((s, c) => s + c.cost_usd, 0) * 1e6) / 1e6;

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

describe.runIf(hasRedis).each(RUNS)('two replicas sharing Redis, real capture %s', (file) => {
  const batches = load(file);
  const single = singleProcess(batches);
  const singleBilled = single.flatMap((b) => b.calls);

  it('without a shared store the split double-bills (what the shared store fixes)', () => {
    const a = normalizer().n;
    const b = normalizer().n;
    const billed = batches.flatMap((batch) => (fromClaudeCode(batch) ? b : a).process(structuredClone(batch)) as Batch).flatMap((x) => x.calls);
    expect(billed.length).toBeGreaterThan(singleBilled.length);
    process.stderr.write(`${file}: two replicas without a shared store bill ${billed.length} calls $${cost(billed)}\n`);
  });

  it('in the captured order: the records one process emits, billed once, merged with both sources\' fields', async () => {
    const prefix = `r${randomUUID()}`;
    const a = await replica(prefix);
    const b = await replica(prefix);
    const out = await twoReplicas(batches, a, b);
    const billed = out.flatMap((x) => x.calls);
    expect(billed.sort(byId)).toEqual([...singleBilled].sort(byId));
    expect(finalRecords(out).sort(byId)).toEqual(finalRecords(single).sort(byId));
    expect(cost(finalRecords(out))).toBe(cost(finalRecords(single)));
    process.stderr.write(`${file}: one process ${singleBilled.length} calls $${cost(finalRecords(single))}; two replicas on Redis ${billed.length} calls $${cost(finalRecords(out))}\n`);
    // Joined across replicas: LiteLLM's customer and tags with Claude Code's session on one row.
    expect(finalRecords(out).some((r) => r.customer.startsWith('cust-') && r.tags.includes('project:acme') && r.session_id !== '' && r.source === 'claude_code')).toBe(true);
    for (const r of [a, b]) expect(await metricTotal(r.ctx.registry, 'tokenledger_normalizer_join_store_errors_total')).toBe(0);
  });

  it('replica clocks two minutes apart, rows delivered in reverse: each call\'s newest version is the record one process ends with', async () => {
    const prefix = `r${randomUUID()}`;
    // Claude Code's replica (B) runs ahead: stamped with the clock alone, its first report of a call would outrank A's merge of the gateway's.
    const a = await replica(prefix, {}, () => Date.now() - 60_000);
    const b = await replica(prefix, {}, () => Date.now() + 60_000);
    const out = await twoReplicas(batches, a, b);
    expect(out.flatMap((x) => x.updates).length, 'the capture has cross-replica merges').toBeGreaterThan(0);
    for (const x of out.filter((y) => y.calls.length + y.updates.length > 0)) expect([x.callVersions?.length, x.updateVersions?.length]).toEqual([x.calls.length, x.updates.length]);
    expect(finalRecords([...out].reverse()).sort(byId)).toEqual(finalRecords(single).sort(byId));
  });

  it('replicas restarted mid-stream, then every export re-sent: nothing billed twice', async () => {
    const prefix = `r${randomUUID()}`;
    const half = Math.floor(batches.length / 2);
    const before = await twoReplicas(batches.slice(0, half), await replica(prefix), await replica(prefix));
    const a = await replica(prefix);
    const b = await replica(prefix);
    const after = await twoReplicas([...batches.slice(half), ...batches], a, b);
    const out = [...before, ...after];
    expect(out.flatMap((x) => x.calls).sort(byId)).toEqual([...singleBilled].sort(byId));
    expect(finalRecords(out).sort(byId)).toEqual(finalRecords(single).sort(byId));
    expect(await metricTotal(a.ctx.registry, 'tokenledger_normalizer_duplicates_total') + await metricTotal(b.ctx.registry, 'tokenledger_normalizer_duplicates_total')).toBeGreaterThan(0);
  });

  it('in every arrival order of each call\'s reports: the records one process emits for that order', async () => {
    const sessions = [...new Set(batches.flatMap((b) => b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => String(r.attributes['session.id'] ?? ''))))))].filter((s) => s !== '');
    const problems: string[] = [];
    let orders = 0;
    for (const session of sessions) {
      const mine = batches.filter((b) => JSON.stringify(b).includes(session));
      for (const order of permutations(mine)) {
        orders++;
        const prefix = `r${randomUUID()}`;
        const a = await replica(prefix);
        const b = await replica(prefix);
        const out = await twoReplicas(order, a, b);
        const expected = singleProcess(order);
        const what = `${session.slice(0, 8)} order ${order.map((x) => mine.indexOf(x)).join('')}`;
        const got = JSON.stringify(out.flatMap((x) => x.calls).sort(byId));
        if (got !== JSON.stringify(expected.flatMap((x) => x.calls).sort(byId))) problems.push(`${what}: billed ${got}`);
        if (JSON.stringify(finalRecords(out).sort(byId)) !== JSON.stringify(finalRecords(expected).sort(byId))) problems.push(`${what}: final records differ`);
        await a.n.shutdown();
        await b.n.shutdown();
      }
    }
    expect(orders).toBeGreaterThan(sessions.length);
    process.stderr.write(`${file}: ${orders} arrival orders of ${sessions.length} calls across two replicas\n`);
    expect(problems).toEqual([]);
  }, 120_000);
});

describe.runIf(hasRedis)('two replicas through a Redis outage', () => {
  let own: RedisServer;
  beforeAll(async () => { own = await RedisServer.start(); }, 20_000);
  afterAll(async () => { await own.close(); });

  it.each(['stopped', 'frozen'] as const)('Redis %s mid-stream: batches refused with retryable errors (counted, logged), then, retried after it returns, exactly the records of one process', async (outage) => {
    const batches = load(RUNS[0]);
    const single = singleProcess(batches);
    const prefix = `o${randomUUID()}`;
    const mk = async () => {
      const r = normalizer({ dedupe: { ...defaults.dedupe, store: 'redis', redis: { ...defaults.dedupe.redis, url: own.url, key_prefix: prefix, timeout: '500ms', lock_wait: '2s' } } });
      started.push(r.n);
      await r.n.start();
      return r;
    };
    const a = await mk();
    const b = await mk();
    const out: Batch[] = [];
    let refused = 0;
    const stopAt = Math.floor(batches.length / 2);
    const retryAfterRestart: Batch[] = [];
    for (let i = 0; i < batches.length; i++) {
      if (i === stopAt) {
        if (outage === 'stopped') await own.stop();
        else own.pause();
      }
      const r = fromClaudeCode(batches[i]) ? b : a;
      try {
        out.push(await r.n.process(structuredClone(batches[i])));
      } catch (err) {
        expect(isRetryable(err), String(err)).toBe(true);
        refused++;
        retryAfterRestart.push(batches[i]);
      }
      if (i === stopAt + 2) {
        if (outage === 'stopped') await own.restart();
        else own.resume();
      }
    }
    expect(refused).toBeGreaterThan(0);
    // Every op: a batch refused at its LOAD, or at the RESOLVE of an earlier one in doubt.
    const errors = await metricTotal(a.ctx.registry, 'tokenledger_normalizer_join_store_errors_total') + await metricTotal(b.ctx.registry, 'tokenledger_normalizer_join_store_errors_total');
    expect(errors).toBeGreaterThanOrEqual(refused);
    expect([...a.ctx.logs, ...b.ctx.logs].some((l) => String(l.msg).includes(outage === 'stopped' ? 'Redis unreachable' : 'Redis command failed'))).toBe(true);
    // The clients retry what was refused, in their order, until the store answers again.
    for (const batch of retryAfterRestart) {
      const r = fromClaudeCode(batch) ? b : a;
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          out.push(await r.n.process(structuredClone(batch)));
          break;
        } catch (err) {
          if (!isRetryable(err) || Date.now() > deadline) throw err;
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    }
    const billed = out.flatMap((x) => x.calls);
    const want = single.flatMap((x) => x.calls);
    expect(billed.length).toBe(want.length);
    expect(billed.map((c) => `${c.session_id} ${c.input_tokens} ${c.output_tokens}`).sort()).toEqual(want.map((c) => `${c.session_id} ${c.input_tokens} ${c.output_tokens}`).sort());
    expect(cost(finalRecords(out))).toBe(cost(finalRecords(single)));
  }, 60_000);
});

describe('one process with the in-memory store and a snapshot file, restarted', () => {
  it('restarted mid-stream (shutdown, start), then every export re-sent: nothing billed twice; without the snapshot, billed again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-snapshot-'));
    try {
      const batches = load(RUNS[0]);
      const single = singleProcess(batches);
      const half = Math.floor(batches.length / 2);
      const run = async (snapshot: boolean): Promise<Batch[]> => {
        const over = { dedupe: { ...defaults.dedupe, snapshot: { path: snapshot ? join(dir, 'join-index.jsonl') : '', interval: '1m' } } };
        const first = normalizer(over);
        await first.n.start();
        const out = batches.slice(0, half).map((b) => first.n.process(structuredClone(b)) as Batch);
        await first.n.shutdown();
        const second = normalizer(over);
        await second.n.start();
        out.push(...[...batches.slice(half), ...batches].map((b) => second.n.process(structuredClone(b)) as Batch));
        await second.n.shutdown();
        return out;
      };
      const out = await run(true);
      expect(out.flatMap((x) => x.calls).sort(byId)).toEqual(single.flatMap((x) => x.calls).sort(byId));
      expect(finalRecords(out).sort(byId)).toEqual(finalRecords(single).sort(byId));
      expect((await run(false)).flatMap((x) => x.calls).length).toBeGreaterThan(single.flatMap((x) => x.calls).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
