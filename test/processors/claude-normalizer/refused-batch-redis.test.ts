import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { isRetryable } from '../../../core/errors.js';
import type { LlmCall } from '../../../core/llm-call.js';
import type { ResourceLogs, ResourceSpans } from '../../../core/telemetry.js';
import { defaults } from '../../../processors/claude-normalizer/config.js';
import type { ClaudeNormalizer } from '../../../processors/claude-normalizer/normalizer.js';
import { batchOf } from '../../helpers/context.js';
import { RedisServer, redisAvailable } from '../../helpers/redis.js';
import { billing, FIXTURES, finalRecords, loadScenario, normalizer, sum, toCumulative } from './helpers.js';

/**
 * The Redis join store and a batch the pipeline's exporters refused (Processor.abandon): its SAVE
 * is undone (RESOLVE), so that the client's re-send — to the same replica or, behind a load
 * balancer, to another one on the same Redis — is read as new, and each call is emitted once.
 */
const hasRedis = redisAvailable();
let server: RedisServer | undefined;
const started: ClaudeNormalizer[] = [];

beforeAll(async () => { if (hasRedis) server = await RedisServer.start(); }, 20_000);
afterAll(async () => {
  for (const n of started) await n.shutdown();
  await server?.close();
});

async function replica(prefix: string, cfg: Parameters<typeof normalizer>[0] = {}): Promise<ClaudeNormalizer> {
  const { n } = normalizer({ ...cfg, dedupe: { ...defaults.dedupe, store: 'redis', redis: { ...defaults.dedupe.redis, url: server!.url, key_prefix: prefix, timeout: '500ms' } } });
  started.push(n);
  await n.start();
  return n;
}

const viaLiteLLM = (file: string) => readFileSync(join(FIXTURES, 'claude-code-via-litellm', file), 'utf8').trim().split('\n')
  .map((l) => batchOf(JSON.parse(l) as { resourceSpans: ResourceSpans[]; resourceLogs: ResourceLogs[] }));

const scenarios: [string, () => Batch[]][] = [
  ['LiteLLM 1.108.7', () => loadScenario(join(FIXTURES, 'litellm', '1.108.7', 'default'))],
  ['Claude Code events', () => loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export'))],
  ['Claude Code via LiteLLM 1.80.11', () => viaLiteLLM('claude-code-via-litellm-1.80.11.jsonl')],
  ['Claude Code via LiteLLM 1.80.11 and 1.108.7', () => viaLiteLLM('claude-code-via-litellm-1.80.11-and-1.108.7.jsonl')],
];

const ids = (cs: LlmCall[]) => cs.map((c) => c.call_id).sort();
const byId = (cs: LlmCall[]) => [...cs].sort((a, b) => a.call_id.localeCompare(b.call_id));

/** What one in-memory process emits when nothing is refused. */
function reference(batches: Batch[], cfg: Parameters<typeof normalizer>[0] = {}) {
  const { n } = normalizer(cfg);
  const out = batches.map((b) => n.process(structuredClone(b)) as Batch);
  return { calls: out.flatMap((b) => b.calls), final: finalRecords(out), perBatch: out };
}

describe.runIf(hasRedis).each(scenarios)('two replicas on one Redis, %s', (_name, batches) => {
  it('every request refused once, re-sent to the other replica: each call emitted once, as by one process', async () => {
    const want = reference(batches());
    expect(want.calls.length).toBeGreaterThan(0);
    const prefix = `r${randomUUID()}`;
    const replicas = [await replica(prefix), await replica(prefix)];
    const accepted: Batch[] = [];
    for (const [i, b] of batches().entries()) {
      const first = replicas[i % 2];
      await first.abandon(await first.process(structuredClone(b)));
      accepted.push(await replicas[(i + 1) % 2].process(structuredClone(b)));
    }
    expect(ids(accepted.flatMap((b) => b.calls))).toEqual(ids(want.calls));
    expect(byId(finalRecords(accepted))).toEqual(byId(want.final));
  });

  it.each([
    ['both refused, abandoned first to last', [0, 1]],
    ['both refused, abandoned last to first', [1, 0]],
    ['the first refused, the second accepted', [0]],
    ['the first accepted, the second refused', [1]],
  ])('two batches in flight, %s, re-sent: each call emitted once, as by one process', async (_case, refused) => {
    const want = reference(batches());
    const prefix = `p${randomUUID()}`;
    const [a, b] = [await replica(prefix), await replica(prefix)];
    const all = batches();
    const accepted: Batch[] = [];
    for (let i = 0; i < all.length; i += 2) {
      const pair = all.slice(i, i + 2);
      const outs = [await a.process(structuredClone(pair[0]))];
      if (pair[1]) outs.push(await b.process(structuredClone(pair[1])));
      for (const [j, out] of outs.entries()) if (!refused.includes(j)) accepted.push(out);
      for (const j of refused) if (outs[j]) await (j === 0 ? a : b).abandon(outs[j]);
      for (const j of [...refused].sort()) if (pair[j]) accepted.push(await a.process(structuredClone(pair[j])));
    }
    expect(ids(accepted.flatMap((x) => x.calls))).toEqual(ids(want.calls));
    // As in memory (refused-batch.test.ts): a re-sent report that finds the entry a later, accepted
    // batch joined only by fingerprint does not rejoin it; billed again as itself, tokens right.
    const view = refused.length === 1 && refused[0] === 0 ? billing : (c: LlmCall) => c;
    expect(byId(finalRecords(accepted)).map(view)).toEqual(byId(want.final).map(view));
  });
});

describe.runIf(hasRedis)('a batch the Redis store refused', () => {
  it('Claude Code cumulative metrics: the refused batch\'s points count when re-sent (its series were put back)', async () => {
    const cfg = { claude_code: { usage_from: 'metrics' as const } };
    const batches = () => toCumulative(loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export')));
    const ref = reference(batches(), cfg);
    const want = sum(ref.calls);
    const n = await replica(`c${randomUUID()}`, cfg);
    const all = batches();
    // A later export that moves a series on (one whose points were all seen emits nothing).
    const at = ref.perBatch.findIndex((b, i) => i > 0 && b.calls.length > 0);
    expect(at).toBeGreaterThan(0);
    const got: Batch[] = [];
    for (const [i, b] of all.entries()) {
      if (i === at) {
        await server!.stop();
        const err = await Promise.resolve(n.process(structuredClone(b))).then(() => undefined, (e: unknown) => e);
        expect(isRetryable(err), String(err)).toBe(true);
        await server!.restart();
      }
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          got.push(await n.process(structuredClone(b)));
          break;
        } catch (err) {
          if (!isRetryable(err) || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    expect(sum(got.flatMap((b) => b.calls))).toEqual(want);
  }, 30_000);
});
