import type { Attributes } from '../../core/telemetry.js';
import { isStreaming, STREAMING_KEYS, type LiteLLMLayout } from './litellm-layout.js';

/**
 * LiteLLM's legacy `otel` callback, default mode (up to 1.80 on `litellm_request`, from 1.81 on the
 * `Received Proxy Server Request` root span). `gen_ai.system` = custom_llm_provider, no
 * `gen_ai.provider.name`; tokens are OpenAI-style (`gen_ai.usage.input_tokens`, older releases
 * `gen_ai.usage.prompt_tokens`), cache tokens only inside `metadata.usage_object` (a Python repr) or
 * the `hidden_params` JSON; identity as `metadata.user_api_key_*`; `llm.is_streaming` "True"/"False".
 */
export const litellmLegacy: LiteLLMLayout = {
  shape: 'litellm_legacy',
  detect: (a: Attributes) => 'gen_ai.system' in a && !('gen_ai.provider.name' in a) && hasLiteLLMMarks(a),
  modelKeys: ['litellm.provider.model', 'gen_ai.request.model'],
  inputKeys: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'],
  outputKeys: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'],
  totalKeys: ['gen_ai.usage.total_tokens', 'llm.usage.total_tokens'],
  costKeys: ['gen_ai.cost.total_cost'],
  streaming: (a) => isStreaming(a, STREAMING_KEYS),
};

/** Keys only LiteLLM's v1 callback writes. */
export function hasLiteLLMMarks(a: Attributes): boolean {
  return 'hidden_params' in a || 'llm.request.type' in a || 'llm.is_streaming' in a || 'metadata.user_api_key_hash' in a
    || 'litellm.call_id' in a || 'metadata.usage_object' in a;
}
