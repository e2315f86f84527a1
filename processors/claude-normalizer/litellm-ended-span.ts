import type { Attributes, Span } from '../../core/telemetry.js';
import { bool, str, tokenCount } from './attrs.js';
import { rawSpanKey, responseKey } from './join-keys.js';
import { litellmCallOf } from './litellm-extract.js';
import { routeOf } from './litellm-route.js';
import { readIdentity } from './litellm-identity.js';
import { canonicalProvider, parseModel } from './model.js';
import type { ModelProviders } from './providers.js';
import { parsePythonDict, type PyValue } from './python-repr.js';
import { applyUsage, type RawUsage } from './tokens.js';
import type { Extracted } from './types.js';

/**
 * LiteLLM calls whose LLM attributes went to a span that had already ended. With
 * `general_settings.custom_auth`, LiteLLM 1.108.7 takes the request's current FastAPI span (`POST /…`,
 * or its `fastapi.endpoint` child) as its request span; it ends when the response is sent, before the success callback sets the
 * usage on it ("Setting attribute on ended span" in LiteLLM's log), so the export has the span
 * without any LLM attribute (USE_OTEL_LITELLM_REQUEST_SPAN=true gives each call its own span).
 * What is left is the `raw_gen_ai_request` child LiteLLM still makes (content capture on): the
 * provider's response fields as `llm.<provider>.<field>`, usage included on non-streamed calls.
 *
 * Such a call is told apart exactly: its raw span's parent is a span seen without LLM attributes
 * (a well-formed export puts them on that very parent; litellm-request-spans.ts remembers them).
 * With content capture off there is no raw span: the request's FastAPI span is all there is, and
 * litellm-request-spans.ts counts it as lost when no LLM span below it arrives.
 */
export const RAW_REQUEST_SPAN = 'raw_gen_ai_request';
export const ENDED_SPAN_FIX = 'USE_OTEL_LITELLM_REQUEST_SPAN=true';

/**
 * The call a raw span describes, when its provider usage gives every token count and the model
 * (Anthropic, Bedrock InvokeModel, Vertex and OpenAI response formats); null otherwise (a streamed
 * call's raw span has no usage, a Bedrock Converse response names no model): then the call is lost.
 * Of the identity only the team survives on the raw span; the route comes from the parent's.
 */
export function recoverFromRawSpan(resource: Attributes, scopeVersion: string, raw: Span, parentRoute: string, providers: ModelProviders): Extracted | null {
  const a = raw.attributes;
  const prefix = rawPrefix(a);
  if (prefix === '') return null;
  const modelRaw = str(a, `${prefix}.model`);
  const dict = parsePythonDict(str(a, `${prefix}.usage`));
  const usage = rawUsage(dict);
  if (modelRaw === '' || dict === undefined || usage === null) return null;
  const call = litellmCallOf(resource, scopeVersion, raw);
  call.streaming = bool(a[`${prefix}.stream`]) ?? false;
  call.model_raw = modelRaw;
  const parsed = parseModel(modelRaw);
  call.model = parsed.model;
  call.region = parsed.region;
  // `llm.None.` / `llm.Unknown.` on /v1/messages and pass-through routes: the model string tells.
  const named = canonicalProvider(prefix.slice(4));
  call.provider = named || providers.lookup(modelRaw, parsed.model) || parsed.provider;
  call.provider_inferred = named === '';
  call.route = routeOf('', parentRoute, call.provider);
  const tokenIssue = applyUsage(call, usage);
  const id = str(a, `${prefix}.id`);
  call.call_id = id || `${raw.traceId}:${raw.spanId}`;
  // Price modifiers (batch tier, US-only inference), as the usage object gives them on a well-formed span.
  const extraAttributes: Record<string, string> = {};
  for (const k of ['service_tier', 'inference_geo']) if (typeof dict[k] === 'string') extraAttributes[k] = dict[k];
  return {
    call, shape: 'litellm_raw', extraAttributes, keys: [id ? responseKey(id) : rawSpanKey(raw.traceId, raw.spanId)], tokenIssue,
    cacheSplitKnown: usage.cacheWrite5m !== undefined,
    view: { resource, attrs: a, metadataPrefix: 'metadata.', litellm: readIdentity(a), headers: null },
  };
}

/** `llm.<provider>` of the raw span's response fields, '' when it has no usage. */
function rawPrefix(a: Attributes): string {
  for (const k of Object.keys(a)) if (k.startsWith('llm.') && k.endsWith('.usage')) return k.slice(0, -6);
  return '';
}

/** Anthropic-format usage (input excludes cache) or OpenAI-format (prompt includes cached reads); null for any other. */
function rawUsage(u: Record<string, PyValue> | undefined): RawUsage | null {
  if (!u) return null;
  const n = (v: PyValue | undefined) => (typeof v === 'number' ? tokenCount(v) : undefined);
  const input = n(u['input_tokens']);
  const output = n(u['output_tokens']);
  if (input !== undefined && output !== undefined) {
    const split = u['cache_creation'];
    const known = split !== null && typeof split === 'object' && !Array.isArray(split);
    return {
      input, output, cacheRead: n(u['cache_read_input_tokens']) ?? 0, cacheWrite: n(u['cache_creation_input_tokens']) ?? 0,
      cacheWrite5m: known ? n(split['ephemeral_5m_input_tokens']) : undefined, cacheWrite1h: known ? n(split['ephemeral_1h_input_tokens']) : undefined,
      inputIncludes: 'none',
    };
  }
  const prompt = n(u['prompt_tokens']);
  const completion = n(u['completion_tokens']);
  if (prompt === undefined || completion === undefined) return null;
  const details = u['prompt_tokens_details'];
  const cached = details !== null && typeof details === 'object' && !Array.isArray(details) ? n(details['cached_tokens']) : undefined;
  return { input: prompt, output: completion, total: n(u['total_tokens']), cacheRead: cached ?? 0, inputIncludes: 'read' };
}
