/** Anthropic Messages API shapes (also the body of Bedrock InvokeModel and Vertex rawPredict for Claude). */
import type { FinalDelta, MockUsage } from './directives.js';

export function anthropicUsage(u: MockUsage): Record<string, unknown> {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite5m + u.cacheWrite1h,
    cache_read_input_tokens: u.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheWrite5m, ephemeral_1h_input_tokens: u.cacheWrite1h },
    output_tokens: u.output,
    service_tier: 'standard',
  };
}

export function anthropicMessage(id: string, model: string, text: string, u: MockUsage): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage(u),
  };
}

/**
 * The final message_delta's usage. The API sends the cumulative counts (input and cache too, without
 * the 5m/1h object); the streaming documentation's example, and some hosts and proxies, only output.
 */
function finalDeltaUsage(u: MockUsage, form: FinalDelta): Record<string, number> {
  if (form === 'output') return { output_tokens: u.output };
  return { input_tokens: u.input, cache_creation_input_tokens: u.cacheWrite5m + u.cacheWrite1h, cache_read_input_tokens: u.cacheRead, output_tokens: u.output };
}

/** The event sequence of a streamed message: input and cache usage in message_start, output (or all) in message_delta. */
export function anthropicStreamEvents(id: string, model: string, text: string, u: MockUsage, form: FinalDelta): Record<string, unknown>[] {
  const half = Math.ceil(text.length / 2);
  return [
    { type: 'message_start', message: { ...anthropicMessage(id, model, '', u), content: [], stop_reason: null, usage: { ...anthropicUsage(u), output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(0, half) } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(half) } },
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: finalDeltaUsage(u, form) },
    { type: 'message_stop' },
  ];
}

export function sse(events: Record<string, unknown>[]): string {
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

export function anthropicError(status: number): Record<string, unknown> {
  const type = status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : 'api_error';
  return { type: 'error', error: { type, message: `mock ${type}` } };
}

/** A rough, deterministic token count: one token per 4 characters of the request's text. */
export function countTokens(body: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(body ?? '').length / 4));
}
