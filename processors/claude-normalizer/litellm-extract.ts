import { emptyCall, type LlmCall } from '../../core/llm-call.js';
import type { Attributes, Span } from '../../core/telemetry.js';
import { firstNum, firstStr, msToIso, nanosToMs, num, str } from './attrs.js';
import type { PromptTokensInclude } from './config.js';
import { litellmCallKey, requestKey, responseKey, spanKey } from './join-keys.js';
import { readHeaders, readIdentity } from './litellm-identity.js';
import type { LiteLLMLayout } from './litellm-layout.js';
import { applyRoute } from './litellm-route.js';
import { canonicalProvider, hostOf, parseModel, providerOfHost, regionOfHost } from './model.js';
import type { ModelProviders } from './providers.js';
import { numberField, stringField } from './scan.js';
import { litellmTokens, litellmUsage } from './litellm-usage.js';
import { applyUsage } from './tokens.js';
import type { Extracted } from './types.js';

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

/** The call a LiteLLM span of `layout` reports; `clientSpanId` is the client's span that called LiteLLM, '' when unknown. */
export function extractLiteLLM(layout: LiteLLMLayout, resource: Attributes, scopeVersion: string, span: Span, clientSpanId: string, opts: LiteLLMOptions): Extracted {
  const a = span.attributes;
  const call = litellmCallOf(resource, scopeVersion, span);
  const ttftS = num(a['gen_ai.response.time_to_first_chunk']);
  call.ttft_ms = ttftS !== undefined ? ttftS * 1000 : null;
  call.streaming = layout.streaming(a) ?? false;
  // hidden_params: a JSON string on v1 spans (api_base, response_cost, provider headers, usage_object).
  const hidden = str(a, 'hidden_params');
  applyModel(call, layout, a, hidden, opts.providers);
  applyRoute(call, a, hidden);
  applyStatus(call, span);
  const { usage, issue: breakdownIssue } = litellmUsage(litellmTokens(layout, a, hidden), opts.promptTokensInclude);
  const tokenIssue = applyUsage(call, usage) || breakdownIssue;
  // Cost LiteLLM computed.
  call.reported_cost_usd = firstNum(a, layout.costKeys) ?? numberField(hidden, 'response_cost') ?? null;
  const keys = applyIds(call, span, hidden, clientSpanId);
  return {
    call, shape: layout.shape, keys, tokenIssue, cacheSplitKnown: usage.cacheWrite5m !== undefined || usage.cacheWrite1h !== undefined, extraAttributes: usageTags(a),
    view: { resource, attrs: a, metadataPrefix: layout.shape === 'litellm_v2' ? 'litellm.metadata.' : 'metadata.', litellm: readIdentity(a), headers: readHeaders(a) },
  };
}

/** Model, region and provider: the model actually sent, else what the provider answered when the name is a proxy alias. */
function applyModel(call: LlmCall, layout: LiteLLMLayout, a: Attributes, hidden: string, providers: ModelProviders): void {
  const requestModel = str(a, 'gen_ai.request.model');
  const responseModel = str(a, 'gen_ai.response.model');
  let modelRaw = firstStr(a, layout.modelKeys);
  if (modelRaw === '') modelRaw = stringField(hidden, 'litellm_model_name');
  call.model_raw = modelRaw || requestModel || responseModel;
  let parsed = parseModel(call.model_raw);
  // A proxy alias (`my-claude`) says nothing; the provider's answer names the model.
  if (parsed.provider === '' && responseModel !== '' && providers.lookup(call.model_raw, parsed.model) === '') {
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
    call.provider = providers.lookup(call.model_raw, call.model) || parsed.provider || providerOfHost(host);
  }
}

function applyStatus(call: LlmCall, span: Span): void {
  if (span.status.code !== 2) return;
  const a = span.attributes;
  call.status = 'error';
  const code = firstStr(a, ['error.code', 'litellm.provider.error.code']);
  call.error_type = str(a, 'error.type') || (code ? `http_${code}` : 'error');
}

/** Join keys and call_id: provider request id > provider response id > LiteLLM call id > trace:span. */
function applyIds(call: LlmCall, span: Span, hidden: string, clientSpanId: string): string[] {
  const a = span.attributes;
  const providerRequestId = stringField(hidden, 'llm_provider-request-id') || stringField(hidden, 'llm_provider-x-amzn-requestid');
  const responseId = str(a, 'gen_ai.response.id');
  const litellmCallId = str(a, 'litellm.call_id');
  const keys: string[] = [];
  if (providerRequestId) keys.push(requestKey(providerRequestId));
  if (responseId) keys.push(responseKey(responseId));
  if (litellmCallId) keys.push(litellmCallKey(litellmCallId));
  if (clientSpanId) keys.push(spanKey(span.traceId, clientSpanId));
  call.call_id = providerRequestId || responseId || litellmCallId || `${span.traceId}:${span.spanId}`;
  return keys;
}

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
