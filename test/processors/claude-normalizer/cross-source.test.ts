import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import type { Span } from '../../../core/telemetry.js';
import { batchOf, metricValue } from '../../helpers/context.js';
import { config, finalRecords, FIXTURES, loadScenario, normalizer } from './helpers.js';

/**
 * Claude Code calling through LiteLLM: both report the call. Claude Code side: the real 2.1.330
 * captures. LiteLLM side: a /v1/messages span in the real 1.81.3 layout (a root `litellm_request`
 * span, OpenAI-style prompt_tokens including cache, usage_object as a Python repr, client x- headers
 * in requester_custom_headers, Claude Code's metadata.user_id blob as end user) for the same call.
 */
const HELLO = join(FIXTURES, 'claude-code/otlp/v2.1.330-hello-http-json');
const TRACEPARENT = join(FIXTURES, 'claude-code/otlp/v2.1.330-traceparent-propagation');
const SESSION = 'e781846e-cd55-4ca1-a959-690dd2306d96';

function litellmSpan(over: { traceId?: string; spanId?: string; parentSpanId?: string; kind?: number; name?: string; session?: string; usage?: string; split?: boolean } = {}): Batch {
  const headers = { 'x-litellm-tags': 'claude-code,project:atlas', 'x-cost-center': 'cc-42', ...(over.session ? { 'x-claude-code-session-id': over.session } : {}) };
  const span: Span = {
    traceId: over.traceId ?? 'aaaabbbbccccddddeeeeffff00001111', spanId: over.spanId ?? '1111222233334444', parentSpanId: over.parentSpanId ?? '',
    name: over.name ?? 'litellm_request', kind: over.kind ?? 1,
    startTimeUnixNano: '1795410618560000000', endTimeUnixNano: '1795410618590000000',
    status: { code: 1, message: '' }, events: [],
    attributes: {
      'metadata.user_api_key_hash': 'b3d9bbb3', 'metadata.user_api_key_alias': 'claude-code-key', 'metadata.user_api_key_team_id': 'team-7',
      'metadata.user_api_key_team_alias': 'platform-eng', 'metadata.user_api_key_user_id': 'alice',
      'metadata.user_api_key_end_user_id': `{"device_id":"d1","account_uuid":"","session_id":"${over.session ?? SESSION}"}`,
      'metadata.user_api_key_request_route': '/v1/messages', 'metadata.spend_logs_metadata': "{'env': 'prod', 'n': 1}",
      'metadata.usage_object': over.usage ?? `{'completion_tokens': 42, 'prompt_tokens': 11025, 'total_tokens': 11067, 'prompt_tokens_details': {'cached_tokens': 9800, 'text_tokens': None, 'cache_creation_tokens': 1200${over.split === false ? '' : ", 'cache_creation_token_details': {'ephemeral_5m_input_tokens': 1200, 'ephemeral_1h_input_tokens': 0}"}}, 'cache_creation_input_tokens': 1200, 'cache_read_input_tokens': 9800}`,
      'metadata.requester_custom_headers': JSON.stringify(headers).replaceAll('"', "'"),
      hidden_params: '{"model_id": null, "api_base": null, "response_cost": null, "additional_headers": {}, "usage_object": null}',
      'gen_ai.cost.total_cost': 0.0089, 'gen_ai.request.model': 'claude-opus-5-5', 'llm.request.type': 'anthropic_messages', 'gen_ai.system': '',
      'llm.is_streaming': 'True', 'gen_ai.response.id': '7102670c-e439-4614-ab7f-d6de64665571', 'gen_ai.response.model': 'claude-opus-5-5',
      ...(over.usage === undefined ? { 'gen_ai.usage.total_tokens': 11067, 'gen_ai.usage.output_tokens': 42, 'gen_ai.usage.input_tokens': 11025 } : {}),
      'gen_ai.input.messages': '[{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]',
    },
  };
  return batchOf({ resourceSpans: [{ resource: { 'service.name': 'litellm' }, scopeSpans: [{ scope: { name: 'litellm', version: '', attributes: {} }, spans: [span] }] }] });
}

