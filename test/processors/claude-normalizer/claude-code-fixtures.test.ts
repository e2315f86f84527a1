import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { metricValue } from '../../helpers/context.js';
import { finalRecords, FIXTURES, loadScenario, normalizer, round, runAll, sum } from './helpers.js';

const CC = join(FIXTURES, 'claude-code/otlp');
const scenario = (name: string) => loadScenario(join(CC, name));
const calls = (bs: { calls: LlmCall[] }[]) => bs.flatMap((b) => b.calls);

/** What the mock returned for every call (test/fixtures/claude-code/README.md). */
const MOCK = { input_tokens: 25, output_tokens: 42, cache_read_tokens: 9800, cache_write_5m_tokens: 1200, cache_write_1h_tokens: 0 };
const COMMON = {
  record_type: 'call', source: 'claude_code', source_version: '2.1.330', route: 'claude_code', provider: 'anthropic',
  provider_inferred: false, region: '', status: 'ok', error_type: '', streaming: true, team: 'platform', key_alias: '',
  customer: '', tags: [], dimensions: {}, service_name: 'claude-code', cost_usd: 0, price_ref: '',
};

describe('Claude Code events (usage_from: events)', () => {
  it('hello over http/json: one record equal to the api_request event', () => {
    const { n } = normalizer();
    const out = runAll(n, scenario('v2.1.330-hello-http-json'));
    expect(calls(out)).toEqual([{
      ...COMMON, ...MOCK,
      call_id: 'req_mock8851886cfd695c663117',
      timestamp: '2026-11-23T05:10:18.561Z', // event time 18.590 minus duration_ms 29
      duration_ms: 29, ttft_ms: 21, trace_id: '', span_id: '',
      model: 'claude-opus-5-5', model_raw: 'claude-opus-5-5',
      reported_cost_usd: 0.008899999999999998,
      user: '6ec117d371857b3b4853ca2a8c319245a0e08cdb56984fa8f3073ff16dd08cf7',
      session_id: 'e781846e-cd55-4ca1-a959-690dd2306d96',
      attributes: { 'query_source': 'sdk', effort: 'medium', speed: 'normal', 'prompt.id': '4fadc6e8-ee6b-43ec-af03-c628f1153fb2' },
    }]);
    expect(out.flatMap((b) => b.updates)).toEqual([]);
  });

  it('hello over http/protobuf gives the same record shape', () => {
    const { n } = normalizer();
    const cs = calls(runAll(n, scenario('v2.1.330-hello-http-protobuf')));
    expect(cs).toHaveLength(1);
    expect(cs[0]).toMatchObject({ ...COMMON, ...MOCK, model: 'claude-opus-5-5', reported_cost_usd: 0.008899999999999998 });
    expect(cs[0].call_id).toMatch(/^req_mock/);
  });

  it('two calls with traces: one record per api_request; the llm_request spans only link them', async () => {
    const { n, ctx } = normalizer();
    const out = runAll(n, scenario('v2.1.330-write-tool-with-traces'));
    const cs = calls(out);
    // Traces arrive first (001-traces.json) and are held as links; the events bill, with their own tokens and cost.
    expect(cs.map((c) => [c.call_id, c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_5m_tokens, c.cache_write_1h_tokens, c.reported_cost_usd])).toEqual([
      ['req_mock6cd1b6060222712d1154', 25, 42, 9800, 1200, 0, 0.008899999999999998],
      ['req_mockfd37c2fb647714a68718', 25, 42, 9800, 1200, 0, 0.008899999999999998],
    ]);
    expect(cs[0]).toMatchObject({ trace_id: '4352a0a6700d0a06f77392bb94ba44fd', timestamp: '2026-11-23T05:11:21.000Z', duration_ms: 38, ttft_ms: 21, session_id: '95477689-6a31-4c00-a3f5-db8529ebc7ae' });
    expect(out.flatMap((b) => b.updates)).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_joins_total', { first: 'claude_code', second: 'claude_code' })).toBe(2);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_records_total', { source: 'claude_code', shape: 'claude_code_event', record_type: 'call' })).toBe(2);
    // Content never leaves: the prompt, the response and tool input were in these events and spans.
    const text = JSON.stringify(cs);
    for (const secret of ['WRITEFILE', 'I will create the file', 'hello.txt', 'three lines']) expect(text).not.toContain(secret);
  });

  it('events before spans: the same records, the spans add nothing billable', () => {
    const { n } = normalizer();
    const bs = scenario('v2.1.330-write-tool-with-traces');
    const out = runAll(n, [bs[1], bs[2], bs[0]]);
    expect(calls(out).map((c) => [c.call_id, c.reported_cost_usd])).toEqual([
      ['req_mock6cd1b6060222712d1154', 0.008899999999999998],
      ['req_mockfd37c2fb647714a68718', 0.008899999999999998],
    ]);
    expect(out.flatMap((b) => b.updates).every((u) => u.input_tokens === 25)).toBe(true);
  });

  it('delta multi-export: two calls, two records, sums equal the mock times two', async () => {
    const { n, ctx } = normalizer();
    const cs = calls(runAll(n, scenario('v2.1.330-delta-multi-export')));
    expect(cs).toHaveLength(2);
    expect(cs.every((c) => c.model === 'claude-sonnet-4-5' && c.model_raw === 'claude-sonnet-4-5-20250929' && c.reported_cost_usd === 0.008145)).toBe(true);
    expect(sum(cs)).toEqual({ input: 50, output: 84, cache_read: 19600, cache_write: 2400 });
    // Metrics were reconciled, not billed: drift zero.
    for (const type of ['input', 'output', 'cache_read', 'cache_write_5m']) {
      expect(await metricValue(ctx.registry, 'tokenledger_normalizer_claude_code_drift_tokens', { type })).toBe(0);
    }
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_claude_code_tokens_total', { from: 'metrics', type: 'cache_read' })).toBe(19600);
  });

  it('529 retries exhausted: one error record, no tokens', () => {
    const { n } = normalizer();
    const cs = calls(runAll(n, scenario('v2.1.330-api-error-529-retries-exhausted')));
    expect(cs).toEqual([expect.objectContaining({
      call_id: 'req_mockee551c348d6eec9c4336', status: 'error', error_type: 'http_529', model: 'claude-opus-5-5',
      input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_5m_tokens: 0, reported_cost_usd: null,
    })]);
    expect(JSON.stringify(cs)).not.toContain('injected');
  });

  it('a re-sent export (client retry) is dropped and counted', async () => {
    const { n, ctx } = normalizer();
    const bs = scenario('v2.1.330-hello-http-json');
    const first = calls(runAll(n, bs));
    const again = runAll(n, scenario('v2.1.330-hello-http-json'));
    expect(first).toHaveLength(1);
    expect(calls(again)).toEqual([]);
    expect(again.flatMap((b) => b.updates)).toEqual([]);
    // The api_request event, and the usage interval of the metrics export (counted, not billed, in this mode).
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_duplicates_total', { source: 'claude_code' })).toBe(2);
  });
});

