/** OpenAI Chat Completions shapes, for a non-Claude model. OpenAI has no cache writes; cache reads are inside prompt_tokens. */
import type { MockUsage } from './directives.js';

export function openaiUsage(u: MockUsage): Record<string, unknown> {
  return {
    prompt_tokens: u.input + u.cacheRead,
    completion_tokens: u.output,
    total_tokens: u.input + u.cacheRead + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

export function chatCompletion(id: string, model: string, text: string, u: MockUsage): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created: 1_760_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: openaiUsage(u),
    system_fingerprint: 'fp_mock',
  };
}

/** The SSE body of a streamed completion; usage comes as a last chunk only when the client asked for it. */
export function chatCompletionStream(id: string, model: string, text: string, u: MockUsage, includeUsage: boolean): string {
  const base = { id, object: 'chat.completion.chunk', created: 1_760_000_000, model, system_fingerprint: 'fp_mock' };
  const half = Math.ceil(text.length / 2);
  const chunks: Record<string, unknown>[] = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: text.slice(0, half) }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: text.slice(half) }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  ];
  if (includeUsage) chunks.push({ ...base, choices: [], usage: openaiUsage(u) });
  return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
}

export function openaiError(status: number): Record<string, unknown> {
  const type = status === 429 ? 'rate_limit_exceeded' : 'server_error';
  return { error: { message: `mock ${type}`, type, param: null, code: type } };
}
