import { emptyCall } from '../../core/llm-call.js';
import type { Attributes, Span } from '../../core/telemetry.js';
import { msToIso, nanosToMs, str } from './attrs.js';
import { responseKey, spanKey } from './join-keys.js';
import { canonicalProvider, parseModel } from './model.js';
import type { ModelProviders } from './providers.js';
import { applyUsage, type RawUsage } from './tokens.js';
import type { Extracted, Shape } from './types.js';

/** Builds an `otel_genai` record from what a semantic-convention span says (GenAI semconv or OpenInference). */
export function genericCall(
  shape: Shape, resource: Attributes, span: Span, modelRaw: string, providerName: string, usage: RawUsage, providers: ModelProviders,
): Extracted {
  const a = span.attributes;
  const call = emptyCall();
  call.source = 'otel_genai';
  call.source_version = str(resource, 'telemetry.sdk.version') ? `${str(resource, 'telemetry.sdk.name')}/${str(resource, 'telemetry.sdk.version')}` : '';
  call.service_name = str(resource, 'service.name');
  call.route = 'direct';
  call.trace_id = span.traceId;
  call.span_id = span.spanId;
  const startMs = nanosToMs(span.startTimeUnixNano);
  call.timestamp = msToIso(startMs);
  call.duration_ms = Math.max(0, nanosToMs(span.endTimeUnixNano) - startMs);
  call.model_raw = modelRaw;
  const parsed = parseModel(modelRaw);
  call.model = parsed.model;
  call.region = parsed.region;
  const named = canonicalProvider(providerName);
  if (named !== '') call.provider = named;
  else {
    call.provider = providers.lookup(modelRaw, parsed.model) || parsed.provider;
    call.provider_inferred = true;
  }
  if (span.status.code === 2) {
    call.status = 'error';
    call.error_type = str(a, 'error.type') || 'error';
  }
  const tokenIssue = applyUsage(call, usage);
  const responseId = str(a, 'gen_ai.response.id');
  call.call_id = responseId || `${span.traceId}:${span.spanId}`;
  const keys = [spanKey(span.traceId, span.spanId)];
  if (responseId) keys.push(responseKey(responseId));
  return { call, shape, keys, tokenIssue, view: { resource, attrs: a, metadataPrefix: '', litellm: null, headers: null } };
}
