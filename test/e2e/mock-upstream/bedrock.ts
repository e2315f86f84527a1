/** Bedrock runtime shapes: Converse, and the AWS event-stream framing of the streaming APIs. */
import { crc32 } from 'node:zlib';
import type { FinalDelta, MockUsage } from './directives.js';
import { anthropicStreamEvents } from './anthropic.js';

export function converseUsage(u: MockUsage): Record<string, number> {
  return {
    inputTokens: u.input,
    outputTokens: u.output,
    totalTokens: u.input + u.output + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h,
    cacheReadInputTokens: u.cacheRead,
    cacheWriteInputTokens: u.cacheWrite5m + u.cacheWrite1h,
  };
}

export function converseResponse(text: string, u: MockUsage): Record<string, unknown> {
  return {
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason: 'end_turn',
    usage: converseUsage(u),
    metrics: { latencyMs: 5 },
  };
}

/** One message of the `application/vnd.amazon.eventstream` encoding (prelude, string headers, payload, CRCs). */
export function eventStreamMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const headerParts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(7, 1 + n.length); // header value type 7: string
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    headerParts.push(h);
  }
  const headerBytes = Buffer.concat(headerParts);
  const total = 12 + headerBytes.length + payload.length + 4;
  const msg = Buffer.alloc(total);
  msg.writeUInt32BE(total, 0);
  msg.writeUInt32BE(headerBytes.length, 4);
  msg.writeUInt32BE(crc32(msg.subarray(0, 8)), 8);
  headerBytes.copy(msg, 12);
  payload.copy(msg, 12 + headerBytes.length);
  msg.writeUInt32BE(crc32(msg.subarray(0, total - 4)), total - 4);
  return msg;
}

function event(type: string, body: unknown): Buffer {
  return eventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(body)));
}

export function converseStream(text: string, u: MockUsage): Buffer {
  const half = Math.ceil(text.length / 2);
  return Buffer.concat([
    event('messageStart', { role: 'assistant' }),
    event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: text.slice(0, half) } }),
    event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: text.slice(half) } }),
    event('contentBlockStop', { contentBlockIndex: 0 }),
    event('messageStop', { stopReason: 'end_turn' }),
    event('metadata', { usage: converseUsage(u), metrics: { latencyMs: 5 } }),
  ]);
}

/** InvokeModelWithResponseStream for Claude: Anthropic stream events, base64 in `chunk` events. */
export function invokeStream(id: string, model: string, text: string, u: MockUsage, form: FinalDelta): Buffer {
  const events = anthropicStreamEvents(id, model, text, u, form);
  const last = events[events.length - 1];
  last['amazon-bedrock-invocationMetrics'] = {
    inputTokenCount: u.input,
    outputTokenCount: u.output,
    invocationLatency: 5,
    firstByteLatency: 2,
    cacheReadInputTokenCount: u.cacheRead,
    cacheWriteInputTokenCount: u.cacheWrite5m + u.cacheWrite1h,
  };
  return Buffer.concat(events.map((e) => event('chunk', { bytes: Buffer.from(JSON.stringify(e)).toString('base64') })));
}

export function bedrockError(status: number): { status: number; type: string; body: Record<string, unknown> } {
  if (status === 429) return { status, type: 'ThrottlingException', body: { message: 'Too many requests, please wait before trying again.' } };
  if (status === 529) return { status: 503, type: 'ServiceUnavailableException', body: { message: 'Bedrock is unable to process your request.' } };
  return { status: 500, type: 'InternalServerException', body: { message: 'mock internal error' } };
}
