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

/**
 * Each call's record as a row store keeps it: of its records (billed, then updates), the one with
 * the highest ingest version (Batch.callVersions, updateVersions), the last emitted on a tie or
 * where the batches carry no versions.
 */
export function finalRecords(out: Pick<Batch, 'calls' | 'updates' | 'callVersions' | 'updateVersions'>[]): LlmCall[] {
  const byId = new Map<string, { record: LlmCall; version: number }>();
  let seq = 0;
  const keep = (record: LlmCall, version: number | undefined) => {
    const v = version ?? ++seq;
    const had = byId.get(record.call_id);
    if (had === undefined || v >= had.version) byId.set(record.call_id, { record, version: v });
  };
  for (const b of out) {
    b.calls.forEach((c, i) => keep(c, b.callVersions?.[i]));
    b.updates.forEach((u, i) => keep(u, b.updateVersions?.[i]));
  }
  return [...byId.values()].map((k) => k.record);
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