const billable = (out: Batch[]) => out.flatMap((b) => b.calls);

describe('the same call from LiteLLM and from Claude Code', () => {
  it('Claude Code first, LiteLLM in a later batch: one billable record, enriched by LiteLLM, whose route, key and team win', async () => {
    const { n, ctx } = normalizer({ dimensions: { project: ['tag:project'], cost_center: ['header:x-cost-center'], env: ['metadata:spend_logs_metadata.env'] } });
    const out = [...loadScenario(HELLO), litellmSpan({ session: SESSION })].map((b) => n.process(b));
    expect(billable(out)).toHaveLength(1);
    expect(billable(out)[0]).toMatchObject({ source: 'claude_code', call_id: 'req_mock8851886cfd695c663117', input_tokens: 25, cache_write_5m_tokens: 1200 });
    const [final] = finalRecords(out);
    expect(final).toMatchObject({
      call_id: 'req_mock8851886cfd695c663117', source: 'claude_code', timestamp: '2026-11-23T05:10:18.561Z', model: 'claude-opus-5-5',
      input_tokens: 25, output_tokens: 42, cache_read_tokens: 9800, cache_write_5m_tokens: 1200, reported_cost_usd: 0.008899999999999998,
      route: 'anthropic_messages', session_id: SESSION, team: 'platform-eng', key_alias: 'claude-code-key', customer: '',
      tags: ['claude-code', 'project:atlas'], dimensions: { project: 'atlas', cost_center: 'cc-42', env: 'prod' },
    });
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_joins_total', { first: 'claude_code', second: 'litellm' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_join_token_mismatch_total')).toBe(0);
  });

  it('LiteLLM first, Claude Code in a later batch: one billable record, enriched by Claude Code', async () => {
    const { n, ctx } = normalizer();
    const out = [litellmSpan({ session: SESSION }), ...loadScenario(HELLO)].map((b) => n.process(b));
    expect(billable(out)).toHaveLength(1);
    expect(billable(out)[0]).toMatchObject({ source: 'litellm', route: 'anthropic_messages', input_tokens: 25, output_tokens: 42, cache_read_tokens: 9800, cache_write_5m_tokens: 1200, team: 'platform-eng', user: 'alice', session_id: SESSION });
    const ups = out.flatMap((b) => b.updates);
    expect(ups).toHaveLength(1);
    expect(ups[0]).toMatchObject({ call_id: billable(out)[0].call_id, timestamp: billable(out)[0].timestamp, source: 'litellm', ttft_ms: 21 });
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_joins_total', { first: 'litellm', second: 'claude_code' })).toBe(1);
  });

  it('joined by traceparent: LiteLLM\'s server span is a child of Claude Code\'s llm_request span', async () => {
    // The traceparent capture: llm_request span 453758295750b412 in trace bfd40835…; session 5a431cd8….
    const cc = loadScenario(TRACEPARENT);
    const ll = litellmSpan({ traceId: 'bfd4083588ad755c9c34d89063d89881', spanId: '9999888877776666', parentSpanId: '453758295750b412', kind: 2, name: 'Received Proxy Server Request', session: 'other-session' });
    for (const order of [[ll, ...cc], [...cc, ll]]) {
      const { n, ctx } = normalizer();
      const out = order.map((b) => n.process(b));
      expect(billable(out)).toHaveLength(1);
      expect(finalRecords(out)[0]).toMatchObject({ input_tokens: 25, key_alias: 'claude-code-key' });
      expect(await metricValue(ctx.registry, 'tokenledger_normalizer_joins_total')).toBeGreaterThanOrEqual(1);
    }
  });

  it('different sessions or different tokens never join', () => {
    const { n } = normalizer();
    const out = [...loadScenario(HELLO), litellmSpan({ session: 'another-session' })].map((b) => n.process(b));
    expect(billable(out)).toHaveLength(2);
  });

  it('a LiteLLM span without usage (streamed pass-through before 1.108) is flagged and billed by nobody but the client', async () => {
    const { n, ctx } = normalizer();
    const noUsage = "{'completion_tokens': 0, 'prompt_tokens': 0, 'total_tokens': 0, 'completion_tokens_details': None, 'prompt_tokens_details': None}";
    expect(n.process(litellmSpan({ session: SESSION, usage: noUsage })).calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_inconsistent_tokens_total', { source: 'litellm', reason: 'missing_usage' })).toBe(1);
    const out = loadScenario(HELLO).map((b) => n.process(b));
    expect(billable(out).map((c) => [c.source, c.input_tokens])).toEqual([['claude_code', 25]]);
  });

  it('the second source restores a 5m/1h split the first lost, for the same total', () => {
    // LiteLLM 1.80/1.81 streams lose the split: its span says 1200 writes; the client knows 900 + 300.
    const { n } = normalizer();
    const first = n.process(litellmSpan({ session: SESSION, split: false })).calls;
    expect(first.map((c) => [c.cache_write_5m_tokens, c.cache_write_1h_tokens])).toEqual([[1200, 0]]);
    const event = loadScenario(HELLO)[0];
    const rec = event.resourceLogs[0].scopeLogs[0].logRecords.find((r) => r.attributes['event.name'] === 'api_request');
    if (!rec) throw new Error('fixture has no api_request');
    rec.attributes = { ...rec.attributes, cache_creation_5m_tokens: 900, cache_creation_1h_tokens: 300 };
    const out = n.process(event);
    expect(out.calls).toEqual([]);
    expect(out.updates.map((u) => [u.call_id, u.timestamp, u.input_tokens, u.cache_write_5m_tokens, u.cache_write_1h_tokens])).toEqual([
      [first[0].call_id, first[0].timestamp, 25, 900, 300],
    ]);
    // The version it replaces goes with it, so a counter on another replica can count the 1h premium.
    expect(out.updateBases?.map((b) => [b.call_id, b.cache_write_5m_tokens, b.cache_write_1h_tokens])).toEqual([[first[0].call_id, 1200, 0]]);
  });

  it('LiteLLM V2: the client span is found up the chain (chat → fastapi.dependencies → POST server span)', () => {
    const trace = 'bfd4083588ad755c9c34d89063d89881';
    const base = { traceId: trace, startTimeUnixNano: '1795410926160000000', endTimeUnixNano: '1795410926180000000', events: [], status: { code: 0, message: '' } };
    const spans: Span[] = [
      { ...base, spanId: 'aaaa000000000001', parentSpanId: '453758295750b412', name: 'POST /v1/messages', kind: 2, attributes: { 'http.route': '/v1/messages' } },
      { ...base, spanId: 'aaaa000000000002', parentSpanId: 'aaaa000000000001', name: 'fastapi.dependencies', kind: 1, attributes: {} },
      { ...base, spanId: 'aaaa000000000003', parentSpanId: 'aaaa000000000002', name: 'chat claude-opus-5-5', kind: 3, attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-opus-5-5', 'gen_ai.response.id': 'msg_v2',
        'gen_ai.usage.input_tokens': 11025, 'gen_ai.usage.output_tokens': 42, 'gen_ai.usage.cache_read.input_tokens': 9800, 'gen_ai.usage.cache_creation.input_tokens': 1200,
        'litellm.call_id': 'v2-call', 'litellm.call_type': 'anthropic_messages', 'litellm.request.streaming': true, 'litellm.end_user.id': 'acme',
      } },
    ];
    const ll = batchOf({ resourceSpans: [{ resource: { 'service.name': 'litellm' }, scopeSpans: [{ scope: { name: 'litellm', version: '1.108.7', attributes: {} }, spans }] }] });
    const { n } = normalizer({ dedupe: { ...config().dedupe, window: '15m', max_entries: 1000, fingerprint_join: false } });
    const out = [...loadScenario(TRACEPARENT), ll].map((b) => n.process(b));
    expect(billable(out)).toHaveLength(1);
    expect(finalRecords(out)[0]).toMatchObject({ source: 'claude_code', customer: 'acme', team: 'platform', input_tokens: 25 });
  });
});
