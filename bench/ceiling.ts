import { Registry } from 'prom-client';
import { instance, stamp, type Payload } from './payload.js';
import { emptyBatch, type Batch } from '../core/batch.js';
import type { LlmCall } from '../core/llm-call.js';
import { createLogger } from '../core/logger.js';
import { Host } from '../core/host.js';
import { SelfMetrics } from '../core/self-metrics.js';
import { defaults as normalizerDefaults } from '../processors/claude-normalizer/config.js';
import { ClaudeNormalizer } from '../processors/claude-normalizer/normalizer.js';
import { defaults as costDefaults } from '../processors/cost-enrichment/config.js';
import { priceCalls, pricerFor } from '../processors/cost-enrichment/index.js';
import { decodeExport } from '../receivers/otlp/codec/codec.js';
import { messages } from '../receivers/otlp/codec/proto.js';

/**
 * What no pipeline can beat, measured in this process on the same bytes the load generator sends:
 * protobuf decode alone, and decode plus conversion to core/telemetry.ts objects (what the
 * receiver does per request). Also the price of pricing: priceCalls on realistic records.
 */

export interface Rate { itemsPerS: number; mibPerS: number }

/** Runs `fn` on `body` repeatedly for about `ms` after a warm-up; synchronous. */
function rate(body: Buffer, items: number, ms: number, fn: (b: Buffer) => unknown): Rate {
  for (let i = 0; i < 20; i++) fn(body);
  let n = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 5; i++) fn(body);
    n += 5;
    now = performance.now();
  }
  const s = (now - t0) / 1000;
  return { itemsPerS: (n * items) / s, mibPerS: (n * body.length) / s / 1048576 };
}

export function decodeCeiling(p: Payload, ms: number): { decode: Rate; decodeConvert: Rate } {
  const body = instance(p);
  stamp(body, p.patches, 1);
  return {
    decode: rate(body, p.items, ms, (b) => messages.traceRequest.decode(b)),
    decodeConvert: rate(body, p.items, ms, (b) => decodeExport('traces', b, 'protobuf')),
  };
}

/** A component context for in-process measurements (warn-level logs, a private registry). */
export const context = () => {
  const registry = new Registry();
  return { id: 'bench', logger: createLogger('warn'), metrics: new SelfMetrics(registry), registry, host: new Host(), configDir: process.cwd() };
};

/**
 * `count` records as the normalizer makes them from the bench payload (distinct ids, same call
 * shape), and the normalizer's own time per call (decode excluded).
 */
export function realisticCalls(p: Payload, count: number): { calls: LlmCall[]; normalizeSPerCall: number } {
  const n = new ClaudeNormalizer(structuredClone(normalizerDefaults), context());
  const out: LlmCall[] = [];
  const body = instance(p);
  let ms = 0;
  for (let s = 1_000_000; out.length < count; s++) {
    stamp(body, p.patches, s);
    const batch = { ...emptyBatch({ receiver: 'bench', transport: 'bench' }), ...decodeExport('traces', body, 'protobuf') };
    const t0 = performance.now();
    // The default (in-memory) join store: process() completes synchronously.
    const calls = (n.process(batch) as Batch).calls;
    ms += performance.now() - t0;
    for (const c of calls) out.push(c);
  }
  return { calls: out.slice(0, count), normalizeSPerCall: ms / 1000 / out.length };
}

/** Seconds per record of priceCalls over `calls` (best of 3 passes, after a warm-up pass). */
export function pricingSecondsPerRecord(calls: LlmCall[]): number {
  const pricer = pricerFor(structuredClone(costDefaults), process.cwd());
  priceCalls(calls.slice(0, 1000), pricer);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    priceCalls(calls, pricer);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best / calls.length;
}
