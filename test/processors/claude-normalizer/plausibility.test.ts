import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import type { AnyValue, Attributes } from '../../../core/telemetry.js';
import { DEFAULT_ATTRIBUTION } from '../../../processors/claude-normalizer/config.js';
import { boundString, MAX_STRING_LENGTH, MAX_TAGS } from '../../../processors/claude-normalizer/bounded-strings.js';
import {
  costCeilingUsd, MAX_CALL_OUTPUT_TOKENS, MAX_CALL_PROMPT_TOKENS, reportedCostVerdict, tokenVerdict,
} from '../../../processors/claude-normalizer/plausibility.js';
import { batchOf, metricValue } from '../../helpers/context.js';
import { FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';

const T0 = 1_795_000_000_000;
let seq = 0;

/** A Claude Code api_request event (the billed report of a Claude Code call) with the given attributes on top. */
function event(over: Attributes, resource: Attributes = { 'service.name': 'claude-code' }): Batch {
  seq++;
  const attributes: Attributes = {
    'event.name': 'api_request', model: 'claude-sonnet-4-5-20250929', request_id: `req_${seq}`, 'session.id': 'sess-1',
    input_tokens: 10, output_tokens: 5, cache_read_tokens: 0, cache_creation_tokens: 0, cost_usd: 0.0001, duration_ms: 900, ...over,
  };
  return batchOf({
    resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'com.anthropic.claude_code.events', version: '2.1.330', attributes: {} }, logRecords: [{
      timeUnixNano: `${T0 + seq}000000`, observedTimeUnixNano: '', severityNumber: 9, severityText: '', body: 'claude_code.api_request',
      attributes, traceId: '', spanId: '', eventName: '',
    }] }] }],
  });
}

/** Claude Code metrics for one series over [from, to] seconds after T0 (delta unless `cumulative`). */
function interval(fromS: number, toS: number, tokens: Record<string, number>, cumulative = false, session = 'sess-m'): Batch {
  const point = (type: string, value: number) => ({
    attributes: { 'session.id': session, model: 'claude-sonnet-4-5-20250929', type } as Attributes,
    startTimeUnixNano: `${T0 + fromS * 1000}000000`, timeUnixNano: `${T0 + toS * 1000}000000`, value,
  });
  return batchOf({
    resourceMetrics: [{ resource: { 'service.name': 'claude-code' }, scopeMetrics: [{ scope: { name: 'com.anthropic.claude_code', version: '2.1.330', attributes: {} }, metrics: [{
      name: 'claude_code.token.usage', description: '', unit: 'tokens',
      sum: { aggregationTemporality: cumulative ? 2 : 1, isMonotonic: true, dataPoints: Object.entries(tokens).map(([t, v]) => point(t, v)) },
    }] }] }],
  });
}

const call = (over: Partial<LlmCall>): LlmCall => ({ ...emptyCall(), ...over });

