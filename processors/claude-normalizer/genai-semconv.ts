import type { Attributes, Span } from '../../core/telemetry.js';
import { firstNum, firstStr, str, tokenCount } from './attrs.js';
import { canonicalProvider } from './model.js';
import { dialectOf } from './genai-dialects.js';
import { genericCall } from './generic-call.js';
import type { ModelProviders } from './providers.js';
import type { LogReader, SpanReader } from './reader.js';
import type { Extracted } from './types.js';

/**
 * Generic OpenTelemetry GenAI semantic-convention spans (any instrumentation: OpenLLMetry, the
 * OTel contrib instrumentations, Vercel AI SDK's semconv mode …): `gen_ai.request.model` /
 * `gen_ai.response.model`, `gen_ai.provider.name` (older `gen_ai.system`),
 * `gen_ai.usage.input_tokens` (older `prompt_tokens`), `gen_ai.usage.cache_read.input_tokens`,
 * `gen_ai.usage.cache_creation.input_tokens`. Agent and tool spans (`invoke_agent`,
 * `execute_tool` …) aggregate their children and are not model calls.
 */
const INPUT_KEYS = ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'];
const OUTPUT_KEYS = ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'];
const MODEL_CALLS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);
const NOT_MODEL_CALLS = new Set(['invoke_agent', 'create_agent', 'execute_tool', 'invoke_workflow']);

export type GenAIVerdict = 'call' | 'not_a_call' | 'no_model' | 'no_usage' | 'none';

/** Whether a span carries any of the gen_ai.* keys classifyGenAI reads. */
function hasGenAIKeys(a: Attributes): boolean {
  return 'gen_ai.usage.input_tokens' in a || 'gen_ai.usage.output_tokens' in a || 'gen_ai.usage.prompt_tokens' in a
    || 'gen_ai.request.model' in a || 'gen_ai.response.model' in a
    || 'gen_ai.operation.name' in a || 'gen_ai.system' in a || 'gen_ai.provider.name' in a;
}

/** Whether a span is a semconv model call: 'none' when it has no gen_ai.* keys at all. */
export function classifyGenAI(a: Attributes): GenAIVerdict {
  if (!hasGenAIKeys(a)) return 'none';
  const hasUsage = 'gen_ai.usage.input_tokens' in a || 'gen_ai.usage.output_tokens' in a || 'gen_ai.usage.prompt_tokens' in a;
  const hasModel = 'gen_ai.request.model' in a || 'gen_ai.response.model' in a;
  if (NOT_MODEL_CALLS.has(str(a, 'gen_ai.operation.name'))) return 'not_a_call';
  if (!hasModel) return hasUsage ? 'no_model' : 'not_a_call';
  if (hasUsage) return 'call';
  // A model without usage is a missing report only on a model-call operation; LiteLLM V2's
  // `route <model>` spans and similar carry the model and nothing else.
  return MODEL_CALLS.has(str(a, 'gen_ai.operation.name')) ? 'no_usage' : 'not_a_call';
}

/** Cache writes: the semconv key, its older spelling, and the Anthropic SDK's own `cache_write`. */
const CACHE_WRITE_KEYS = ['gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens', 'gen_ai.usage.cache_write.input_tokens'];
/** The 5m/1h split of writes, as the Anthropic SDK's tracing reports Anthropic's `usage.cache_creation`. */
const WRITE_5M = 'anthropic.usage.cache_creation.ephemeral_5m_input_tokens';
const WRITE_1H = 'anthropic.usage.cache_creation.ephemeral_1h_input_tokens';

/** `scope` is the instrumentation scope's name: which library wrote the span (genai-dialects.ts). */
export function extractGenAI(resource: Attributes, span: Span, providers: ModelProviders, inputIncludesCache: boolean, scope = ''): Extracted {
  const a = span.attributes;
  const providerName = firstStr(a, ['gen_ai.provider.name', 'gen_ai.system']);
  const dialect = dialectOf(scope, resource, inputIncludesCache);
  const split5m = tokenCount(firstNum(a, [WRITE_5M]));
  const split1h = tokenCount(firstNum(a, [WRITE_1H]));
  const x = genericCall(dialect.shape, resource, span,
    firstStr(a, ['gen_ai.response.model', 'gen_ai.request.model']),
    providerName,
    {
      input: tokenCount(firstNum(a, INPUT_KEYS)),
      output: tokenCount(firstNum(a, OUTPUT_KEYS)),
      cacheRead: tokenCount(firstNum(a, ['gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens'])),
      cacheWrite: tokenCount(firstNum(a, CACHE_WRITE_KEYS)),
      cacheWrite5m: split5m,
      cacheWrite1h: split1h,
      inputIncludes: dialect.inputIncludes(canonicalProvider(providerName)),
    }, providers);
  x.call.streaming = dialect.streaming(span);
  x.keys.push(...dialect.keys(span));
  x.cacheSplitKnown = split5m !== undefined || split1h !== undefined;
  return x;
}

/** Semconv spans: a model call is read (an errored one even without usage); one missing its model or usage is counted as unknown. */
export const genAISpans: SpanReader = {
  family: 'other',
  detect: (span) => hasGenAIKeys(span.attributes),
  read: (span, site, opts) => {
    const verdict = classifyGenAI(span.attributes);
    if (verdict === 'call' || (verdict === 'no_usage' && span.status.code === 2)) {
      return { x: extractGenAI(site.resource, span, opts.providers, opts.genaiInputIncludesCache, site.scope.name) };
    }
    if (verdict === 'no_model' || verdict === 'no_usage') return { unknown: `genai_${verdict}` };
    return null;
  },
};

/** Token usage on a log record no other log reader knows: counted as unknown, never guessed. */
export const genAIUsageOnLogs: LogReader = {
  detect: (rec) => 'gen_ai.usage.input_tokens' in rec.attributes || 'gen_ai.usage.output_tokens' in rec.attributes,
  read: () => ({ unknown: 'genai_usage_on_log' }),
};
