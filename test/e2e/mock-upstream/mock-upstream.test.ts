import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directiveText, startMockUpstream, type MockUpstream } from './server.js';

/** Decodes an AWS event stream, checking both CRCs, into [event-type, JSON payload] pairs. */
function decodeEventStream(buf: Buffer): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  for (let off = 0; off < buf.length; ) {
    const total = buf.readUInt32BE(off);
    const hlen = buf.readUInt32BE(off + 4);
    expect(buf.readUInt32BE(off + 8)).toBe(crc32(buf.subarray(off, off + 8)));
    expect(buf.readUInt32BE(off + total - 4)).toBe(crc32(buf.subarray(off, off + total - 4)));
    const headers: Record<string, string> = {};
    for (let h = off + 12; h < off + 12 + hlen; ) {
      const nlen = buf.readUInt8(h);
      const name = buf.toString('utf8', h + 1, h + 1 + nlen);
      const vlen = buf.readUInt16BE(h + 2 + nlen);
      headers[name] = buf.toString('utf8', h + 4 + nlen, h + 4 + nlen + vlen);
      h += 4 + nlen + vlen;
    }
    out.push([headers[':event-type'], JSON.parse(buf.toString('utf8', off + 12 + hlen, off + total - 4)) as Record<string, unknown>]);
    off += total;
  }
  return out;
}

