/**
 * What must never leave tokenledger's inputs for its rows and labels: prompt and response content,
 * and credentials. Components refuse configs that would copy either (at validation, by key), and
 * the normalizer drops content keys from what it keeps for audit.
 */

/** Attribute key prefixes of prompts, responses, tool arguments and raw provider payloads. */
const CONTENT_PREFIXES = [
  'gen_ai.input.', 'gen_ai.output.', 'gen_ai.prompt', 'gen_ai.completion', 'gen_ai.system_instructions', 'gen_ai.tool.call.',
  'gen_ai.content', 'gen_ai.tool.definitions', 'llm.input_messages', 'llm.output_messages', 'llm.prompts', 'llm.prompt_template', 'llm.tools',
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

/** True when every key with this prefix is a content key (`gen_ai.input.*`), not merely some (`gen_ai.*`). */
export function isContentPrefix(prefix: string): boolean {
  return CONTENT_PREFIXES.some((p) => prefix.startsWith(p));
}

/** Headers that carry credentials; LiteLLM logs every client `x-` header, credentials included (x-api-key on pass-through routes, 1.81.3). */
const CREDENTIAL_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-litellm-api-key', 'cookie', 'set-cookie',
  'x-amz-security-token', 'x-auth-token', 'x-access-token', 'x-csrf-token', 'x-xsrf-token',
]);
/** Name parts that mark a header as secret whatever its prefix (`x-openai-api-key`, `x-my-secret`, `anthropic-auth`…). */
const CREDENTIAL_PARTS = /(authorization|cookie|api[-_]?key|secret|password|passwd|credential|(auth|access|session|security|bearer|id|refresh)[-_]?token|^auth$|[-_]auth$)/;

export function isCredentialHeader(name: string): boolean {
  const n = name.trim().toLowerCase();
  return CREDENTIAL_HEADERS.has(n) || CREDENTIAL_PARTS.test(n);
}

/** Why a header may not be copied into records, or '' when it may. */
export function credentialHeaderProblem(name: string): string {
  return isCredentialHeader(name) ? `'${name}' is a credential header: credentials are never copied into records or metrics` : '';
}

/** Why an attribute key may not be copied into records, or '' when it may. */
export function contentKeyProblem(key: string): string {
  return isContentKey(key) ? `'${key}' is a content attribute (prompt, response or tool content): content is never copied into records or metrics` : '';
}
