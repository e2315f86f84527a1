import type { Attributes } from '../../core/telemetry.js';
import { isStreaming, STREAMING_KEYS, type LiteLLMLayout } from './litellm-layout.js';

/**
 * LiteLLM's V2 integration (`LITELLM_OTEL_V2=true`): a CLIENT span `{operation} {model}` under the
 * FastAPI server span, `litellm.*` vendor keys (`litellm.call_id`, `litellm.call_type`,
 * `litellm.provider.model` = deployment model, `litellm.cost.total`, `litellm.request.streaming`),
 * semconv tokens with cache attributes, identity from Baggage (`litellm.team.id`,
 * `litellm.api_key.hash`, `litellm.metadata.*`). `gen_ai.request.model` is the user-facing alias.
 */
export const litellmV2: LiteLLMLayout = {
  shape: 'litellm_v2',
  // `litellm.provider.model` alone is not V2: the legacy callback also writes it since ~1.10x.
  detect: (a: Attributes) => 'litellm.call_type' in a,
  modelKeys: ['litellm.provider.model', 'gen_ai.response.model', 'gen_ai.request.model'],
  inputKeys: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'],
  outputKeys: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'],
  totalKeys: ['gen_ai.usage.total_tokens'],
  costKeys: ['litellm.cost.total', 'gen_ai.cost.total_cost'],
  streaming: (a) => isStreaming(a, STREAMING_KEYS),
};
