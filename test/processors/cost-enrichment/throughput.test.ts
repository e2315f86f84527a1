import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { priceCalls } from '../../../processors/cost-enrichment/index.js';
import { call, pricer } from './calls.js';
import { loadOverrides } from './default-overrides.js';

/** Micro-measurement for the report and `npm run bench`: 100k records of mixed routes over 30 days. No timed assertion. */
const KINDS: { fields: Partial<LlmCall>; pico: number }[] = [
  { pico: 183_000_000_000, fields: { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', input_tokens: 20_000, cache_read_tokens: 60_000, cache_write_5m_tokens: 20_000, output_tokens: 2_000 } },
  { pico: 30_195_000_000, fields: { provider: 'aws.bedrock', model: 'claude-sonnet-4-5', model_raw: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 } },
  { pico: 30_195_000_000, fields: { provider: 'gcp.vertex_ai', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5@20250929', region: 'us-east5', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 } },
  { pico: 32_500_000_000, fields: { provider: 'openai', model: 'gpt-4o', model_raw: 'gpt-4o-2024-08-06', input_tokens: 8_000, cache_read_tokens: 2_000, output_tokens: 1_000 } },
  { pico: 75_000_000_000, fields: { provider: 'anthropic', model: 'claude-sonnet-5-5', input_tokens: 10_000, cache_read_tokens: 100_000, cache_write_5m_tokens: 10_000, output_tokens: 2_000 } },
  { pico: 0, fields: { provider: 'anthropic', model: 'claude-nonesuch-9', input_tokens: 10 } },
];

function records(n: number): LlmCall[] {
  return Array.from({ length: n }, (_, i) => {
    const kind = KINDS[i % KINDS.length];
    const day = String(1 + (i % 30)).padStart(2, '0');
    return call({ ...kind.fields, call_id: `c${i}`, timestamp: `2026-11-${day}T10:00:00.${String(i % 1000).padStart(3, '0')}Z`, user: `u${i % 50}` });
  });
}

describe('cost-enrichment throughput', () => {
  it('prices 100k records, exactly', () => {
    const calls = records(100_000);
    const p = pricer(loadOverrides());
    priceCalls(calls.slice(0, 1_000), p); // warm-up: JIT and the per-day cache
    const t0 = process.hrtime.bigint();
    const priced = priceCalls(calls, p);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`cost-enrichment: priced ${calls.length} records in ${ms.toFixed(1)} ms = ${(ms * 1000 / calls.length).toFixed(3)} µs/record`);

    let expected = 0;
    let actual = 0;
    priced.forEach((r, i) => {
      expected += KINDS[i % KINDS.length].pico;
      actual += Math.round(r.cost_usd * 1e12);
    });
    expect(actual).toBe(expected);
    expect(priced.filter((r) => r.price_ref === '')).toHaveLength(Math.ceil((calls.length - 5) / KINDS.length));
  });
});
