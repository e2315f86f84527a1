import { emptyCall, type LlmCall } from '../../core/llm-call.js';
import type { Attributes, Span } from '../../core/telemetry.js';
import { bool, firstNum, firstStr, msToIso, nanosToMs, num, str } from './attrs.js';
import type { PromptTokensInclude } from './config.js';
import { litellmCallKey, requestKey, responseKey, spanKey } from './join-keys.js';
import { readHeaders, readIdentity } from './litellm-identity.js';
import { canonicalProvider, hostOf, parseModel, providerOfHost, regionOfHost } from './model.js';
import type { ModelProviders } from './providers.js';
import { numberField, stringField } from './scan.js';
import { litellmTokens, litellmUsage } from './litellm-usage.js';
import { applyUsage } from './tokens.js';
import type { Extracted, Shape } from './types.js';

/** What differs between LiteLLM's three OTel layouts; everything else is read the same way. */
export interface LiteLLMLayout {
  shape: Shape;
  /** Does this span carry this layout's LLM-call attributes? */
  detect(a: Attributes): boolean;
  /** Model string actually sent to the provider, in preference order. */
  modelKeys: readonly string[];
  inputKeys: readonly string[];
  outputKeys: readonly string[];
  totalKeys: readonly string[];
  costKeys: readonly string[];
  streaming(a: Attributes): boolean | undefined;
}

export interface LiteLLMOptions {
  providers: ModelProviders;
  promptTokensInclude: PromptTokensInclude;
}

/** A LiteLLM record's identity and timing, from the span that reports it and its resource. */
export function litellmCallOf(resource: Attributes, scopeVersion: string, span: Span): LlmCall {
  const call = emptyCall();
  call.source = 'litellm';
  call.source_version = str(resource, 'service.version') || scopeVersion;
  call.service_name = str(resource, 'service.name');
  call.trace_id = span.traceId;
  call.span_id = span.spanId;
  const startMs = nanosToMs(span.startTimeUnixNano);
  call.timestamp = msToIso(startMs);
  call.duration_ms = Math.max(0, nanosToMs(span.endTimeUnixNano) - startMs);
  return call;
}

export function extractLiteLLM(layout: LiteLLMLayout, resource: Attributes, scopeVersion: string, span: Span, clientSpanId: string, opts: LiteLLMOptions): Extracted {
  const a = span.attributes;
  const call = litellmCallOf(resource, scopeVersion, span);
  const ttftS = num(a['gen_ai.response.time_to_first_chunk']);
  call.ttft_ms = ttftS !== undefined ? ttftS * 1000 : null;
  call.streaming = layout.streaming(a) ?? false;

  // hidden_params: a JSON string on v1 spans (api_base, response_cost, provider headers, usage_object).
  const hidden = str(a, 'hidden_params');

  // Model and provider.
  const requestModel = str(a, 'gen_ai.request.model');
  const responseModel = str(a, 'gen_ai.response.model');
  let modelRaw = firstStr(a, layout.modelKeys);
  if (modelRaw === '') modelRaw = stringField(hidden, 'litellm_model_name');
  call.model_raw = modelRaw || requestModel || responseModel;
  let parsed = parseModel(call.model_raw);
  // A proxy alias (`my-claude`) says nothing; the provider's answer names the model.
  if (parsed.provider === '' && responseModel !== '' && opts.providers.lookup(call.model_raw, parsed.model) === '') {
    const fromResponse = parseModel(responseModel);
    if (fromResponse.provider !== '') parsed = { ...fromResponse, region: parsed.region || fromResponse.region };
  }
  call.model = parsed.model;
  call.region = parsed.region;

  const apiBase = str(a, 'server.address') || stringField(hidden, 'api_base');
  const host = apiBase ? hostOf(apiBase) : '';
  if (call.region === '' && host !== '') call.region = regionOfHost(host);
  if (call.region === '') call.region = str(a, 'gen_ai.cost.vertex_location');

  const named = canonicalProvider(firstStr(a, ['gen_ai.provider.name', 'gen_ai.system', 'error.llm_provider', 'litellm.provider.error.llm_provider']));
  if (named !== '') {
    call.provider = named;
  } else {
    call.provider_inferred = true;
    call.provider = opts.providers.lookup(call.model_raw, call.model) || parsed.provider || providerOfHost(host);
  }

  // Route, from the call type and the proxy route the client called.
  const requestRoute = firstStr(a, ['metadata.user_api_key_request_route', 'litellm.request.route', 'http.route']);
  call.route = routeOf(firstStr(a, ['litellm.call_type', 'llm.request.type', 'gen_ai.operation.name']), requestRoute, call.provider);
  // A pass-through route names its provider when nothing else did.
  if (call.provider === '') call.provider = PASSTHROUGH_PROVIDERS[call.route] ?? '';
  // Pass-through spans say "False" for streamed calls (1.81.3, 1.108.7); the upstream path or the
  // upstream response's content type says otherwise.
  if (!call.streaming && (isStreamingPath(requestRoute) || isStreamingResponse(hidden))) call.streaming = true;

  // Status.
  if (span.status.code === 2) {
    call.status = 'error';
    const code = firstStr(a, ['error.code', 'litellm.provider.error.code']);
    call.error_type = str(a, 'error.type') || (code ? `http_${code}` : 'error');
  }

  // Tokens.
  const { usage, issue: breakdownIssue } = litellmUsage(litellmTokens(layout, a, hidden), opts.promptTokensInclude);
  const tokenIssue = applyUsage(call, usage) || breakdownIssue;
  const extraAttributes = usageTags(a);

  // Cost LiteLLM computed.
  const cost = firstNum(a, layout.costKeys) ?? numberField(hidden, 'response_cost');
  call.reported_cost_usd = cost ?? null;

  // Join keys and call_id: provider request id > provider response id > LiteLLM call id > trace:span.
  const providerRequestId = stringField(hidden, 'llm_provider-request-id') || stringField(hidden, 'llm_provider-x-amzn-requestid');
  const responseId = str(a, 'gen_ai.response.id');
  const litellmCallId = str(a, 'litellm.call_id');
  const keys: string[] = [];
  if (providerRequestId) keys.push(requestKey(providerRequestId));
  if (responseId) keys.push(responseKey(responseId));
  if (litellmCallId) keys.push(litellmCallKey(litellmCallId));
  if (clientSpanId) keys.push(spanKey(span.traceId, clientSpanId));
  call.call_id = providerRequestId || responseId || litellmCallId || `${span.traceId}:${span.spanId}`;

  return {
    call, shape: layout.shape, keys, tokenIssue, cacheSplitKnown: usage.cacheWrite5m !== undefined || usage.cacheWrite1h !== undefined, extraAttributes,
    view: { resource, attrs: a, metadataPrefix: layout.shape === 'litellm_v2' ? 'litellm.metadata.' : 'metadata.', litellm: readIdentity(a), headers: readHeaders(a) },
  };
}

