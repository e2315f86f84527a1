import type { Attributes } from '../../core/telemetry.js';
import { isStreaming, STREAMING_KEYS, type LiteLLMLayout } from './litellm-layout.js';
import { hasLiteLLMMarks } from './litellm-legacy.js';

/**
 * LiteLLM's legacy callback with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`: the LLM
 * span is named `{operation} {model}` (CLIENT) and adds `gen_ai.provider.name` next to
 * `gen_ai.system`, `gen_ai.request.stream`, and the cache token attributes
 * `gen_ai.usage.cache_read.input_tokens` / `gen_ai.usage.cache_creation.input_tokens`. Input tokens
 * are still LiteLLM's OpenAI-style prompt_tokens. metadata.* and hidden_params as in default mode.
 */
export const litellmSemconv: LiteLLMLayout = {
  shape: 'litellm_semconv',
  detect: (a: Attributes) => 'gen_ai.provider.name' in a && !('litellm.call_type' in a) && hasLiteLLMMarks(a),
  modelKeys: ['litellm.provider.model', 'gen_ai.request.model'],
  inputKeys: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'],
  outputKeys: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'],
  totalKeys: ['gen_ai.usage.total_tokens'],
  // 1.88's early V2 integration (no litellm.call_type yet) matches this layout and puts its cost in litellm.cost.total.
  costKeys: ['gen_ai.cost.total_cost', 'litellm.cost.total'],
  streaming: (a) => isStreaming(a, STREAMING_KEYS),
};
