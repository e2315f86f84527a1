import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import type { Attributes, Span } from '../../../core/telemetry.js';
import { RequestSpans, UNREPORTED_AFTER_MS } from '../../../processors/claude-normalizer/litellm-request-spans.js';
import { batchOf, metricValue } from '../../helpers/context.js';
import { normalizer } from './helpers.js';

/**
 * LiteLLM spans without usage: the trace LiteLLM 1.108.7 exports with custom_auth (captured in
 * test/fixtures/litellm/1.108.7/custom-auth), reduced to the spans that matter: `POST /route`
 * (server) → `fastapi.endpoint` → `raw_gen_ai_request`, the first two without any LLM attribute.
 */
const TRACE = 'ab'.repeat(16);
const METRIC = 'tokenledger_normalizer_litellm_spans_without_usage_total';

function span(spanId: string, parentSpanId: string, name: string, attributes: Attributes, kind = 1): Span {
  return { traceId: TRACE, spanId, parentSpanId, name, kind, startTimeUnixNano: '1795000000000000000', endTimeUnixNano: '1795000000800000000', attributes, events: [], status: { code: 1, message: '' } };
}

/** One export request: each group of spans under its own instrumentation scope, in that order. */
function exportOf(...scopes: [string, Span[]][]): Batch {
  return batchOf({ resourceSpans: [{ resource: { 'service.name': 'litellm-proxy', 'service.version': '1.108.7', 'model_id': 'litellm-proxy' }, scopeSpans: scopes.map(([name, spans]) => ({ scope: { name, version: '', attributes: {} }, spans })) }] });
}

const server = (id: string, route: string, status = 200) =>
  span(id, '', `POST ${route}`, { 'http.route': route, 'url.path': route, 'http.request.method': 'POST', 'http.response.status_code': status }, 2);
const endpoint = (id: string, parent: string) => span(id, parent, 'fastapi.endpoint', { 'fastapi.endpoint': 'x' });
const TEAM = { 'metadata.user_api_key_team_id': 'team-4f1e-alpha', 'metadata.user_api_key_team_alias': 'alpha' };
const ANTHROPIC_USAGE = "{'input_tokens': 102, 'cache_creation_input_tokens': 1204, 'cache_read_input_tokens': 3002, 'cache_creation': {'ephemeral_5m_input_tokens': 502, 'ephemeral_1h_input_tokens': 702}, 'output_tokens': 22, 'service_tier': 'standard'}";
const rawAnthropic = (id: string, parent: string, prefix = 'llm.anthropic') => span(id, parent, 'raw_gen_ai_request', {
  [`${prefix}.id`]: `msg_${id}`, [`${prefix}.model`]: 'claude-sonnet-4-5-20250929', [`${prefix}.usage`]: ANTHROPIC_USAGE, [`${prefix}.content`]: "[{'type': 'text', 'text': 'SECRET REPLY'}]", ...TEAM,
});