describe('implausible token counts are quarantined, never billed', () => {
  it('output beyond any model (1e12 was a $15M row) and counts past 2^53 (1e20 reached /metrics only)', async () => {
    const { n, ctx } = normalizer();
    expect(n.process(event({ output_tokens: 1e12 })).calls).toEqual([]);
    expect(n.process(event({ output_tokens: 1e20 })).calls).toEqual([]);
    expect(n.process(event({ cache_read_tokens: MAX_CALL_PROMPT_TOKENS + 1 })).calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_quarantined_total', { source: 'claude_code', reason: 'output_tokens_above_bound' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_quarantined_total', { source: 'claude_code', reason: 'invalid_tokens' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_quarantined_total', { source: 'claude_code', reason: 'prompt_tokens_above_bound' })).toBe(1);
    const logged = ctx.logs.filter((l) => l.msg === 'implausible report quarantined, not billed');
    expect(logged.map((l) => [l.reason, l.output_tokens])).toEqual([['output_tokens_above_bound', 1e12], ['invalid_tokens', null], ['prompt_tokens_above_bound', 5]]);
    expect(logged[0]).toMatchObject({ level: 'warn', source: 'claude_code', shape: 'claude_code_event', call_id: expect.stringMatching(/^req_/) });
  });

  it('negative and fractional counts quarantine the report instead of billing it without them', async () => {
    const { n, ctx } = normalizer();
    for (const bad of [{ output_tokens: -5 }, { input_tokens: 10.5 }, { cache_read_tokens: -1 }, { cache_creation_tokens: 0.25 }] as Record<string, AnyValue>[]) {
      expect(n.process(event(bad)).calls, JSON.stringify(bad)).toEqual([]);
    }
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_quarantined_total', { source: 'claude_code', reason: 'invalid_tokens' })).toBe(4);
  });

  it('the largest real calls pass: a full 10M-token context and 1M output', () => {
    const { n } = normalizer();
    const [c] = n.process(event({ input_tokens: 1_000_000, cache_read_tokens: MAX_CALL_PROMPT_TOKENS - 1_000_000, output_tokens: MAX_CALL_OUTPUT_TOKENS })).calls;
    expect([c.input_tokens, c.cache_read_tokens, c.output_tokens]).toEqual([1_000_000, 9_000_000, 1_000_000]);
  });

  it('a quarantined report is not indexed: a sane report of the same call is billed, once', () => {
    const { n } = normalizer();
    expect(n.process(event({ request_id: 'req_same', output_tokens: 1e12 })).calls).toEqual([]);
    const [c] = n.process(event({ request_id: 'req_same', output_tokens: 7 })).calls;
    expect(c).toMatchObject({ call_id: 'req_same', output_tokens: 7 });
    expect(n.process(event({ request_id: 'req_same', output_tokens: 7 })).calls).toEqual([]);
  });

  it('usage_interval records are bounded by how many calls their interval can hold', async () => {
    const { n, ctx } = normalizer({ claude_code: { usage_from: 'metrics' } });
    // 60 s of a busy session: far more than one call's context, within 10 calls a second.
    const [ok] = n.process(interval(0, 60, { cacheRead: 50 * MAX_CALL_PROMPT_TOKENS, output: 2_000_000 })).calls;
    expect(ok).toMatchObject({ record_type: 'usage_interval', cache_read_tokens: 50 * MAX_CALL_PROMPT_TOKENS, output_tokens: 2_000_000 });
    expect(n.process(interval(60, 61, { output: 11 * MAX_CALL_OUTPUT_TOKENS })).calls).toEqual([]);
    expect(n.process(interval(61, 121, { input: -100 })).calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_quarantined_total', { source: 'claude_code', reason: 'output_tokens_above_bound' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_quarantined_total', { source: 'claude_code', reason: 'invalid_tokens' })).toBe(1);
    // Billing events, the metrics only feed the drift comparison: a negative delta used to throw there.
    expect(normalizer().n.process(interval(0, 60, { input: -100 })).calls).toEqual([]);
  });

  it('rules: counts must be non-negative safe integers; bounds scale with an interval, capped at a day', () => {
    expect(tokenVerdict(call({ output_tokens: Number.NaN }))).toBe('invalid_tokens');
    expect(tokenVerdict(call({ input_tokens: 2 ** 53 }))).toBe('invalid_tokens');
    expect(tokenVerdict(call({ cache_write_1h_tokens: MAX_CALL_PROMPT_TOKENS }))).toBe('');
    expect(tokenVerdict(call({ cache_write_1h_tokens: MAX_CALL_PROMPT_TOKENS, input_tokens: 1 }))).toBe('prompt_tokens_above_bound');
    const day = call({ record_type: 'usage_interval', duration_ms: 7 * 86_400_000, output_tokens: 864_000 * MAX_CALL_OUTPUT_TOKENS });
    expect(tokenVerdict(day)).toBe('');
    expect(tokenVerdict({ ...day, output_tokens: day.output_tokens + 1 })).toBe('output_tokens_above_bound');
    expect(tokenVerdict(call({ record_type: 'usage_interval', duration_ms: Number.NaN, output_tokens: MAX_CALL_OUTPUT_TOKENS + 1 }))).toBe('output_tokens_above_bound');
  });
});

describe('reported costs that cannot be right are not trusted', () => {
  it('negative, or above every token at the dearest rate plus fees: recorded as null and counted, the call still billed', async () => {
    const { n, ctx } = normalizer();
    const [neg] = n.process(event({ cost_usd: -0.5 })).calls;
    const [huge] = n.process(event({ cost_usd: 15_000_000 })).calls;
    const [fine] = n.process(event({ cost_usd: 0.0123 })).calls;
    expect([neg.reported_cost_usd, huge.reported_cost_usd, fine.reported_cost_usd]).toEqual([null, null, 0.0123]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_untrusted_reported_costs_total', { source: 'claude_code', reason: 'negative' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_untrusted_reported_costs_total', { source: 'claude_code', reason: 'above_ceiling' })).toBe(1);
  });

  it('rules', () => {
    const c = call({ input_tokens: 1_000_000, output_tokens: 1_000_000 });
    expect(costCeilingUsd(c)).toBe(3010);
    expect(reportedCostVerdict({ ...c, reported_cost_usd: 3010 })).toBe('');
    expect(reportedCostVerdict({ ...c, reported_cost_usd: 3010.01 })).toBe('above_ceiling');
    expect(reportedCostVerdict({ ...c, reported_cost_usd: Number.POSITIVE_INFINITY })).toBe('not_finite');
    expect(reportedCostVerdict({ ...c, reported_cost_usd: null })).toBe('');
    // A call without tokens may still carry fees (an image, web searches).
    expect(reportedCostVerdict(call({ reported_cost_usd: 2 }))).toBe('');
  });
});

