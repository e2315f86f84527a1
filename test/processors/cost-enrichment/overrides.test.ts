import { describe, expect, it } from 'vitest';
import { bundledCatalog } from '../../../processors/cost-enrichment/catalog.js';
import { costEnrichmentFactory } from '../../../processors/cost-enrichment/index.js';
import type { OverrideConfig } from '../../../processors/cost-enrichment/overrides.js';
import { Pricer } from '../../../processors/cost-enrichment/pricer.js';
import { call, pricer, TOLERANCE } from './calls.js';
import { loadOverrides, validConfig } from './default-overrides.js';

const near = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(TOLERANCE);

describe('default overrides (the shipped pipeline.yaml block)', () => {
  const p = pricer(loadOverrides());
  const sonnet55 = { provider: 'anthropic', model: 'claude-sonnet-5-5', model_raw: 'claude-sonnet-5-5', input_tokens: 10_000, cache_read_tokens: 100_000, cache_write_5m_tokens: 10_000, output_tokens: 2_000 };

  it('prices Sonnet 5.5 with the $0.10 cache read from 2026-10-07', () => {
    const r = p.price(call({ ...sonnet55, timestamp: '2026-11-20T08:00:00.000Z' }));
    expect(r.ref).toBe('override:claude-sonnet-5-5-from-2026-10-07');
    near(r.costUsd, 0.075); // 10k×2 + 100k×0.10 + 10k×2.50 + 2k×10
  });

  it('prices Sonnet 5.5 with the $0.20 cache read before 2026-10-07', () => {
    const r = p.price(call({ ...sonnet55, timestamp: '2026-10-06T23:59:59.999Z' }));
    expect(r.ref).toBe('override:claude-sonnet-5-5');
    near(r.costUsd, 0.085);
  });

  it('shows the catalog gap the overrides close: without them Sonnet 5.5 (which genai-prices prefix-matches to Sonnet 5) and Haiku 5.5 are unpriced', () => {
    const bare = pricer();
    const sonnet = bare.price(call({ ...sonnet55 }));
    expect([sonnet.unpriced, sonnet.ref, sonnet.costUsd]).toEqual(['unknown_model', '', 0]);
    expect(sonnet.detail).toContain('anthropic/claude-sonnet-5');
    expect(bare.price(call({ provider: 'anthropic', model: 'claude-haiku-5-5', input_tokens: 1 })).unpriced).toBe('unknown_model');
  });

  it('prices Haiku 5.5 at base rates up to a 100K-token prompt', () => {
    const r = p.price(call({ provider: 'anthropic', model: 'claude-haiku-5-5', input_tokens: 50_000, cache_read_tokens: 40_000, cache_write_1h_tokens: 10_000, output_tokens: 1_000 }));
    expect(r.ref).toBe('override:claude-haiku-5-5');
    near(r.costUsd, 0.0079); // 50k×0.10 + 40k×0.01 + 10k×0.20 + 1k×0.50
  });

  it('prices every token of a Haiku 5.5 call above 100K prompt tokens at the >100K tier', () => {
    const r = p.price(call({ provider: 'anthropic', model: 'claude-haiku-5-5', input_tokens: 50_001, cache_read_tokens: 40_000, cache_write_1h_tokens: 10_000, output_tokens: 1_000 }));
    near(r.costUsd, 0.0395005); // 50,001×0.50 + 40k×0.05 + 10k×1.00 + 1k×2.50
  });

  it('adds the regional premium to an override-priced Bedrock call, not to a global one', () => {
    const bedrock = { ...sonnet55, provider: 'aws.bedrock', timestamp: '2026-11-20T08:00:00.000Z' };
    const regional = p.price(call({ ...bedrock, model_raw: 'us.anthropic.claude-sonnet-5-5-v1:0', region: 'us' }));
    const global = p.price(call({ ...bedrock, model_raw: 'global.anthropic.claude-sonnet-5-5-v1:0', region: 'global' }));
    expect(regional.ref).toBe('override:claude-sonnet-5-5-from-2026-10-07');
    near(global.costUsd, 0.075);
    near(regional.costUsd, 0.0825);
  });
});