const PASSTHROUGH_PROVIDERS: Record<string, string> = {
  anthropic_passthrough: 'anthropic', bedrock_passthrough: 'aws.bedrock', vertex_passthrough: 'gcp.vertex_ai',
};

/** Anthropic's `service_tier` and `inference_geo` (price modifiers), which only the usage object carries. */
function usageTags(a: Attributes): Record<string, string> | undefined {
  const uo = str(a, 'metadata.usage_object');
  if (uo.length <= 4) return undefined;
  const tier = stringField(uo, 'service_tier');
  const geo = stringField(uo, 'inference_geo');
  if (tier === '' && geo === '') return undefined;
  const out: Record<string, string> = {};
  if (tier !== '') out['service_tier'] = tier;
  if (geo !== '') out['inference_geo'] = geo;
  return out;
}

export function routeOf(callType: string, requestRoute: string, provider: string): string {
  const r = requestRoute;
  if (r.startsWith('/anthropic')) return 'anthropic_passthrough';
  if (r.startsWith('/bedrock')) return 'bedrock_passthrough';
  if (r.startsWith('/vertex_ai') || r.startsWith('/vertex-ai')) return 'vertex_passthrough';
  if (callType.includes('anthropic_messages') || r.endsWith('/messages')) return 'anthropic_messages';
  if (callType.includes('passthrough') || callType.includes('pass_through')) {
    if (provider === 'anthropic') return 'anthropic_passthrough';
    if (provider === 'aws.bedrock') return 'bedrock_passthrough';
    if (provider === 'gcp.vertex_ai') return 'vertex_passthrough';
    return 'unknown';
  }
  if (callType.includes('responses') || r.includes('/responses')) return 'openai_responses';
  if (callType.includes('embedding') || r.includes('/embeddings')) return 'embeddings';
  if (callType === 'completion' || callType === 'acompletion' || callType === 'chat' || r.includes('/chat/completions')) return 'openai_chat';
  return 'unknown';
}

/** Streaming upstream endpoints: Bedrock `converse-stream` / `invoke-with-response-stream`, Vertex `streamRawPredict`. */
function isStreamingPath(route: string): boolean {
  return route.endsWith('/converse-stream') || route.endsWith('/invoke-with-response-stream') || route.endsWith(':streamRawPredict')
    || route.endsWith(':streamGenerateContent');
}

/** Every layout's streaming flag; whichever the span carries. */
export const STREAMING_KEYS = ['litellm.request.streaming', 'gen_ai.request.stream', 'llm.is_streaming'] as const;

function isStreamingResponse(hidden: string): boolean {
  const type = stringField(hidden, 'llm_provider-content-type');
  return type === 'text/event-stream' || type === 'application/vnd.amazon.eventstream';
}

/** `llm.is_streaming` is Python's "True"/"False" in v1 and a bool in v2's legacy-compat copy. */
export function isStreaming(a: Attributes, keys: readonly string[]): boolean | undefined {
  for (const k of keys) {
    const b = bool(a[k]);
    if (b !== undefined) return b;
  }
  return undefined;
}
