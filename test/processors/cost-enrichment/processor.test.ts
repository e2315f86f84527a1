import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { factories } from '../../../bin/components.js';
import type { LlmCall } from '../../../core/llm-call.js';
import { costEnrichmentFactory } from '../../../processors/cost-enrichment/index.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { call, TOLERANCE } from './calls.js';
import { DEFAULT_OVERRIDES_FILE, pipelineBlock, validConfig } from './default-overrides.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/pricing/', import.meta.url));
const sonnet = (fields: Partial<LlmCall> = {}) => call({ provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: 10_000, output_tokens: 2_000, ...fields });

function create(block: unknown = {}, configDir?: string) {
  const ctx = testContext('cost-enrichment', { configDir });
  return { ctx, processor: costEnrichmentFactory.create(validConfig(block), ctx) };
}

describe('cost-enrichment processor', () => {
  it('is registered in bin/components.ts', () => {
    expect(factories).toContain(costEnrichmentFactory);
  });

  it('fills schema defaults into an empty block', () => {
    expect(validConfig(null)).toEqual(costEnrichmentFactory.defaults);
  });

  it('prices calls and updates into new records and leaves the shared batch untouched', async () => {
    const { processor } = create();
    const input = batchOf({ calls: [sonnet({ call_id: 'a' })], updates: [sonnet({ call_id: 'b', session_id: 's1' })] });
    const before = structuredClone(input);
    const out = await processor.process(input);
    expect(input).toEqual(before);
    expect(out).not.toBe(input);
    expect(out.calls[0]).not.toBe(input.calls[0]);
    for (const r of [...out.calls, ...out.updates]) {
      expect(Math.abs(r.cost_usd - 0.06)).toBeLessThanOrEqual(TOLERANCE);
      expect(r.price_ref).toBe('genai-prices:anthropic/claude-sonnet-4-5');
    }
    expect(out.updates[0].session_id).toBe('s1');
  });

  it('counts and logs unpriced calls once per model, never updates', async () => {
    const { processor, ctx } = create();
    const unknown = (id: string) => call({ call_id: id, provider: 'anthropic', model: 'claude-nonesuch-9', input_tokens: 5, cost_usd: 1, price_ref: 'stale' });
    const out = await processor.process(batchOf({ calls: [unknown('a'), unknown('b')], updates: [unknown('c')] }));
    expect(out.calls.map((c) => [c.cost_usd, c.price_ref])).toEqual([[0, ''], [0, '']]);
    expect(out.updates[0].cost_usd).toBe(0);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_unpriced_calls_total', { model: 'claude-nonesuch-9', provider: 'anthropic' })).toBe(2);
    const lines = ctx.logs.filter((l) => l.msg === 'no price for model; cost_usd set to 0');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', model: 'claude-nonesuch-9', provider: 'anthropic', reason: 'unknown_model' });
  });

  it('counts calls whose reported cost drifts beyond the tolerance', async () => {
    const { processor, ctx } = create({ drift_tolerance_usd: 0.000001, drift_tolerance_ratio: 0.01 });
    await processor.process(batchOf({
      calls: [
        sonnet({ reported_cost_usd: 0.06 }), // exact
        sonnet({ reported_cost_usd: 0.0605 }), // within 1%
        sonnet({ reported_cost_usd: 0.07 }), // drift
        sonnet({ reported_cost_usd: null }), // nothing reported
      ],
      updates: [sonnet({ reported_cost_usd: 0.5 })],
    }));
    expect(await metricValue(ctx.registry, 'tokenledger_cost_drift_calls_total', { model: 'claude-sonnet-4-5' })).toBe(1);
    expect(ctx.logs.filter((l) => l.msg === 'reported cost differs from computed cost')).toHaveLength(1);
  });

  it('loads a genai-prices data file relative to the config directory, with its dated prices and fallbacks', async () => {
    const { processor, ctx } = create({ data_file: 'genai-prices-data.json' }, FIXTURES);
    const out = await processor.process(batchOf({ calls: [
      sonnet({ timestamp: '2026-11-30T12:00:00.000Z' }),
      sonnet({ timestamp: '2026-12-01T00:00:00.000Z' }),
      sonnet({ provider: 'gcp.vertex_ai', region: 'global', timestamp: '2026-12-01T00:00:00.000Z' }),
      call({ provider: 'openai', model: 'gpt-4o', input_tokens: 1 }),
    ] }));
    expect(out.calls.map((c) => c.price_ref)).toEqual(['genai-prices:anthropic/claude-sonnet-4-5', 'genai-prices:anthropic/claude-sonnet-4-5', 'genai-prices:anthropic/claude-sonnet-4-5', '']);
    expect(Math.abs(out.calls[0].cost_usd - 0.06)).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(out.calls[1].cost_usd - 0.04)).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(out.calls[2].cost_usd - 0.04)).toBeLessThanOrEqual(TOLERANCE);
    expect(ctx.logs.find((l) => l.msg === 'cost-enrichment ready')).toMatchObject({ catalog: `${FIXTURES}genai-prices-data.json` });
  });

  it.each([
    ['a missing file', 'no-such-file.json', /cannot read data_file .*no-such-file\.json/],
    ['a file that is not a provider list', 'default-overrides.yaml', /cannot read data_file/],
  ])('fails at create() on %s, naming the file', (_what, file, message) => {
    expect(() => create({ data_file: file }, FIXTURES)).toThrow(message);
  });

  it('rejects a data file whose items are not providers', () => {
    expect(() => create({ data_file: `${FIXTURES}../claude-code/otlp/claude-p-output-format-json.v2.1.330.json` })).toThrow(/expected a JSON array|is not a provider/);
  });
});

describe('shipped pipeline.yaml', () => {
  const file = fileURLToPath(new URL('../../../pipeline.yaml', import.meta.url));
  const shipped = existsSync(file) ? (pipelineBlock(file) as { overrides?: unknown } | null | undefined) : undefined;
  it.skipIf(!shipped?.overrides)('carries the default overrides of test/fixtures/pricing/default-overrides.yaml', () => {
    const expected = validConfig(pipelineBlock(DEFAULT_OVERRIDES_FILE)).overrides;
    expect(validConfig(shipped).overrides).toEqual(expect.arrayContaining(expected));
  });
});
