import { describe, expect, it } from 'vitest';
import { prometheusExporterFactory } from '../../../exporters/prometheus/index.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { configOf, llmCall } from './helpers.js';

const base = { provider: 'anthropic', model: 'claude-sonnet-4-5', route: 'openai_chat', source: 'litellm' };

describe('prometheus exporter: spend metrics', () => {
  it('counts calls, tokens by type, cost and latency with attribution labels', async () => {
    const ctx = testContext('prometheus');
    const exp = prometheusExporterFactory.create(configOf({ labels: ['team', 'project'] }), ctx);
    await exp.start?.();
    await exp.consume(batchOf({
      calls: [
        llmCall({ team: 'platform', dimensions: { project: 'search' }, input_tokens: 100, output_tokens: 20, cache_read_tokens: 1000, cache_write_5m_tokens: 5, cache_write_1h_tokens: 7, cost_usd: 0.5, duration_ms: 2000, ttft_ms: 300, streaming: true }),
        llmCall({ team: 'platform', dimensions: { project: 'search' }, input_tokens: 1, cost_usd: 0.25, status: 'error', error_type: 'RateLimitError' }),
        llmCall({ team: 'research', input_tokens: 3, cost_usd: 1 }),
      ],
    }));
    const platform = { ...base, team: 'platform', project: 'search' };
    expect(await metricValue(ctx.registry, 'tokenledger_llm_calls_total', { ...platform, status: 'ok' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_calls_total', { ...platform, status: 'error' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { ...platform, token_type: 'input' })).toBe(101);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { ...platform, token_type: 'cache_read' })).toBe(1000);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { ...platform, token_type: 'cache_write_5m' })).toBe(5);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { ...platform, token_type: 'cache_write_1h' })).toBe(7);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', platform)).toBeCloseTo(0.75, 12);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', { ...base, team: 'research', project: '' })).toBe(1);
    const text = await ctx.registry.metrics();
    expect(text).toMatch(/tokenledger_llm_call_duration_seconds_bucket\{le="2.5",provider="anthropic",model="claude-sonnet-4-5",route="openai_chat",source="litellm",team="platform",project="search"\} 2/);
    expect(text).toMatch(/tokenledger_llm_time_to_first_token_seconds_count\{[^}]*team="platform"[^}]*\} 1/);
    expect(text).not.toMatch(/time_to_first_token_seconds_count\{[^}]*team="research"/);
    await exp.shutdown?.();
  });

  it('ignores batch.updates (already counted) and counts a usage_interval as tokens and cost, not as a call', async () => {
    const ctx = testContext('prometheus');
    const exp = prometheusExporterFactory.create(configOf({}), ctx);
    await exp.start?.();
    const first = llmCall({ team: 't', cost_usd: 2, input_tokens: 10 });
    await exp.consume(batchOf({ calls: [first] }));
    await exp.consume(batchOf({ updates: [{ ...first, session_id: 's1' }] }));
    await exp.consume(batchOf({ calls: [llmCall({ team: 't', record_type: 'usage_interval', source: 'claude_code', route: 'claude_code', input_tokens: 50, cost_usd: 3, duration_ms: 0 })] }));
    const labels = { ...base, team: 't', customer: '', key_alias: '' };
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', labels)).toBe(2);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_calls_total', labels)).toBe(1);
    const cc = { ...labels, source: 'claude_code', route: 'claude_code' };
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', cc)).toBe(3);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { ...cc, token_type: 'input' })).toBe(50);
    expect(await ctx.registry.metrics()).not.toMatch(/tokenledger_llm_calls_total\{[^}]*source="claude_code"/);
  });

  it('counts only the rise of an update\'s cost (a restored 5m/1h split), never a fall, and no tokens or call', async () => {
    const ctx = testContext('prometheus');
    const exp = prometheusExporterFactory.create(configOf({}), ctx);
    await exp.start?.();
    // LiteLLM 1.80 reports all cache writes at the 5m rate; Claude Code's event brings 1200/300 for the same total.
    const first = llmCall({ team: 't', cache_write_5m_tokens: 1500, cost_usd: 2 });
    await exp.consume(batchOf({ calls: [first] }));
    await exp.consume(batchOf({ updates: [{ ...first, cache_write_5m_tokens: 1200, cache_write_1h_tokens: 300, cost_usd: 2.25 }] }));
    await exp.consume(batchOf({ updates: [{ ...first, cost_usd: 2.1 }, llmCall({ team: 't', cost_usd: 9 })] }));
    const labels = { ...base, team: 't', customer: '', key_alias: '' };
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', labels)).toBeCloseTo(2.25, 12);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_calls_total', { ...labels, status: 'ok' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { ...labels, token_type: 'cache_write_5m' })).toBe(1500);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { ...labels, token_type: 'cache_write_1h' })).toBe(0);
    // Another replica counted this call: the update's base (the version it replaces) tells the rise.
    const elsewhere = llmCall({ team: 't', cache_write_5m_tokens: 1500, cost_usd: 2 });
    const restored = { ...elsewhere, cache_write_5m_tokens: 1200, cache_write_1h_tokens: 300, cost_usd: 2.25 };
    await exp.consume(batchOf({ updates: [restored], updateBases: [elsewhere] }));
    await exp.consume(batchOf({ updates: [restored], updateBases: [elsewhere] }));
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', labels)).toBeCloseTo(2.5, 12);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_calls_total', { ...labels, status: 'ok' })).toBe(1);
    await exp.shutdown?.();
  });

  it('skips negative and non-finite values, counts them, and never throws', async () => {
    const ctx = testContext('prometheus');
    const exp = prometheusExporterFactory.create(configOf({}), ctx);
    await exp.start?.();
    await exp.consume(batchOf({ calls: [llmCall({ cost_usd: Number.NaN, input_tokens: -5, output_tokens: 3, duration_ms: Number.POSITIVE_INFINITY, ttft_ms: -1 })] }));
    for (const field of ['cost_usd', 'input', 'duration_ms', 'ttft_ms']) {
      expect(await metricValue(ctx.registry, 'tokenledger_prometheus_invalid_values_total', { exporter: 'prometheus', field }), field).toBe(1);
    }
    expect(await metricValue(ctx.registry, 'tokenledger_llm_tokens_total', { token_type: 'output' })).toBe(3);
  });

  it('folds label values past max_label_sets into __other__ and counts the folded calls', async () => {
    const ctx = testContext('prometheus');
    const exp = prometheusExporterFactory.create(configOf({ labels: ['user'], max_label_sets: 10 }), ctx);
    await exp.start?.();
    const calls = Array.from({ length: 500 }, (_, i) => llmCall({ user: `u${i}`, cost_usd: 0.01 }));
    await exp.consume(batchOf({ calls }));
    const { values } = await ctx.registry.getSingleMetric('tokenledger_llm_cost_usd_total')!.get();
    expect(values.length).toBe(11);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', { user: '__other__' })).toBeCloseTo(4.9, 9);
    expect(values.reduce((s, v) => s + v.value, 0)).toBeCloseTo(5, 9);
    expect(await metricValue(ctx.registry, 'tokenledger_prometheus_folded_calls_total', { exporter: 'prometheus' })).toBe(490);
    await exp.shutdown?.();
  });

  it('a reload (new instance, same registry) keeps counting and counts old series against the cap', async () => {
    const ctx = testContext('prometheus');
    const config = configOf({ labels: ['team'], max_label_sets: 2 });
    const first = prometheusExporterFactory.create(config, ctx);
    await first.start?.();
    await first.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 }), llmCall({ team: 'b', cost_usd: 1 })] }));
    await first.shutdown?.();
    const second = prometheusExporterFactory.create(config, ctx);
    await second.start?.();
    await second.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 }), llmCall({ team: 'c', cost_usd: 1 })] }));
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', { team: 'a' })).toBe(2);
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', { team: '__other__' })).toBe(1);
    expect(ctx.logs.filter((l) => l.msg === 'spend metric labels changed: resetting the metric')).toEqual([]);
    await second.shutdown?.();
  });

  it('a reload with a different label list resets the spend metrics instead of failing on every call', async () => {
    const ctx = testContext('prometheus');
    const first = prometheusExporterFactory.create(configOf({ labels: ['team'] }), ctx);
    await first.start?.();
    await first.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] }));
    const second = prometheusExporterFactory.create(configOf({ labels: ['team', 'customer'] }), ctx);
    await second.start?.();
    await second.consume(batchOf({ calls: [llmCall({ team: 'a', customer: 'acme', cost_usd: 1 })] }));
    expect(await metricValue(ctx.registry, 'tokenledger_llm_cost_usd_total', { team: 'a', customer: 'acme' })).toBe(1);
    expect(ctx.logs.some((l) => l.msg === 'spend metric labels changed: resetting the metric')).toBe(true);
  });

  it('rejects bad configs with the offending field named', () => {
    const validate = (c: Record<string, unknown>) => prometheusExporterFactory.validate!(configOf(c), { id: 'prometheus/x', configDir: '.', env: {} });
    expect(validate({})).toEqual([]);
    expect(validate({ labels: ['team', 'model'] })).toEqual([{ path: ['labels', 1], message: expect.stringMatching(/^'model' is reserved/) }]);
    // Budgets moved to the budget exporter: the old keys say where.
    expect(validate({ budgets: [{ name: 'b', scope: { team: '*' }, limit_usd: 1 }], budget_sync_ms: 15000 })).toEqual([
      { path: ['budgets'], message: expect.stringMatching(/^'budgets' moved to the budget exporter: declare `exporters: \{ budget: \{ ledger: clickhouse/) },
      { path: ['budget_sync_ms'], message: expect.stringMatching(/^'budget_sync_ms' moved to the budget exporter/) },
    ]);
    expect(() => configOf({ bogus: 1 })).toThrow(/additionalProperties/);
  });

  it('applies the documented defaults', () => {
    const c = configOf({});
    expect(c).toEqual({ labels: ['team', 'customer', 'key_alias'], max_label_sets: 2000 });
    expect(prometheusExporterFactory.defaults).toEqual(c);
  });
});
