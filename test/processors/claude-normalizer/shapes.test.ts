import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import type { Attributes, Span } from '../../../core/telemetry.js';
import { batchOf, metricValue } from '../../helpers/context.js';
import { normalizer } from './helpers.js';

/**
 * Layouts no capture covers yet, built from the keys LiteLLM's source writes (research notes,
 * litellm-otel.md §7 and §9) and from the OTel GenAI / OpenInference conventions.
 */
let seq = 0;
function spanBatch(attributes: Attributes, over: Partial<Span> = {}, resource: Attributes = { 'service.name': 'svc' }, scope = 'test'): Batch {
  seq++;
  const span: Span = {
    traceId: `${'0'.repeat(24)}${String(seq).padStart(8, '0')}`, spanId: `${'1'.repeat(8)}${String(seq).padStart(8, '0')}`, parentSpanId: '',
    name: 'chat x', kind: 3, startTimeUnixNano: '1795000000000000000', endTimeUnixNano: '1795000001500000000',
    attributes, events: [], status: { code: 0, message: '' }, ...over,
  };
  return batchOf({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: scope, version: '', attributes: {} }, spans: [span] }] }] });
}

describe('LiteLLM V2 (LITELLM_OTEL_V2=true)', () => {
  const v2 = {
    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'aws.bedrock', 'gen_ai.system': 'aws.bedrock',
    'gen_ai.request.model': 'bedrock-claude', 'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
    'litellm.provider.model': 'bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0', 'litellm.call_id': 'c0ffee00-0000-4000-8000-000000000001',
    'litellm.call_type': 'acompletion', 'litellm.request.route': '/v1/chat/completions', 'litellm.request.streaming': true,
    'gen_ai.response.time_to_first_chunk': 0.25, 'gen_ai.response.id': 'msg_01ABC',
    'gen_ai.usage.input_tokens': 4308, 'gen_ai.usage.output_tokens': 22, 'gen_ai.usage.cache_read.input_tokens': 3002,
    'gen_ai.usage.cache_creation.input_tokens': 1204, 'gen_ai.usage.prompt_tokens': 4308, 'gen_ai.usage.total_tokens': 4330,
    'litellm.cost.total': 0.0123, 'litellm.team.id': 'team-1', 'litellm.team.alias': 'search', 'litellm.api_key.hash': 'abc',
    'litellm.metadata.user_api_key_alias': 'search-prod', 'litellm.metadata.user_api_key_user_id': 'bob', 'litellm.end_user.id': 'acme-corp',
    'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"SECRET PROMPT"}]}]',
  };

  it('reads the deployment model, semconv cache tokens, litellm.* cost and Baggage identity', () => {
    const { n } = normalizer();
    const [c] = n.process(spanBatch(v2)).calls;
    expect(c).toMatchObject({
      call_id: 'msg_01ABC', source: 'litellm', route: 'openai_chat', provider: 'aws.bedrock', provider_inferred: false,
      model: 'claude-sonnet-4-5', model_raw: 'bedrock/eu.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'eu',
      input_tokens: 102, output_tokens: 22, cache_read_tokens: 3002, cache_write_5m_tokens: 1204, cache_write_1h_tokens: 0,
      reported_cost_usd: 0.0123, streaming: true, ttft_ms: 250, duration_ms: 1500, timestamp: '2026-11-18T11:06:40.000Z',
      team: 'search', key_alias: 'search-prod', user: 'bob', customer: 'acme-corp', status: 'ok',
      attributes: { 'gen_ai.operation.name': 'chat', 'litellm.call_type': 'acompletion', 'litellm.call_id': 'c0ffee00-0000-4000-8000-000000000001', 'litellm.request.route': '/v1/chat/completions' },
    });
    expect(JSON.stringify(c)).not.toContain('SECRET');
  });

  it('a second span of the same call (older streaming paths emitted two) is a duplicate', async () => {
    const { n, ctx } = normalizer();
    expect(n.process(spanBatch(v2)).calls).toHaveLength(1);
    const again = n.process(spanBatch(v2));
    expect([again.calls.length, again.updates.length]).toEqual([0, 0]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_duplicates_total', { source: 'litellm' })).toBe(1);
  });

  it('an error span is an error record without tokens', () => {
    const { n } = normalizer();
    const [c] = n.process(spanBatch({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-3-5-haiku',
      'litellm.call_type': 'anthropic_messages', 'litellm.call_id': 'x1', 'error.type': 'RateLimitError', 'litellm.provider.error.code': '429',
    }, { status: { code: 2, message: '' } })).calls;
    expect(c).toMatchObject({ status: 'error', error_type: 'RateLimitError', route: 'anthropic_messages', input_tokens: 0, call_id: 'x1' });
  });
});

describe('LiteLLM semconv opt-in (OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental)', () => {
  it('reads gen_ai.provider.name, the cache attributes and gen_ai.request.stream', () => {
    const { n } = normalizer();
    const [c] = n.process(spanBatch({
      'gen_ai.provider.name': 'gcp.vertex_ai', 'gen_ai.system': 'vertex_ai', 'gen_ai.request.model': 'claude-sonnet-4-5@20250929',
      'llm.request.type': 'acompletion', 'metadata.user_api_key_request_route': '/chat/completions', 'metadata.user_api_key_hash': 'h',
      'metadata.user_api_key_team_alias': 'None', 'metadata.user_api_key_team_id': 'team-9',
      'gen_ai.request.stream': true, 'gen_ai.usage.input_tokens': 1500, 'gen_ai.usage.output_tokens': 10,
      'gen_ai.usage.cache_read.input_tokens': 1000, 'gen_ai.cost.total_cost': 0.001, 'gen_ai.cost.vertex_location': 'us-east5',
    }, { name: 'chat claude-sonnet-4-5@20250929' })).calls;
    expect(c).toMatchObject({
      source: 'litellm', route: 'openai_chat', provider: 'gcp.vertex_ai', model: 'claude-sonnet-4-5', region: 'us-east5',
      input_tokens: 500, cache_read_tokens: 1000, streaming: true, reported_cost_usd: 0.001, team: 'team-9',
    });
  });
});

describe('LiteLLM legacy before 1.81 (litellm_request, gen_ai.usage.prompt_tokens)', () => {
  it('reads the old usage keys and hidden_params', () => {
    const { n } = normalizer({ model_providers: { 'team-claude': 'anthropic' } });
    const [c] = n.process(spanBatch({
      'gen_ai.system': 'Unknown', 'gen_ai.request.model': 'team-claude', 'llm.is_streaming': 'False', 'gen_ai.response.id': 'msg_x',
      'gen_ai.usage.prompt_tokens': 3104, 'gen_ai.usage.completion_tokens': 5, 'llm.usage.total_tokens': 3109,
      'metadata.usage_object': "{'prompt_tokens': 3104, 'completion_tokens': 5, 'cache_read_input_tokens': 3002, 'cache_creation_input_tokens': 1204}",
      hidden_params: '{"api_base": "https://api.anthropic.com", "response_cost": 0.0042, "additional_headers": {"llm_provider-request-id": "req_011"}}',
      'SpanAttributes.LLM_PROMPTS.0.content': 'SECRET',
    }, { name: 'litellm_request', kind: 1 })).calls;
    expect(c).toMatchObject({
      call_id: 'req_011', provider: 'anthropic', provider_inferred: true, model: 'team-claude', input_tokens: 102, cache_read_tokens: 3002,
      cache_write_5m_tokens: 1204, reported_cost_usd: 0.0042, streaming: false, route: 'unknown',
    });
    expect(JSON.stringify(c)).not.toContain('SECRET');
  });

  it('a pass-through route names the provider when the span does not', () => {
    const { n } = normalizer();
    const [c] = n.process(spanBatch({
      'gen_ai.system': 'Unknown', 'gen_ai.request.model': 'corp-model', 'llm.request.type': 'pass_through_endpoint', 'llm.is_streaming': 'False',
      'metadata.user_api_key_request_route': '/anthropic/v1/messages', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 2,
    }, { name: 'litellm_request', kind: 1 })).calls;
    expect(c).toMatchObject({ route: 'anthropic_passthrough', provider: 'anthropic', provider_inferred: true, model: 'corp-model' });
  });

  it('LiteLLM service, raw-request and failure spans are not calls', async () => {
    const { n, ctx } = normalizer();
    for (const attrs of [{ service: 'router', call_type: 'acompletion' }, { 'llm.anthropic.usage': "{'input_tokens': 5}" }, { exception: 'boom' }]) {
      expect(n.process(spanBatch(attrs, { kind: 1 })).calls).toEqual([]);
    }
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_unknown_shapes_total')).toBe(0);
  });
});

describe('generic GenAI semantic conventions and OpenInference', () => {
  it('a semconv chat span from any instrumentation is an otel_genai call; input includes cache per the conventions', () => {
    const { n } = normalizer();
    const [c] = n.process(spanBatch({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-haiku-4-5',
      'gen_ai.response.model': 'claude-haiku-4-5-20251001', 'gen_ai.response.id': 'msg_gen', 'gen_ai.usage.input_tokens': 1100,
      'gen_ai.usage.output_tokens': 7, 'gen_ai.usage.cache_read.input_tokens': 1000, 'gen_ai.conversation.id': 'conv-1',
    }, {}, { 'service.name': 'my-agent', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.version': '1.30.0' })).calls;
    expect(c).toMatchObject({
      source: 'otel_genai', source_version: 'opentelemetry/1.30.0', route: 'direct', provider: 'anthropic', model: 'claude-haiku-4-5',
      input_tokens: 100, cache_read_tokens: 1000, output_tokens: 7, session_id: 'conv-1', service_name: 'my-agent', call_id: 'msg_gen',
    });
  });

  it('genai.input_includes_cache: false keeps input as reported', () => {
    const { n } = normalizer({ genai: { input_includes_cache: false } });
    const [c] = n.process(spanBatch({ 'gen_ai.request.model': 'claude-haiku-4-5', 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 1, 'gen_ai.usage.cache_read.input_tokens': 1000 })).calls;
    expect([c.input_tokens, c.cache_read_tokens]).toEqual([100, 1000]);
  });

  it('agent and tool spans are not model calls; LLM-looking spans without model or usage are counted unknown', async () => {
    const { n, ctx } = normalizer();
    expect(n.process(spanBatch({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.request.model': 'x', 'gen_ai.usage.input_tokens': 9 })).calls).toEqual([]);
    expect(n.process(spanBatch({ 'gen_ai.usage.input_tokens': 9, 'gen_ai.usage.output_tokens': 1 })).calls).toEqual([]);
    expect(n.process(spanBatch({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.operation.name': 'chat' })).calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_unknown_shapes_total', { signal: 'traces', reason: 'genai_no_model' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_unknown_shapes_total', { signal: 'traces', reason: 'genai_no_usage' })).toBe(1);
    const logged = ctx.logs.filter((l) => l.msg === 'unknown LLM-looking telemetry skipped');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ level: 'debug', keys: ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'] });
  });

  it('OpenInference LLM spans', () => {
    const { n } = normalizer();
    const [c] = n.process(spanBatch({
      'openinference.span.kind': 'LLM', 'llm.model_name': 'claude-3-5-sonnet-20241022', 'llm.provider': 'anthropic',
      'llm.token_count.prompt': 1300, 'llm.token_count.completion': 20, 'llm.token_count.total': 1320,
      'llm.token_count.prompt_details.cache_read': 1000, 'llm.token_count.prompt_details.cache_write': 200,
      'llm.input_messages.0.message.content': 'SECRET', 'input.value': 'SECRET', 'session.id': 's-1', 'user.id': 'u-1',
    })).calls;
    expect(c).toMatchObject({ source: 'otel_genai', model: 'claude-3-5-sonnet', provider: 'anthropic', input_tokens: 100, cache_read_tokens: 1000, cache_write_5m_tokens: 200, session_id: 's-1', user: 'u-1' });
    expect(JSON.stringify(c)).not.toContain('SECRET');
  });

  it('Claude Code interaction and tool spans carry gen_ai keys but are not calls', async () => {
    const { n, ctx } = normalizer();
    const out = n.process(spanBatch({ 'gen_ai.provider.name': 'anthropic', 'gen_ai.operation.name': 'execute_tool', 'span.type': 'tool' }, { name: 'claude_code.tool' }, {}, 'com.anthropic.claude_code.tracing'));
    expect(out.calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_unknown_shapes_total')).toBe(0);
  });
});