describe('LiteLLM spans without usage (LLM attributes set on an ended span)', () => {
  it('recovers the call exactly from the raw span when its parent was exported bare in an earlier request', async () => {
    const { n, ctx } = normalizer();
    expect(n.process(exportOf(['fastapi', [endpoint('e1', 's1'), server('s1', '/chat/completions')]])).calls).toEqual([]);
    const { calls } = n.process(exportOf(['litellm', [rawAnthropic('r1', 'e1')]]));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      call_id: 'msg_r1', source: 'litellm', source_version: '1.108.7', route: 'openai_chat', provider: 'anthropic', provider_inferred: false, model: 'claude-sonnet-4-5',
      input_tokens: 102, output_tokens: 22, cache_read_tokens: 3002, cache_write_5m_tokens: 502, cache_write_1h_tokens: 702,
      team: 'alpha', key_alias: '', user: '', reported_cost_usd: null, streaming: false, duration_ms: 800, status: 'ok',
    });
    expect(calls[0].attributes['service_tier']).toBe('standard');
    expect(JSON.stringify(calls[0])).not.toContain('SECRET');
    expect(await metricValue(ctx.registry, METRIC, { outcome: 'recovered' })).toBe(1);
    const warn = ctx.logs.filter((l) => l.level === 'warn');
    expect(warn).toHaveLength(1);
    expect(warn[0].msg).toContain('USE_OTEL_LITELLM_REQUEST_SPAN=true');
  });

  it('finds the parent in the same request whatever the order of scopes, and infers the provider when the prefix is llm.None', () => {
    const { n } = normalizer();
    const { calls } = n.process(exportOf(['litellm', [span('r2', 'e2', 'raw_gen_ai_request', {
      'llm.None.id': 'msg_bdrk_1', 'llm.None.model': 'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'llm.None.usage': ANTHROPIC_USAGE,
    })]], ['fastapi', [endpoint('e2', 's2'), server('s2', '/v1/messages')]]));
    expect(calls.map((c) => [c.route, c.provider, c.provider_inferred, c.model, c.region, c.input_tokens])).toEqual([['anthropic_messages', 'aws.bedrock', true, 'claude-haiku-4-5', 'us', 102]]);
  });

  it('reads OpenAI-format usage (prompt tokens include the cached reads)', () => {
    const { n } = normalizer();
    const { calls } = n.process(exportOf(['fastapi', [server('s3', '/chat/completions')]], ['litellm', [span('r3', 's3', 'raw_gen_ai_request', {
      'llm.openai.id': 'chatcmpl-1', 'llm.openai.model': 'gpt-4o-mini',
      'llm.openai.usage': "{'completion_tokens': 38, 'prompt_tokens': 1136, 'total_tokens': 1174, 'prompt_tokens_details': {'cached_tokens': 1018, 'audio_tokens': 0}}",
    })]]));
    expect(calls.map((c) => [c.provider, c.model, c.input_tokens, c.cache_read_tokens, c.output_tokens])).toEqual([['openai', 'gpt-4o-mini', 118, 1018, 38]]);
  });

  it('counts a call it cannot recover exactly as lost: a streamed call\'s raw span has no usage, a Converse response no model', async () => {
    const { n, ctx } = normalizer();
    const out = n.process(exportOf(['fastapi', [server('s4', '/v1/messages'), server('s5', '/chat/completions')]], ['litellm', [
      span('r4', 's4', 'raw_gen_ai_request', { 'llm.None.model': 'claude-sonnet-4-5-20250929', 'llm.None.stream': 'True', ...TEAM }),
      span('r5', 's5', 'raw_gen_ai_request', { 'llm.bedrock.usage': "{'inputTokens': 105, 'outputTokens': 25, 'totalTokens': 130, 'cacheReadInputTokens': 0, 'cacheWriteInputTokens': 0}" }),
    ]]));
    expect(out.calls).toEqual([]);
    expect(await metricValue(ctx.registry, METRIC, { outcome: 'lost' })).toBe(2);
    expect(ctx.logs.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('leaves a raw span alone when its parent carried the LLM attributes (a well-formed export): one record, nothing flagged', async () => {
    const { n, ctx } = normalizer();
    const llm = span('s6', '', 'Received Proxy Server Request', {
      'gen_ai.system': 'anthropic', 'llm.is_streaming': 'False', 'gen_ai.request.model': 'claude-sonnet-4-5-20250929', 'litellm.call_id': 'call-6',
      'metadata.user_api_key_request_route': '/chat/completions', 'gen_ai.usage.input_tokens': 4308, 'gen_ai.usage.output_tokens': 22,
      'metadata.usage_object': "{'completion_tokens': 22, 'prompt_tokens': 4308, 'total_tokens': 4330, 'cache_read_input_tokens': 3002, 'cache_creation_input_tokens': 1204}",
    }, 2);
    const { calls } = n.process(exportOf(['litellm', [rawAnthropic('r6', 's6'), llm]]));
    expect(calls.map((c) => [c.call_id, c.input_tokens])).toEqual([['call-6', 102]]);
    expect(await metricValue(ctx.registry, METRIC, { outcome: 'recovered' })).toBe(0);
    expect(ctx.logs.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('leaves a raw span alone when its parent was never seen', async () => {
    const { n, ctx } = normalizer();
    expect(n.process(exportOf(['litellm', [rawAnthropic('r7', 'unseen')]])).calls).toEqual([]);
    expect(await metricValue(ctx.registry, METRIC, { outcome: 'recovered' })).toBe(0);
  });

  it('bills a re-sent raw span once', async () => {
    const { n, ctx } = normalizer();
    const request = exportOf(['fastapi', [server('s8', '/anthropic/v1/messages')]], ['litellm', [rawAnthropic('r8', 's8', 'llm.Unknown')]]);
    expect(n.process(request).calls.map((c) => c.route)).toEqual(['anthropic_passthrough']);
    expect(n.process(request).calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_duplicates_total', { source: 'litellm' })).toBe(1);
  });

  describe('with content capture off (no raw span): a model request no LLM span comes below', () => {
    const llmBelow = (id: string, parent: string) => span(id, parent, 'Received Proxy Server Request', {
      'gen_ai.system': 'anthropic', 'llm.is_streaming': 'False', 'gen_ai.request.model': 'claude-sonnet-4-5-20250929', 'litellm.call_id': `call-${id}`,
      'metadata.user_api_key_request_route': '/v1/messages', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 2,
    });

    it('is counted lost once it has waited UNREPORTED_AFTER_MS, with the warning', async () => {
      let now = 1_000_000;
      const { n, ctx } = normalizer({}, () => now);
      n.process(exportOf(['fastapi', [endpoint('e9', 's9'), server('s9', '/v1/messages'), server('s10', '/chat/completions', 429)]]));
      now += UNREPORTED_AFTER_MS - 1;
      n.process(batchOf({}));
      expect(await metricValue(ctx.registry, METRIC, { outcome: 'lost' })).toBe(0);
      now += 1;
      n.process(batchOf({}));
      // The 429 answered no model call.
      expect(await metricValue(ctx.registry, METRIC, { outcome: 'lost' })).toBe(1);
      expect(ctx.logs.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([expect.stringContaining('USE_OTEL_LITELLM_REQUEST_SPAN=true')]);
    });

    it('is not judged when it comes from another OpenAI-compatible server (no LiteLLM resource)', async () => {
      let now = 1_000_000;
      const { n, ctx } = normalizer({}, () => now);
      const other = exportOf(['fastapi', [server('s16', '/v1/chat/completions')]]);
      delete other.resourceSpans[0].resource['model_id'];
      n.process(other);
      now += UNREPORTED_AFTER_MS;
      n.process(batchOf({}));
      expect(await metricValue(ctx.registry, METRIC, { outcome: 'lost' })).toBe(0);
    });

    it('is not counted when its LLM span arrives, before or after it, through the spans between them', async () => {
      let now = 1_000_000;
      const { n, ctx } = normalizer({}, () => now);
      n.process(exportOf(['litellm', [llmBelow('l11', 'e11')]]));
      n.process(exportOf(['fastapi', [endpoint('e11', 's11'), server('s11', '/v1/messages')]]));
      n.process(exportOf(['fastapi', [server('s12', '/v1/messages'), endpoint('e12', 's12')]]));
      n.process(exportOf(['litellm', [llmBelow('l12', 'e12')]]));
      now += UNREPORTED_AFTER_MS;
      n.process(batchOf({}));
      expect(await metricValue(ctx.registry, METRIC, { outcome: 'lost' })).toBe(0);
      expect(ctx.logs.filter((l) => l.level === 'warn')).toEqual([]);
    });
  });

  it('keeps its watch list bounded: a request dropped unjudged is counted unverified, never lost', () => {
    const w = new RequestSpans(2);
    for (const id of ['s13', 's14', 's15']) w.noteBare(server(id, '/v1/messages'), 0, true);
    expect(w.unverified).toBe(1);
    expect(w.expire(UNREPORTED_AFTER_MS)).toBe(2);
  });
});
