import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../../../core/batch.js';
import type { ComponentContext } from '../../../core/component.js';
import type { LlmCall } from '../../../core/llm-call.js';
import type { ResourceMetrics } from '../../../core/telemetry.js';
import { decodeExport, type Signal } from '../../../receivers/otlp/codec/codec.js';
import { defaults, type NormalizerConfig } from '../../../processors/claude-normalizer/config.js';
import { ClaudeNormalizer } from '../../../processors/claude-normalizer/normalizer.js';
import { batchOf, testContext } from '../../helpers/context.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures');

/** The export requests of one captured scenario, in arrival order, each decoded into a Batch. */
export function loadScenario(dir: string): Batch[] {
  const index = readFileSync(join(dir, 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; signal: Signal; content_type: string });
  return index.map((e) => {
    const body = readFileSync(join(dir, e.file));
    const part = decodeExport(e.signal, body, e.content_type.includes('protobuf') ? 'protobuf' : 'json');
    return batchOf(part);
  });
}

export function config(over: Partial<NormalizerConfig> = {}): NormalizerConfig {
  return structuredClone({ ...defaults, ...over });
}

export function normalizer(over: Partial<NormalizerConfig> = {}, clock?: () => number): { n: ClaudeNormalizer; ctx: ComponentContext & { logs: Record<string, unknown>[] } } {
  const ctx = testContext('claude-normalizer');
  return { n: new ClaudeNormalizer(config(over), ctx, clock), ctx };
}

export function runAll(n: ClaudeNormalizer, batches: Batch[]): Batch[] {
  return batches.map((b) => n.process(b) as Batch);
}

export function sum(cs: LlmCall[]): { input: number; output: number; cache_read: number; cache_write: number } {
  return cs.reduce((s, c) => ({
    input: s.input + c.input_tokens, output: s.output + c.output_tokens, cache_read: s.cache_read + c.cache_read_tokens,
    cache_write: s.cache_write + c.cache_write_5m_tokens + c.cache_write_1h_tokens,
  }), { input: 0, output: 0, cache_read: 0, cache_write: 0 });
}

/** Each call as last emitted: the billed record, replaced by its updates. */
export function finalRecords(out: { calls: LlmCall[]; updates: LlmCall[] }[]): LlmCall[] {
  const byId = new Map<string, LlmCall>();
  for (const b of out) {
    for (const c of b.calls) byId.set(c.call_id, c);
    for (const u of b.updates) byId.set(u.call_id, u);
  }
  return [...byId.values()];
}

/** What a call bills: its id, time, model and tokens, without what joins add (attribution, route). */
export function billing(c: LlmCall) {
  const { call_id, timestamp, model, record_type, status, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens } = c;
  return { call_id, timestamp, model, record_type, status, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens };
}

export const round = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * No cumulative capture was kept, so the real delta exports of `v2.1.330-delta-multi-export` are
 * turned into what the same client sends with OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative:
 * every export repeats every series with its running total and the series' first start time.
 */
export function toCumulative(batches: Batch[]): Batch[] {
  const totals = new Map<string, { start: string; value: number }>();
  return batches.map((b) => ({
    ...b,
    resourceMetrics: b.resourceMetrics.map((rm): ResourceMetrics => ({
      ...rm,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        ...sm,
        metrics: sm.metrics.map((m) => m.sum ? {
          ...m,
          sum: {
            ...m.sum, aggregationTemporality: 2,
            dataPoints: m.sum.dataPoints.map((dp) => {
              const key = m.name + JSON.stringify(dp.attributes);
              const t = totals.get(key) ?? { start: dp.startTimeUnixNano, value: 0 };
              t.value += dp.value;
              totals.set(key, t);
              return { ...dp, startTimeUnixNano: t.start, value: t.value };
            }),
          },
        } : m),
      })),
    })),
  }));
}
