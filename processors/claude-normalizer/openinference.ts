import type { Attributes, Span } from '../../core/telemetry.js';
import { firstNum, firstStr, str, tokenCount } from './attrs.js';
import { genericCall } from './generic-call.js';
import type { ModelProviders } from './providers.js';
import type { SpanReader } from './reader.js';
import type { Extracted } from './types.js';

/**
 * OpenInference LLM spans (Arize/Phoenix instrumentations, LiteLLM's arize callbacks):
 * `openinference.span.kind` = LLM, `llm.model_name`, `llm.provider` / `llm.system`,
 * `llm.token_count.prompt|completion|total`, and `llm.token_count.prompt_details.cache_read|cache_write`,
 * which are parts of the prompt count.
 */
export function isOpenInferenceLlm(a: Attributes): boolean {
  return 'llm.token_count.prompt' in a || 'llm.token_count.completion' in a
    || (str(a, 'openinference.span.kind').toUpperCase() === 'LLM' && ('llm.model_name' in a || 'llm.invocation_parameters' in a));
}

/**
 * The request's parameters, a JSON string: the only place OpenInference keeps the stream flag, and
 * the model of a failed OpenAI call (no `llm.model_name` without a response). Content-free.
 */
function invocationParameters(a: Attributes): { model?: unknown; stream?: unknown } {
  const raw = str(a, 'llm.invocation_parameters');
  if (raw === '') return {};
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? v : {};
  } catch (err) {
    // Written by the library with json.dumps; anything else is read as no parameters (stream flag unknown), not a lost call.
    if (!(err instanceof SyntaxError)) throw err;
    return {};
  }
}

const PROVIDERS: Record<string, string> = { aws: 'aws.bedrock', google: 'gcp.vertex_ai', azure: 'azure.ai.openai', mistralai: 'mistral_ai', xai: 'x_ai' };

export function extractOpenInference(resource: Attributes, span: Span, providers: ModelProviders): Extracted {
  const a = span.attributes;
  const p = firstStr(a, ['llm.provider', 'llm.system']);
  const params = invocationParameters(a);
  const model = str(a, 'llm.model_name') || (typeof params.model === 'string' ? params.model : '');
  const x = genericCall('openinference', resource, span, model, PROVIDERS[p] ?? p, {
    input: tokenCount(firstNum(a, ['llm.token_count.prompt'])),
    output: tokenCount(firstNum(a, ['llm.token_count.completion'])),
    total: tokenCount(firstNum(a, ['llm.token_count.total'])),
    cacheRead: tokenCount(firstNum(a, ['llm.token_count.prompt_details.cache_read'])),
    cacheWrite: tokenCount(firstNum(a, ['llm.token_count.prompt_details.cache_write'])),
    inputIncludes: 'read_and_write',
  }, providers);
  x.call.streaming = params.stream === true;
  return x;
}

export const openInferenceSpans: SpanReader = {
  family: 'other',
  detect: (span) => isOpenInferenceLlm(span.attributes),
  read: (span, site, opts) => ({ x: extractOpenInference(site.resource, span, opts.providers) }),
};
