import { createAjv } from '../../../core/config/ajv.js';
import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import { prometheusExporterFactory, type PrometheusExporterConfig } from '../../../exporters/prometheus/index.js';

/** A config as the loader would hand it over: validated against the factory's schema, defaults applied. */
export function configOf(partial: Record<string, unknown>): PrometheusExporterConfig {
  const config = structuredClone(partial);
  const validate = createAjv().compile(prometheusExporterFactory.schema);
  if (!validate(config)) throw new Error(`invalid config: ${JSON.stringify(validate.errors)}`);
  return config as unknown as PrometheusExporterConfig;
}

let seq = 0;
export function llmCall(fields: Partial<LlmCall> = {}): LlmCall {
  seq++;
  return {
    ...emptyCall(), call_id: `call-${seq}`, timestamp: new Date().toISOString(), source: 'litellm', route: 'openai_chat',
    provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5', duration_ms: 1200, price_ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    ...fields,
  };
}
