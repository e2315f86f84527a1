import type { Encoding } from '../../receivers/otlp/index.js';
import { messages } from '../../receivers/otlp/codec/proto.js';

/** A LiteLLM-like Export request (~1.8 KB a span, the shape of a `litellm_request` span) for codec tests. */

const ATTRIBUTES: Record<string, string | number | boolean> = {
  'gen_ai.system': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-5-20250929', 'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
  'gen_ai.operation.name': 'chat', 'gen_ai.framework': 'litellm', 'gen_ai.response.id': 'msg_01XFDUDYJgAACzvnptvVoYEL',
  'gen_ai.usage.input_tokens': 25, 'gen_ai.usage.output_tokens': 42, 'gen_ai.usage.total_tokens': 11067, 'gen_ai.cost.total_cost': 0.008145,
  'gen_ai.request.max_tokens': 4096, 'gen_ai.request.temperature': 0.7, 'llm.is_streaming': true, 'llm.request.type': 'acompletion',
  'metadata.user_api_key_hash': '88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b', 'metadata.user_api_key_alias': 'ci-key',
  'metadata.user_api_key_team_id': 'team-platform', 'metadata.user_api_key_team_alias': 'platform', 'metadata.user_api_key_user_id': 'alice@example.com',
  'metadata.user_api_key_end_user_id': 'customer-42', 'metadata.requester_ip_address': '10.0.0.12', 'metadata.model_group': 'claude-sonnet',
  'metadata.spend_logs_metadata': "{'project': 'tokenledger', 'env': 'prod'}", 'metadata.tags': "['billing', 'prod']",
  'metadata.usage_object': "{'completion_tokens': 42, 'prompt_tokens': 11025, 'cache_read_input_tokens': 9800, 'cache_creation_input_tokens': 1200}",
  hidden_params: '{"model_id": "9b0c7c9e8d1f4e6a", "cache_key": null, "api_base": "https://api.anthropic.com/v1/messages", "response_cost": 0.008145, "litellm_call_id": "4e1b2a3c-5d6e-4f70-8a9b-0c1d2e3f4a5b", "additional_headers": {"llm_provider-request-id": "req_011CUxyz", "llm_provider-anthropic-ratelimit-requests-remaining": "3999"}}',
};

function anyValue(v: string | number | boolean): Record<string, unknown> {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
}

/** One Export request of `spans` LiteLLM-like spans, in both encodings. */
export function sampleTraceRequest(spans: number): Record<Encoding, Uint8Array> {
  const list = Array.from({ length: spans }, (_, i) => ({
    traceId: Buffer.from((i.toString(16).padStart(8, '0') + 'a1b2c3d4e5f60718293a4b5c').slice(0, 32), 'hex'),
    spanId: Buffer.from(i.toString(16).padStart(16, '0'), 'hex'),
    parentSpanId: Buffer.from('1122334455667788', 'hex'),
    name: 'litellm_request', kind: 1,
    startTimeUnixNano: '1795410618316000000', endTimeUnixNano: '1795410619316000000',
    attributes: Object.entries(ATTRIBUTES).map(([key, v]) => ({ key, value: anyValue(v) })),
    status: { code: 1 },
  }));
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'litellm-proxy' } }, { key: 'deployment.environment', value: { stringValue: 'prod' } }] };
  const protobuf = messages.traceRequest.encode(messages.traceRequest.fromObject({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'litellm' }, spans: list }] }] })).finish();
  const json = Buffer.from(JSON.stringify({
    resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'litellm' }, spans: list.map((s) => ({
      ...s, traceId: s.traceId.toString('hex'), spanId: s.spanId.toString('hex'), parentSpanId: s.parentSpanId.toString('hex'),
    })) }] }],
  }));
  return { protobuf, json };
}
