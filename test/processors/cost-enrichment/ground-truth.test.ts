import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { call, pricer, TOLERANCE } from './calls.js';

/**
 * pricing.md §5: the ground-truth table and the extra edge cases, hand-computed from Anthropic's and
 * OpenAI's list prices. pricing.md gives usage in the OTel convention (input includes cache); here
 * it is restated in the LlmCall convention (input excludes cache reads and writes).
 */
const rows: { id: string; fields: Partial<LlmCall>; usd: number; ref: string }[] = [
  { id: 'GT-01', usd: 0.06, ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    fields: { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', input_tokens: 10_000, output_tokens: 2_000 } },
  { id: 'GT-02', usd: 0.183, ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    fields: { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', input_tokens: 20_000, cache_read_tokens: 60_000, cache_write_5m_tokens: 20_000, output_tokens: 2_000 } },
  { id: 'GT-03', usd: 0.19425, ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    fields: { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', input_tokens: 20_000, cache_read_tokens: 60_000, cache_write_5m_tokens: 15_000, cache_write_1h_tokens: 5_000, output_tokens: 2_000 } },
  { id: 'GT-04', usd: 0.2525, ref: 'genai-prices:anthropic/claude-opus-4-5',
    fields: { provider: 'anthropic', model: 'claude-opus-4-5', model_raw: 'claude-opus-4-5-20251101', input_tokens: 10_000, cache_read_tokens: 30_000, cache_write_5m_tokens: 10_000, output_tokens: 5_000 } },
  { id: 'GT-05', usd: 0.077, ref: 'genai-prices:anthropic/claude-haiku-4-5',
    fields: { provider: 'anthropic', model: 'claude-haiku-4-5', model_raw: 'claude-haiku-4-5-20251001', input_tokens: 8_000, cache_write_1h_tokens: 32_000, output_tokens: 1_000 } },
  { id: 'GT-06', usd: 1.29, ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    fields: { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', timestamp: '2026-01-15T09:30:00.000Z', input_tokens: 100_000, cache_read_tokens: 150_000, cache_write_5m_tokens: 50_000, output_tokens: 10_000 } },
  { id: 'GT-07', usd: 0.246, ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    fields: { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', input_tokens: 60_000, cache_read_tokens: 40_000, output_tokens: 20_000, attributes: { service_tier: 'batch' } } },
  { id: 'GT-08', usd: 0.030195, ref: 'genai-prices:aws/regional.anthropic.claude-sonnet-4-5-20250929-v1:0',
    fields: { provider: 'aws.bedrock', model: 'claude-sonnet-4-5', model_raw: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 } },
  { id: 'GT-09', usd: 0.030195, ref: 'genai-prices:google/claude-sonnet-4-5',
    fields: { provider: 'gcp.vertex_ai', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5@20250929', region: 'us-east5', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 } },
  { id: 'GT-10', usd: 0.0825, ref: 'genai-prices:anthropic/claude-opus-4-6',
    fields: { provider: 'anthropic', model: 'claude-opus-4-6', model_raw: 'claude-opus-4-6', input_tokens: 10_000, output_tokens: 1_000, attributes: { inference_geo: 'us' } } },
  { id: 'E-01', usd: 0.615, ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    fields: { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', input_tokens: 200_000, output_tokens: 1_000 } },
  { id: 'E-02', usd: 0.02745, ref: 'genai-prices:aws/global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    fields: { provider: 'aws.bedrock', model: 'claude-sonnet-4-5', model_raw: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'global', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 } },
  { id: 'E-03', usd: 0.02745, ref: 'genai-prices:google/claude-sonnet-4-5',
    fields: { provider: 'gcp.vertex_ai', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5@20250929', region: 'global', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 } },
  { id: 'E-04', usd: 0.0325, ref: 'genai-prices:openai/gpt-4o',
    fields: { provider: 'openai', model: 'gpt-4o', model_raw: 'gpt-4o-2024-08-06', input_tokens: 8_000, cache_read_tokens: 2_000, output_tokens: 1_000 } },
  { id: 'E-05', usd: 0.12, ref: 'genai-prices:anthropic/claude-3-5-haiku-latest',
    fields: { provider: 'anthropic', model: 'claude-3-5-haiku', model_raw: 'claude-3-5-haiku-20241022', input_tokens: 100_000, output_tokens: 10_000 } },
  { id: 'E-06', usd: 0.0775, ref: 'genai-prices:anthropic/claude-3-haiku',
    fields: { provider: 'anthropic', model: 'claude-3-haiku', model_raw: 'claude-3-haiku-20240307', input_tokens: 150_000, cache_write_5m_tokens: 50_000, output_tokens: 20_000 } },
  { id: 'E-07', usd: 0.12, ref: 'genai-prices:anthropic/claude-3-7-sonnet-latest',
    fields: { provider: 'anthropic', model: 'claude-3-7-sonnet', model_raw: 'claude-3-7-sonnet-20250219', input_tokens: 20_000, output_tokens: 4_000 } },
  { id: 'E-08', usd: 0.045, ref: 'genai-prices:aws/regional.anthropic.claude-sonnet-4-20250514-v1:0',
    fields: { provider: 'aws.bedrock', model: 'claude-sonnet-4', model_raw: 'us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us', input_tokens: 10_000, output_tokens: 1_000 } },
  { id: 'E-09', usd: 0.15, ref: 'genai-prices:anthropic/claude-opus-4-1',
    fields: { provider: 'anthropic', model: 'claude-opus-4-1', model_raw: 'claude-opus-4-1-20250805', input_tokens: 5_000, output_tokens: 1_000 } },
  { id: 'E-10', usd: 0.0847, ref: 'genai-prices:aws/regional.anthropic.claude-haiku-4-5-20251001-v1:0',
    fields: { provider: 'aws.bedrock', model: 'claude-haiku-4-5', model_raw: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', region: 'us', input_tokens: 8_000, cache_write_1h_tokens: 32_000, output_tokens: 1_000 } },
];

describe('cost-enrichment ground truth (pricing.md §5)', () => {
  const p = pricer();
  it.each(rows)('$id costs $usd USD', ({ fields, usd, ref }) => {
    const r = p.price(call(fields));
    expect(r.unpriced).toBe('');
    expect(r.ref).toBe(ref);
    expect(Math.abs(r.costUsd - usd)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('prices the same rows identically from the cache as on first lookup', () => {
    const first = rows.map((row) => p.price(call(row.fields)).costUsd);
    const again = rows.map((row) => p.price(call(row.fields)).costUsd);
    expect(again).toEqual(first);
  });
});