describe('mock upstream', () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream({ idPrefix: 'test' });
  });
  afterAll(() => mock.close());

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'secret' }, body: JSON.stringify(body) });
  const prompt = (text: string): unknown => [{ role: 'user', content: [{ type: 'text', text }] }];

  it('answers Anthropic Messages with the usage a directive asks for, logging it without the key', async () => {
    const res = await post('/v1/messages', { model: 'claude-sonnet-4-5-20250929', max_tokens: 10, messages: prompt(`hi ${directiveText({ in: 7, out: 3, cr: 100, cw5m: 20, cw1h: 30 })}`) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; usage: Record<string, unknown> };
    expect(body.usage).toMatchObject({ input_tokens: 7, output_tokens: 3, cache_read_input_tokens: 100, cache_creation_input_tokens: 50, cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 30 } });
    const call = mock.calls.at(-1)!;
    expect(res.headers.get('request-id')).toBe(call.requestId);
    expect(call).toMatchObject({ api: 'anthropic.messages', stream: false, responseId: body.id, usage: { input: 7, output: 3, cacheRead: 100, cacheWrite5m: 20, cacheWrite1h: 30 } });
    expect(call.headers['x-api-key']).toBe('<redacted>');
  });

  it('streams Anthropic SSE with input and cache usage in message_start and output in message_delta', async () => {
    const res = await post('/v1/messages', { model: 'claude-haiku-4-5', stream: true, max_tokens: 10, messages: prompt(directiveText({ in: 5, out: 9, cr: 11 })) });
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { type: string; usage?: unknown; message?: { usage: unknown } });
    expect(events.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(events[0].message?.usage).toMatchObject({ input_tokens: 5, cache_read_input_tokens: 11 });
    expect(events[5].usage).toEqual({ output_tokens: 9 });
    expect(mock.calls.at(-1)?.finalDelta).toBe('output');
  });

  it('ends a stream with the cumulative usage in message_delta when asked (final=full), on Anthropic and Bedrock invoke alike', async () => {
    const d = directiveText({ in: 5, out: 9, cr: 11, cw1h: 13, final: 'full' });
    const res = await post('/v1/messages', { model: 'claude-haiku-4-5', stream: true, max_tokens: 10, messages: prompt(d) });
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { type: string; usage?: unknown; message?: { usage: unknown } });
    expect(events[0].message?.usage).toMatchObject({ input_tokens: 5, cache_read_input_tokens: 11, cache_creation_input_tokens: 13, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 13 } });
    expect(events[5].usage).toEqual({ input_tokens: 5, cache_creation_input_tokens: 13, cache_read_input_tokens: 11, output_tokens: 9 });
    expect(mock.calls.at(-1)?.finalDelta).toBe('full');
    const b = await post('/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke-with-response-stream', { anthropic_version: 'bedrock-2023-05-31', messages: prompt(d) });
    const inner = decodeEventStream(Buffer.from(await b.arrayBuffer())).map(([, p]) => JSON.parse(Buffer.from(String(p.bytes), 'base64').toString()) as Record<string, unknown>);
    expect(inner.find((e) => e.type === 'message_delta')?.usage).toEqual({ input_tokens: 5, cache_creation_input_tokens: 13, cache_read_input_tokens: 11, output_tokens: 9 });
    expect(mock.calls.at(-1)).toMatchObject({ api: 'bedrock.invoke_stream', finalDelta: 'full' });
  });

  it('fails the first N attempts of a call id, then succeeds', async () => {
    const d = directiveText({ id: 'retry1', error: 529, times: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post('/v1/messages', { model: 'claude-haiku-4-5', messages: prompt(d) })).status);
    expect(statuses).toEqual([529, 529, 200]);
    expect(mock.calls.slice(-3).map((c) => [c.attempt, c.error])).toEqual([[1, '529'], [2, '529'], [3, '']]);
  });

  it('frames Bedrock ConverseStream as a valid event stream with the usage in metadata', async () => {
    const res = await post('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream', { messages: [{ role: 'user', content: [{ text: directiveText({ in: 4, out: 6, cr: 8, cw5m: 2 }) }] }] });
    expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    const events = decodeEventStream(Buffer.from(await res.arrayBuffer()));
    expect(events.map(([t]) => t)).toEqual(['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);
    expect(events[5][1].usage).toEqual({ inputTokens: 4, outputTokens: 6, totalTokens: 20, cacheReadInputTokens: 8, cacheWriteInputTokens: 2 });
    expect(mock.calls.at(-1)).toMatchObject({ api: 'bedrock.converse_stream', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' });
  });

  it('wraps Anthropic events in base64 chunks for InvokeModelWithResponseStream', async () => {
    const res = await post('/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke-with-response-stream', { anthropic_version: 'bedrock-2023-05-31', messages: prompt('x') });
    const events = decodeEventStream(Buffer.from(await res.arrayBuffer()));
    const inner = events.map(([, p]) => JSON.parse(Buffer.from(String(p.bytes), 'base64').toString()) as Record<string, unknown>);
    expect(inner[0].type).toBe('message_start');
    expect(inner.at(-1)).toMatchObject({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 25, outputTokenCount: 42 } });
  });

  it('serves Vertex rawPredict for Claude and OpenAI chat, with usage only when a stream asks for it', async () => {
    const v = await post('/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict', { anthropic_version: 'vertex-2023-10-16', messages: prompt('x') });
    expect(((await v.json()) as { id: string }).id).toMatch(/^msg_vrtx_test_/);
    const o = await post('/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: directiveText({ in: 3, cr: 2 }) }] });
    expect(await o.text()).not.toContain('"usage"');
    expect(mock.calls.at(-1)).toMatchObject({ api: 'openai.chat', stream: true, usage: null });
    const o2 = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: directiveText({ in: 3, cr: 2 }) }] });
    expect(((await o2.json()) as { usage: unknown }).usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 42, prompt_tokens_details: { cached_tokens: 2 } });
  });

  it('rejects a malformed directive with 400 and counts it as an error, not a billable call', async () => {
    const before = mock.billable().length;
    const res = await post('/v1/messages', { model: 'claude-haiku-4-5', messages: prompt('[[mock in=-1]]') });
    expect(res.status).toBe(400);
    expect(mock.calls.at(-1)?.error).toContain('in=-1');
    expect((await post('/v1/messages', { model: 'claude-haiku-4-5', messages: prompt('[[mock final=some]]') })).status).toBe(400);
    expect(mock.calls.at(-1)?.error).toContain('final=some');
    expect(mock.billable().length).toBe(before);
  });
});
