import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { costPico, picoToUsd, ratioOf, type Rates } from '../../../processors/cost-enrichment/rates.js';
import { batch, claudeVersion, dataResidency, longContext, partnerCacheWrite1h, regionalPremium, type Signals } from '../../../processors/cost-enrichment/rules.js';
import { tariffFromCatalog } from '../../../processors/cost-enrichment/tariff.js';
import { call, pricer, TOLERANCE } from './calls.js';

const near = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(TOLERANCE);
const sonnet = tariffFromCatalog('t', { input_mtok: 3, output_mtok: 15, cache_read_mtok: 0.3, cache_write_mtok: 3.75 }, '');
const signals = (s: Partial<Signals>): Signals => ({ provider: 'anthropic', model: 'claude-sonnet-4-5', region: '', entryProvider: 'anthropic', batch: false, inferenceGeo: '', ...s });
const factorOf = (t: { factor: { num: number; den: number } }) => t.factor.num / t.factor.den;

describe('claudeVersion', () => {
  it.each([
    ['claude-sonnet-4-5', 45], ['claude-sonnet-4', 40], ['claude-sonnet-4-20250514', 40], ['claude-opus-4-1', 41],
    ['claude-haiku-4-5', 45], ['claude-opus-4-6', 46], ['claude-3-5-haiku', 35], ['claude-3-haiku', 30],
    ['claude-haiku-5-5', 55], ['claude-fable-5-1', 51], ['claude-sonnet-4-5@20250929', 45], ['claude-2', 1], ['gpt-4o', 0],
  ])('%s → %i', (model, v) => expect(claudeVersion(model)).toBe(v));
});

describe('rules', () => {
  it('derives the 1-hour cache write at 2x input on Bedrock and Vertex only', () => {
    expect(partnerCacheWrite1h(sonnet, signals({ provider: 'aws.bedrock' })).base.cache_write_1h).toBe(6_000_000);
    expect(partnerCacheWrite1h(sonnet, signals({ provider: 'gcp.vertex_ai' })).base.cache_write_1h).toBe(6_000_000);
    expect(partnerCacheWrite1h(sonnet, signals({ provider: 'anthropic' })).base.cache_write_1h).toBe(3_750_000);
  });

  it('keeps a 1-hour price the catalog gives', () => {
    const opus55 = tariffFromCatalog('t', { input_mtok: 4.4, cache_write_1h_mtok: 8.8 }, '');
    expect(partnerCacheWrite1h(opus55, signals({ provider: 'aws.bedrock' })).base.cache_write_1h).toBe(8_800_000);
  });

  it('adds the >200K tier to untiered Sonnet 4 / 4.5 entries only', () => {
    const t = longContext(sonnet, signals({ model: 'claude-sonnet-4' }));
    expect(t.tiers).toEqual([{ above: 200_000, rates: { input: 6e6, output: 22.5e6, cache_read: 0.6e6, cache_write_5m: 7.5e6, cache_write_1h: 7.5e6 } satisfies Rates }]);
    expect(longContext(sonnet, signals({ model: 'claude-opus-4-1' })).tiers).toEqual([]);
  });

  it('adds 10% on regional Vertex and on Bedrock prices that did not come from a regional Bedrock entry, Claude 4.5+ only', () => {
    expect(factorOf(regionalPremium(sonnet, signals({ provider: 'gcp.vertex_ai', region: 'europe-west1', entryProvider: 'google' })))).toBe(1.1);
    expect(factorOf(regionalPremium(sonnet, signals({ provider: 'gcp.vertex_ai', region: 'global', entryProvider: 'google' })))).toBe(1);
    expect(factorOf(regionalPremium(sonnet, signals({ provider: 'gcp.vertex_ai', region: '', entryProvider: 'google' })))).toBe(1);
    expect(factorOf(regionalPremium(sonnet, signals({ provider: 'aws.bedrock', region: 'eu', entryProvider: 'aws' })))).toBe(1);
    expect(factorOf(regionalPremium(sonnet, signals({ provider: 'aws.bedrock', region: 'eu', entryProvider: '' })))).toBe(1.1);
    expect(factorOf(regionalPremium(sonnet, signals({ provider: 'aws.bedrock', region: 'global', entryProvider: '' })))).toBe(1);
    expect(factorOf(regionalPremium(sonnet, signals({ provider: 'gcp.vertex_ai', region: 'us-east5', model: 'claude-sonnet-4' })))).toBe(1);
  });

  it('adds 10% for first-party US-only inference on Opus/Sonnet 4.6 and later', () => {
    expect(factorOf(dataResidency(sonnet, signals({ model: 'claude-sonnet-4-6', inferenceGeo: 'us' })))).toBe(1.1);
    expect(factorOf(dataResidency(sonnet, signals({ model: 'claude-sonnet-4-5', inferenceGeo: 'us' })))).toBe(1);
    expect(factorOf(dataResidency(sonnet, signals({ model: 'claude-sonnet-4-6', inferenceGeo: 'global' })))).toBe(1);
    expect(factorOf(dataResidency(sonnet, signals({ provider: 'aws.bedrock', model: 'claude-sonnet-4-6', inferenceGeo: 'us' })))).toBe(1);
  });

  it('halves batch calls', () => {
    expect(factorOf(batch(sonnet, signals({ batch: true })))).toBe(0.5);
    expect(factorOf(batch(sonnet, signals({})))).toBe(1);
  });
});