describe('overrides', () => {
  const gt02 = { provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', input_tokens: 20_000, cache_read_tokens: 60_000, cache_write_5m_tokens: 20_000, output_tokens: 2_000 };

  it('wins over the catalog for its provider only', () => {
    const p = pricer([{ name: 'fix', model: 'claude-sonnet-4-5*', provider: 'anthropic', prices: { input: 1, output: 1, cache_read: 1, cache_write_5m: 1, cache_write_1h: 1 } }]);
    const r = p.price(call(gt02));
    expect(r.ref).toBe('override:fix');
    near(r.costUsd, 0.102); // 102k tokens × $1/MTok
    expect(p.price(call({ ...gt02, provider: 'gcp.vertex_ai', region: 'global' })).ref).toBe('genai-prices:google/claude-sonnet-4-5');
  });

  it('applies a negotiated discount on top of the catalog price and names it in price_ref', () => {
    const p = pricer([{ name: 'acme-15', model: 'claude-*', provider: 'anthropic', discount_percent: 15 }]);
    const r = p.price(call(gt02));
    expect(r.ref).toBe('genai-prices:anthropic/claude-sonnet-4-5+override:acme-15');
    near(r.costUsd, 0.183 * 0.85);
  });

  it('prices fast mode through a speed: fast multiplier and leaves standard calls alone', () => {
    const p = pricer([{ name: 'opus-fast', model: 'claude-opus-4-6*', speed: 'fast', multiplier: 6 }]);
    const opus = { provider: 'anthropic', model: 'claude-opus-4-6', input_tokens: 10_000, output_tokens: 1_000 };
    near(p.price(call({ ...opus, attributes: { speed: 'fast' } })).costUsd, 0.45); // $30/$150
    near(p.price(call({ ...opus, attributes: { speed: 'normal' } })).costUsd, 0.075);
  });

  it('reports a fast-mode call that no override covers (priced at standard rates)', () => {
    const notices: string[] = [];
    const withNotice = new Pricer(bundledCatalog(), [], (model, msg) => notices.push(`${model}: ${msg}`));
    near(withNotice.price(call({ provider: 'anthropic', model: 'claude-opus-4-6', input_tokens: 10_000, output_tokens: 1_000, attributes: { speed: 'fast' } })).costUsd, 0.075);
    expect(notices).toEqual(['claude-opus-4-6: fast-mode call priced at standard rates: add an override with speed: fast']);
  });

  it('applies valid_from inclusive and valid_to exclusive by UTC day', () => {
    const p = pricer([{ name: 'nov', model: 'gpt-4o', valid_from: '2026-11-01', valid_to: '2026-12-01', prices: { input: 1, output: 1 } }]);
    const at = (timestamp: string) => p.price(call({ provider: 'openai', model: 'gpt-4o', input_tokens: 1_000_000, timestamp })).ref;
    expect(at('2026-10-31T23:59:59.999Z')).toBe('genai-prices:openai/gpt-4o');
    expect(at('2026-11-01T00:00:00.000Z')).toBe('override:nov');
    expect(at('2026-11-30T23:59:59.999Z')).toBe('override:nov');
    expect(at('2026-12-01T00:00:00.000Z')).toBe('genai-prices:openai/gpt-4o');
  });

  it('takes the first matching price entry', () => {
    const p = pricer([
      { name: 'first', model: 'gpt-*', prices: { input: 1 } },
      { name: 'second', model: 'gpt-4o', prices: { input: 2 } },
    ]);
    expect(p.price(call({ provider: 'openai', model: 'gpt-4o', input_tokens: 1 })).ref).toBe('override:first');
  });

  it.each<[string, OverrideConfig[], (string | number)[], RegExp]>([
    ['duplicate names', [{ name: 'a', model: 'x', multiplier: 2 }, { name: 'a', model: 'y', multiplier: 2 }], ['overrides', 1, 'name'], /duplicate override name 'a'/],
    ['tiers without prices', [{ name: 'a', model: 'x', multiplier: 2, tiers: [{ above_input_tokens: 1, prices: { input: 1 } }] }], ['overrides', 0, 'tiers'], /tiers need prices/],
    ['an empty date range', [{ name: 'a', model: 'x', multiplier: 2, valid_from: '2026-05-01', valid_to: '2026-05-01' }], ['overrides', 0, 'valid_to'], /must be after valid_from/],
    ['a day that does not exist', [{ name: 'a', model: 'x', multiplier: 2, valid_to: '2026-04-31' }], ['overrides', 0, 'valid_to'], /not a calendar day/],
    ['a regex for a glob', [{ name: 'a', model: 'gpt-4o|gpt-4.1', multiplier: 2 }], ['overrides', 0, 'model'], /contains '\|'/],
    ['an upper-case provider', [{ name: 'a', model: 'x', provider: 'Anthropic', multiplier: 2 }], ['overrides', 0, 'provider'], /lower-case/],
    ['repeated tier thresholds', [{ name: 'a', model: 'x', prices: { input: 1 }, tiers: [{ above_input_tokens: 5, prices: { input: 2 } }, { above_input_tokens: 5, prices: { input: 3 } }] }], ['overrides', 0, 'tiers', 1, 'above_input_tokens'], /two tiers above 5/],
  ])('validation refuses %s at the entry\'s field', (_what, overrides, path, message) => {
    const problems = costEnrichmentFactory.validate!(validConfig({ overrides }), { id: 'cost-enrichment', configDir: '.', env: {} });
    expect(problems).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('validation accepts the shipped overrides', () => {
    expect(costEnrichmentFactory.validate!(validConfig({ overrides: loadOverrides() }), { id: 'cost-enrichment', configDir: '.', env: {} })).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['an unknown key', { overrides: [{ name: 'a', model: 'x', multiplier: 2, colour: 'red' }] }],
    ['a malformed date', { overrides: [{ name: 'a', model: 'x', multiplier: 2, valid_from: '2026-13-01' }] }],
    ['no price, discount or multiplier', { overrides: [{ name: 'a', model: 'x' }] }],
    ['a discount over 100%', { overrides: [{ name: 'a', model: 'x', discount_percent: 120 }] }],
    ['an unknown token type', { overrides: [{ name: 'a', model: 'x', prices: { reasoning: 1 } }] }],
    ['two kinds in one entry', { overrides: [{ name: 'a', model: 'x', multiplier: 2, discount_percent: 5 }] }],
    ['a negative price', { overrides: [{ name: 'a', model: 'x', prices: { input: -1 } }] }],
    ['a price past 1,000,000 USD/MTok', { overrides: [{ name: 'a', model: 'x', prices: { input: 2e6 } }] }],
    ['a multiplier past 1000', { overrides: [{ name: 'a', model: 'x', multiplier: 1001 }] }],
  ])('the schema rejects %s', (_what, block) => {
    expect(() => validConfig(block)).toThrow(/invalid cost-enrichment config/);
  });
});
