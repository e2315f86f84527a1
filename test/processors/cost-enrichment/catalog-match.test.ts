import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { bundledCatalog, fileCatalog, lookup } from '../../../processors/cost-enrichment/catalog.js';
import { modelIdentity } from '../../../processors/cost-enrichment/model-alias.js';
import { costEnrichmentFactory } from '../../../processors/cost-enrichment/index.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { call, pricer } from './calls.js';
import { validConfig } from './default-overrides.js';

/**
 * A model the catalog does not know is never priced as another model: genai-prices' prefix rules
 * (`starts_with: claude-sonnet-5`) catch `claude-sonnet-5-5`; tokenledger keeps a match only when
 * it is the same model in another spelling or an id the entry names in full.
 */
const AT = new Date('2026-11-20T12:00:00.000Z');
const tokens: Partial<LlmCall> = { input_tokens: 1_000, output_tokens: 100 };

describe('catalog matching: exact, alias or unpriced', () => {
  it.each([
    ['anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['anthropic', 'claude-opus-4-6', 'claude-opus-4-6'],
    ['openai', 'gpt-4o', 'gpt-4o'],
    ['openai', 'gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'],
  ])('exact: %s %s is %s', (provider, model, entry) => {
    expect(lookup(bundledCatalog(), provider, model, AT).entry?.modelId).toBe(entry);
  });

  it.each([
    // dated snapshots
    ['anthropic', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['openai', 'gpt-4o-2024-08-06', 'gpt-4o'],
    ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    // -latest, and Anthropic's -0 alias
    ['anthropic', 'claude-3-5-haiku', 'claude-3-5-haiku-latest'],
    ['anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku-latest'],
    ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4-0'],
    ['anthropic', 'claude-sonnet-4', 'claude-sonnet-4-0'],
    // Bedrock profile prefixes and version suffixes, Vertex versions
    ['aws', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'regional.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['aws', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['google', 'claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    // an id the entry's rule spells out in full: the catalog's own alias
    ['deepseek', 'deepseek-r1', 'deepseek-reasoner'],
    ['anthropic', 'claude-5.0-sonnet', 'claude-sonnet-5'],
  ])('alias: %s %s is %s', (provider, model, entry) => {
    expect(lookup(bundledCatalog(), provider, model, AT).entry?.modelId).toBe(entry);
  });

  it.each([
    ['anthropic', 'claude-sonnet-5-5', 'anthropic/claude-sonnet-5'],
    ['aws', 'us.anthropic.claude-sonnet-5-5-v1:0', 'aws/regional.anthropic.claude-sonnet-5-v1:0'],
    ['google', 'claude-sonnet-5-5', 'anthropic/claude-sonnet-5'],
  ])('another model: %s %s is refused (genai-prices offers %s)', (provider, model, offered) => {
    const r = lookup(bundledCatalog(), provider, model, AT);
    expect(r.entry).toBeUndefined();
    expect(r.refused).toContain(offered);
  });

  it('refuses no model the catalog names in full (each entry id and each id its rules spell out)', () => {
    const catalog = bundledCatalog();
    for (const providerId of ['anthropic', 'aws', 'google', 'openai', 'azure', 'mistral', 'deepseek', 'x-ai', 'groq', 'cohere']) {
      const p = catalog.provider(providerId);
      expect(p, providerId).toBeDefined();
      for (const m of p!.models) {
        const ids = [m.id];
        const walk = (x: object): void => {
          if ('equals' in x) ids.push(String(x.equals));
          if ('or' in x && Array.isArray(x.or)) x.or.forEach(walk);
        };
        walk(m.match);
        for (const id of ids) expect(lookup(catalog, providerId, id, AT).refused, `${providerId} ${id}`).toEqual([]);
      }
    }
  });

  it('a data file is held to the same rule', () => {
    const file = fileCatalog('test/fixtures/pricing/genai-prices-data.json');
    expect(lookup(file, 'anthropic', 'claude-sonnet-4-5-20250929', AT).entry?.modelId).toBe('claude-sonnet-4-5');
    expect(lookup(file, 'anthropic', 'claude-sonnet-4-55', AT)).toEqual({ refused: ['anthropic/claude-sonnet-4-5'] });
  });
});

describe('model identity (model-alias.ts)', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['anthropic/claude-sonnet-4-5-latest', 'claude-sonnet-4-5'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['regional.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['us-gov.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['claude-3.5-haiku', 'claude-haiku-3-5'],
    ['claude-3-5-haiku-latest', 'claude-haiku-3-5'],
    ['claude-4.5-haiku', 'claude-haiku-4-5'],
    ['claude-sonnet-4-0', 'claude-sonnet-4'],
    ['claude-5.0-opus', 'claude-opus-5'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4.1-mini', 'gpt-4-1-mini'],
    ['gpt-4o:extended', 'gpt-4o:extended'],
  ])('%s → %s', (id, identity) => {
    expect(modelIdentity(id)).toBe(identity);
  });

  it('keeps different models apart', () => {
    for (const [a, b] of [['claude-sonnet-5-5', 'claude-sonnet-5'], ['claude-opus-4-1', 'claude-opus-4'], ['gpt-4o-mini', 'gpt-4o'], ['claude-haiku-4-5', 'claude-haiku-4']]) {
      expect(modelIdentity(a)).not.toBe(modelIdentity(b));
    }
  });
});

describe('an unknown model is unpriced and counted, not priced as its neighbour', () => {
  it('Sonnet 5.5 without an override: cost 0, no price_ref, tokenledger_llm_unpriced_calls_total, one warning naming the refused entry', async () => {
    const ctx = testContext('cost-enrichment');
    const processor = costEnrichmentFactory.create(validConfig({}), ctx);
    const out = await processor.process(batchOf({ calls: [
      call({ call_id: 'a', provider: 'anthropic', model: 'claude-sonnet-5-5', model_raw: 'claude-sonnet-5-5', ...tokens }),
      call({ call_id: 'b', provider: 'aws.bedrock', model: 'claude-sonnet-5-5', model_raw: 'us.anthropic.claude-sonnet-5-5-v1:0', region: 'us', ...tokens }),
    ] }));
    expect(out.calls.map((c) => [c.cost_usd, c.price_ref])).toEqual([[0, ''], [0, '']]);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_unpriced_calls_total', { model: 'claude-sonnet-5-5', provider: 'anthropic' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_unpriced_calls_total', { model: 'claude-sonnet-5-5', provider: 'aws.bedrock' })).toBe(1);
    const warning = ctx.logs.find((l) => l.msg === 'no price for model; cost_usd set to 0' && l.provider === 'anthropic');
    expect(warning).toMatchObject({ level: 'warn', model: 'claude-sonnet-5-5', reason: 'unknown_model' });
    expect(String(warning?.detail)).toContain('anthropic/claude-sonnet-5');
  });

  it('the same call with the shipped override is priced by it', () => {
    const r = pricer([{ name: 's55', model: 'claude-sonnet-5-5*', prices: { input: 2, output: 10 } }]).price(call({ provider: 'anthropic', model: 'claude-sonnet-5-5', ...tokens }));
    expect([r.ref, r.costUsd]).toEqual(['override:s55', 0.003]);
  });
});
