import type { Attributes, Span } from '../../core/telemetry.js';
import { bool, str } from './attrs.js';
import { requestKey, spanKey } from './join-keys.js';
import type { RawUsage } from './tokens.js';
import type { Shape } from './types.js';

/**
 * How each real GenAI instrumentation library writes the semantic conventions, found from its
 * captures (test/fixtures/sources/README.md), not its docs: what `gen_ai.usage.input_tokens`
 * contains, how a stream is flagged, and which spans are the SDK's own.
 */
export interface GenAIDialect {
  shape: Shape;
  /** What the input count contains besides uncached input, for the call's provider. */
  inputIncludes(provider: string): RawUsage['inputIncludes'];
  streaming(span: Span): boolean;
  /** Join keys beyond the span's own and the response id. */
  keys(span: Span): string[];
}

/** Stream flags: the semantic conventions' request flag, OpenLLMetry's OpenAI flag. */
const STREAM_KEYS = ['gen_ai.request.stream', 'gen_ai.is_streaming'];

function streamFlag(span: Span): boolean {
  for (const k of STREAM_KEYS) {
    const b = bool(span.attributes[k]);
    if (b !== undefined) return b;
  }
  return false;
}

/** Providers whose own usage counts input without cache reads and writes (Anthropic Messages, Bedrock Converse). */
const INPUT_EXCLUDES_CACHE = new Set(['anthropic', 'aws.bedrock']);

function semconv(inputIncludesCache: boolean): GenAIDialect {
  return { shape: 'genai_semconv', inputIncludes: () => (inputIncludesCache ? 'read_and_write' : 'none'), streaming: streamFlag, keys: () => [] };
}

/**
 * The Anthropic SDK's own tracing (Python `anthropic` 2.x, scope `com.anthropic.sdk.python`): one
 * CLIENT span per API call, on by default once an OTel tracer provider is set, so it reports the
 * same call as any instrumentation library wrapping the SDK. Input includes cache (semconv), the
 * 5m/1h split is in `anthropic.usage.cache_creation.*`. Its parent is the wrapping library's span
 * when that span is current (OpenInference, not streamed): the parent key joins the two.
 */
const ANTHROPIC_SDK: GenAIDialect = {
  shape: 'anthropic_sdk',
  inputIncludes: () => 'read_and_write',
  streaming: streamFlag,
  keys: (span) => {
    const keys: string[] = [];
    const requestId = str(span.attributes, 'anthropic.request.id');
    if (requestId !== '') keys.push(requestKey(requestId));
    if (span.parentSpanId !== '') keys.push(spanKey(span.traceId, span.parentSpanId));
    return keys;
  },
};

/** OpenLIT copies each provider's usage as it comes: Anthropic and Bedrock input without cache, OpenAI's with reads. */
const OPENLIT: GenAIDialect = {
  shape: 'genai_semconv',
  inputIncludes: (provider) => (INPUT_EXCLUDES_CACHE.has(provider) ? 'none' : 'read'),
  streaming: streamFlag,
  keys: () => [],
};

/**
 * OpenLLMetry's Bedrock instrumentation (Python) and its npm Anthropic instrumentation copy the
 * provider's counts: input without cache (its Python Anthropic instrumentation adds the cache in).
 */
const INPUT_AS_PROVIDER: GenAIDialect = { ...OPENLIT, inputIncludes: () => 'none' };
const INPUT_AS_PROVIDER_SCOPES = new Set(['opentelemetry.instrumentation.bedrock', '@traceloop/instrumentation-anthropic']);

/** Logfire flags no stream: its usage of a stream is on a span named `streaming response from …`. */
const LOGFIRE: GenAIDialect = {
  shape: 'genai_semconv',
  inputIncludes: () => 'read_and_write',
  streaming: (span) => streamFlag(span) || span.name.startsWith('streaming response'),
  keys: () => [],
};

export function dialectOf(scope: string, resource: Attributes, inputIncludesCache: boolean): GenAIDialect {
  if (scope.startsWith('com.anthropic.sdk')) return ANTHROPIC_SDK;
  if (str(resource, 'telemetry.sdk.name') === 'openlit' || scope.startsWith('openlit.')) return OPENLIT;
  if (INPUT_AS_PROVIDER_SCOPES.has(scope)) return INPUT_AS_PROVIDER;
  if (scope.startsWith('logfire.')) return LOGFIRE;
  return semconv(inputIncludesCache);
}