describe('strings that become labels and columns are capped, and the cut is counted', () => {
  const big = (c: string) => c.repeat(8 << 20);

  it('an 8 MB team, user, session and model become 256 characters; the same value always reads the same, two values stay two', async () => {
    const { n, ctx } = normalizer();
    const over = { 'team.id': big('t'), 'user.id': big('u'), 'session.id': big('s'), model: `claude-sonnet-4-5-${big('m')}` };
    const [a] = n.process(event(over)).calls;
    const [b] = n.process(event(over)).calls;
    const [c] = n.process(event({ ...over, 'team.id': `${big('t')}x` })).calls;
    for (const f of ['team', 'user', 'session_id', 'model', 'model_raw'] as const) expect(a[f].length, f).toBe(MAX_STRING_LENGTH);
    expect(a.team.startsWith('ttt')).toBe(true);
    expect(b.team).toBe(a.team);
    expect(c.team).not.toBe(a.team);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_truncated_values_total', { field: 'team' })).toBe(3);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_truncated_values_total', { field: 'model_raw' })).toBe(3);
  });

  it('a request id of megabytes still de-duplicates (its join key and call_id are capped the same way each time)', () => {
    const { n } = normalizer();
    const id = `req_${big('r')}`;
    const [first] = n.process(event({ request_id: id })).calls;
    expect(first.call_id).toBe(boundString(id, MAX_STRING_LENGTH));
    expect(n.process(event({ request_id: id })).calls).toEqual([]);
  });

  it('a cumulative Claude Code series with a megabyte attribute is still one series (its state key is capped, not the identity)', () => {
    const { n } = normalizer({ claude_code: { usage_from: 'metrics' } });
    const session = big('s');
    const first = n.process(interval(0, 60, { input: 100 }, true, session)).calls;
    const second = n.process(interval(0, 120, { input: 150 }, true, session)).calls;
    const other = n.process(interval(0, 120, { input: 150 }, true, `${session}x`)).calls;
    expect([first[0].input_tokens, second[0].input_tokens, other[0].input_tokens]).toEqual([100, 50, 150]);
    expect(second[0].session_id).toHaveLength(MAX_STRING_LENGTH);
  });

  it('tags are capped in number and length; kept attribute values at attributes.max_value_length, counted', async () => {
    const { n, ctx } = normalizer({ attribution: { ...DEFAULT_ATTRIBUTION, tags: ['attribute:tag.tags'] } });
    const tags = Array.from({ length: 1000 }, (_, i) => `t${i}`).join(',');
    const [c] = n.process(event({ 'tag.tags': `${tags},${big('x')}`, query_source: big('q') })).calls;
    expect(c.tags).toHaveLength(MAX_TAGS);
    expect(c.attributes.query_source).toBe('q'.repeat(256));
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_truncated_values_total', { field: 'tags' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_truncated_values_total', { field: 'attributes' })).toBe(1);
  });
});

describe('real captures', () => {
  // OTLP/HTTP captures (gRPC ones hold framed messages; the same exports were captured over HTTP too).
  const scenarios = (readdirSync(FIXTURES, { recursive: true }) as string[])
    .filter((f) => f.endsWith('index.jsonl') && !readFileSync(join(FIXTURES, f), 'utf8').includes('"transport":"grpc"'))
    .map((f) => join(FIXTURES, dirname(f)));

  it('none trips a bound, a cost check or a length cap (Claude Code events and metrics, every LiteLLM release captured)', async () => {
    expect(scenarios.length).toBeGreaterThan(10);
    for (const usage_from of ['events', 'metrics'] as const) {
      for (const dir of scenarios) {
        const { n, ctx } = normalizer({ claude_code: { usage_from } });
        const billed = runAll(n, loadScenario(dir)).flatMap((b) => b.calls);
        for (const name of ['tokenledger_normalizer_quarantined_total', 'tokenledger_normalizer_untrusted_reported_costs_total', 'tokenledger_normalizer_truncated_values_total']) {
          const metric = ctx.registry.getSingleMetric(name);
          const total = metric ? (await metric.get()).values.reduce((a, v) => a + v.value, 0) : 0;
          expect(total, `${name} on ${dir} (${usage_from})`).toBe(0);
        }
        expect(billed.every((c) => c.reported_cost_usd === null || c.reported_cost_usd <= costCeilingUsd(c)), dir).toBe(true);
      }
    }
  });
});