describe('Claude Code metrics (usage_from: metrics)', () => {
  for (const name of ['v2.1.330-hello-http-json', 'v2.1.330-write-tool-with-traces', 'v2.1.330-delta-multi-export', 'v2.1.330-traceparent-propagation']) {
    it(`${name}: delta metrics give the same totals as the events, as usage_interval records`, () => {
      const fromEvents = finalRecords(runAll(normalizer().n, scenario(name)));
      const { n } = normalizer({ claude_code: { usage_from: 'metrics' } });
      const cs = calls(runAll(n, scenario(name)));
      expect(cs.length).toBeGreaterThan(0);
      expect(cs.every((c) => c.record_type === 'usage_interval' && c.source === 'claude_code' && c.session_id !== '' && c.team === 'platform')).toBe(true);
      expect(sum(cs)).toEqual(sum(fromEvents));
      expect(round(cs.reduce((s, c) => s + (c.reported_cost_usd ?? 0), 0))).toBe(round(fromEvents.reduce((s, c) => s + (c.reported_cost_usd ?? 0), 0)));
    });
  }

  it('delta multi-export: one interval per export, with its time span', () => {
    const { n } = normalizer({ claude_code: { usage_from: 'metrics' } });
    const cs = calls(runAll(n, scenario('v2.1.330-delta-multi-export')));
    expect(cs.map((c) => [c.timestamp, c.duration_ms, c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_5m_tokens, c.reported_cost_usd, c.model])).toEqual([
      ['2026-11-23T05:13:13.392Z', 229, 25, 42, 9800, 1200, 0.008145, 'claude-sonnet-4-5'],
      ['2026-11-23T05:13:15.061Z', 15, 25, 42, 9800, 1200, 0.008145, 'claude-sonnet-4-5'],
    ]);
  });
});
