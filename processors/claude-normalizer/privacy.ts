import type { AnyValue, Attributes } from '../../core/telemetry.js';
import { headOf } from './bounded-strings.js';

/**
 * Which source attributes a record keeps for audit. Only listed keys are kept, and content keys
 * (prompts, responses, tool arguments, raw provider payloads) never are, even when listed: prompt
 * and response content must not leave the normalizer.
 */
const CONTENT_PREFIXES = [
  'gen_ai.input.', 'gen_ai.output.', 'gen_ai.prompt', 'gen_ai.completion', 'gen_ai.system_instructions', 'gen_ai.tool.call.',
  'gen_ai.content', 'llm.input_messages', 'llm.output_messages', 'llm.prompts', 'llm.prompt_template', 'llm.tools',
  'input.', 'output.', 'SpanAttributes.', 'llm.request.functions', 'tool_input', 'tool_parameters', 'api_request_body',
  'api_response_body', 'metadata.requester_metadata', 'metadata.spend_logs_metadata', 'hidden_params', 'metadata.usage_object',
  'exception', 'error.message', 'error.stack_trace', 'raw_',
];
/** Claude Code's content attributes (redacted by default, real text with OTEL_LOG_USER_PROMPTS …). */
const CONTENT_KEYS = new Set(['prompt', 'prompt_text', 'response', 'user_prompt', 'system_prompt', 'error', 'file_path']);

export function isContentKey(key: string): boolean {
  if (CONTENT_KEYS.has(key)) return true;
  for (const p of CONTENT_PREFIXES) if (key.startsWith(p)) return true;
  // Raw provider payload on LiteLLM's raw_gen_ai_request span: llm.<provider>.<field>.
  if (key.startsWith('llm.') && !key.startsWith('llm.token_count') && !key.startsWith('llm.request.type')
    && !key.startsWith('llm.is_streaming') && !key.startsWith('llm.usage') && !key.startsWith('llm.user')
    && !key.startsWith('llm.model_name') && !key.startsWith('llm.provider') && !key.startsWith('llm.system')) return true;
  return false;
}

export class AttributeFilter {
  private readonly exact: string[] = [];
  private readonly prefixes: string[] = [];

  /** `truncated` is told of every value cut to `maxLength`. */
  constructor(include: string[], private readonly maxCount: number, private readonly maxLength: number, private readonly truncated: () => void = () => {}) {
    for (const k of include) {
      if (k.endsWith('*')) this.prefixes.push(k.slice(0, -1));
      else if (!isContentKey(k)) this.exact.push(k);
    }
  }

  /** Kept attributes of `attrs`, then `extra` (values found in blobs), then `resource`, bounded in count and value length. */
  pick(attrs: Attributes, resource: Attributes, extra?: Attributes): Record<string, string> {
    const out: Record<string, string> = {};
    let n = 0;
    for (const src of extra ? [attrs, extra, resource] : [attrs, resource]) {
      for (const k of this.exact) {
        if (n >= this.maxCount) return out;
        if (k in out) continue;
        const v = this.render(src[k]);
        if (v !== '') { out[k] = v; n++; }
      }
      if (this.prefixes.length === 0) continue;
      for (const k of Object.keys(src)) {
        if (n >= this.maxCount) return out;
        if (k in out || isContentKey(k) || !this.prefixes.some((p) => k.startsWith(p))) continue;
        const v = this.render(src[k]);
        if (v !== '') { out[k] = v; n++; }
      }
    }
    return out;
  }

  private render(v: AnyValue | undefined): string {
    if (v === undefined || v === null || v instanceof Uint8Array) return '';
    const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (s.length <= this.maxLength) return s;
    this.truncated();
    return headOf(s, this.maxLength);
  }
}