describe('rules through the pricer', () => {
  const p = pricer();

  it('prices Sonnet 4 above 200K at the long-context rates genai-prices lacks', () => {
    const r = p.price(call({ provider: 'anthropic', model: 'claude-sonnet-4', model_raw: 'claude-sonnet-4-20250514', timestamp: '2025-09-01T00:00:00.000Z', input_tokens: 250_000, output_tokens: 1_000 }));
    near(r.costUsd, 1.5225); // 250k×6 + 1k×22.5
  });

  it('never applies a per-request tier to a usage_interval record (several calls summed)', () => {
    const r = p.price(call({ record_type: 'usage_interval', provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: 250_000, output_tokens: 1_000 }));
    near(r.costUsd, 0.765);
  });

  it('falls back to the list price plus the regional premium for a Bedrock id the catalog does not know', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4';
    const r = p.price(call({ provider: 'aws.bedrock', model: 'claude-sonnet-4-5', model_raw: arn, region: 'us-east-1', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 }));
    expect(r.ref).toBe('genai-prices:anthropic/claude-sonnet-4-5');
    near(r.costUsd, 0.030195);
  });

  it('prices a Vertex Claude model absent from Google\'s entries by fallback to Anthropic, with the regional premium', () => {
    const r = p.price(call({ provider: 'gcp.vertex_ai', model: 'claude-haiku-4-5', model_raw: 'claude-haiku-4-5@20251001', region: 'us-east5', input_tokens: 5_000, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, output_tokens: 500 }));
    expect(r.ref).toBe('genai-prices:anthropic/claude-haiku-4-5');
    near(r.costUsd, 0.00915 * 1.1);
  });

  it('stacks batch with the regional premium and the 1-hour write', () => {
    const r = p.price(call({ provider: 'gcp.vertex_ai', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5@20250929', region: 'us-east5', input_tokens: 1_000, cache_write_1h_tokens: 1_000, attributes: { service_tier: 'batch' } }));
    near(r.costUsd, (1_000 * 3 + 1_000 * 6) / 1e6 * 1.1 * 0.5);
  });

  it('prices a dated OpenAI snapshot from its own entry', () => {
    expect(p.price(call({ provider: 'openai', model: 'gpt-4o', model_raw: 'gpt-4o-2024-05-13', input_tokens: 1_000_000 })).costUsd).toBe(5);
    expect(p.price(call({ provider: 'azure.ai.openai', model: 'gpt-4o', model_raw: 'azure/my-deployment', input_tokens: 1_000_000 })).ref).toMatch(/^genai-prices:(azure|openai)\/gpt-4o$/);
  });

  it.each([
    ['an unknown provider', { provider: 'acme.llm', model: 'x' }, 'unknown_provider'],
    ['an unknown model', { provider: 'anthropic', model: 'claude-nonesuch-9' }, 'unknown_model'],
    ['no model', { provider: 'anthropic', model: '' }, 'no_model'],
    ['negative tokens', { provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: -1 }, 'invalid_tokens'],
    ['fractional tokens', { provider: 'anthropic', model: 'claude-sonnet-4-5', output_tokens: 1.5 }, 'invalid_tokens'],
    ['a bad timestamp', { provider: 'anthropic', model: 'claude-sonnet-4-5', timestamp: 'yesterday' }, 'invalid_timestamp'],
  ])('leaves a call with %s unpriced, saying why', (_what, fields, reason) => {
    const r = p.price(call(fields));
    expect(r).toMatchObject({ costUsd: 0, ref: '', unpriced: reason });
    expect(r.detail).not.toBe('');
  });

  it('does not throw on records missing fields the contract promises', () => {
    const loose = { ...call({ provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: 100_000 }), attributes: undefined, model_raw: undefined };
    expect(p.price(loose as unknown as LlmCall)).toMatchObject({ costUsd: 0.3, unpriced: '' });
    const noTime = { ...call({ provider: 'anthropic', model: 'claude-sonnet-4-5' }), timestamp: 17 };
    expect(p.price(noTime as unknown as LlmCall).unpriced).toBe('invalid_timestamp');
  });

  it('prices time-of-day (off-peak) catalog entries by the minute, not per day', () => {
    const at = (timestamp: string) => p.price(call({ provider: 'deepseek', model: 'deepseek-chat', input_tokens: 1_000_000, timestamp })).costUsd;
    expect(at('2026-11-20T10:00:00.000Z')).toBe(0.27);
    expect(at('2026-11-20T20:00:00.000Z')).toBe(0.135);
    expect(at('2026-11-20T10:00:00.000Z')).toBe(0.27);
    expect(at('2026-11-20T16:29:59.999Z')).toBe(0.27); // the peak window is [00:30, 16:30) UTC
    expect(at('2026-11-20T16:30:00.000Z')).toBe(0.135);
    expect(at('2026-11-20T16:30:59.999Z')).toBe(0.135);
  });

  it('accepts a timestamp with an offset, on its UTC day', () => {
    const r = p.price(call({ provider: 'anthropic', model: 'claude-sonnet-4-6', timestamp: '2026-03-13T01:00:00+02:00', input_tokens: 250_000 }));
    near(r.costUsd, 1.5); // 2026-03-12 UTC: still tiered ($6)
  });
});

describe('exact arithmetic', () => {
  it('holds list prices exactly and sums without drift', () => {
    const t = tariffFromCatalog('t', { input_mtok: 3.3, output_mtok: 16.5, cache_read_mtok: 0.33, cache_write_mtok: 4.125 }, '');
    const one = costPico({ input_tokens: 5_000, output_tokens: 500, cache_read_tokens: 4_000, cache_write_5m_tokens: 1_000, cache_write_1h_tokens: 0 }, t.base, t.tiers, true, t.factor);
    expect(one).toBe(30_195_000_000);
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++) sum += one as number;
    expect(sum).toBe(30_195_000_000 * 1_000_000);
    expect(picoToUsd(one)).toBe(0.030195);
  });

  it('switches to BigInt beyond 2^53 pico-dollars and stays exact', () => {
    const t = tariffFromCatalog('t', { input_mtok: 15, output_mtok: 75 }, '');
    const pico = costPico({ input_tokens: 0, output_tokens: 10_000_000_000, cache_read_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0 }, t.base, t.tiers, false, ratioOf(1.1));
    expect(pico).toBe(825_000_000_000_000_000n);
    expect(picoToUsd(pico)).toBe(825_000);
  });

  it('rounds a factor off the price grid half up to a whole pico-dollar', () => {
    const t = tariffFromCatalog('t', { input_mtok: 0.000001 }, '');
    expect(costPico({ input_tokens: 1, output_tokens: 0, cache_read_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0 }, t.base, [], false, ratioOf(0.5))).toBe(1n);
  });
});
