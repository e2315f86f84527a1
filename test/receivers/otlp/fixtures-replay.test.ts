import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { post, startReceiver, type Started } from './helpers.js';

/** Every request Claude Code 2.1.330 really sent, replayed with its original headers. */

const ROOT = new URL('../../fixtures/claude-code/otlp', import.meta.url).pathname;

interface Captured {
  url: string; signal: 'traces' | 'metrics' | 'logs'; content_type: string; user_agent: string;
  extra_headers: Record<string, string>; file: string; bytes: number;
  summary?: { resource_keys: string[]; names: Record<string, number> };
}

const requests: { scenario: string; req: Captured }[] = readdirSync(ROOT)
  .filter((d) => d.startsWith('v'))
  .flatMap((scenario) => readFileSync(join(ROOT, scenario, 'index.jsonl'), 'utf8').trim().split('\n')
    .map((line) => ({ scenario, req: JSON.parse(line) as Captured })));

let rx: Started;
beforeAll(async () => {
  rx = await startReceiver({ auth: { bearer_tokens: ['sink-token'], bearer_tokens_env: '' }, headers_to_resource_attributes: { 'X-Collector-Tenant': 'tenant.id' } });
});
afterAll(async () => { await rx.receiver.shutdown(); });

/** Names the capture summarised: span names, metric names, or log bodies (Claude Code's event names). */
function names(batch: Batch): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (n: string) => { out[n] = (out[n] ?? 0) + 1; };
  for (const r of batch.resourceSpans) for (const s of r.scopeSpans) for (const sp of s.spans) add(sp.name);
  for (const r of batch.resourceMetrics) for (const s of r.scopeMetrics) for (const m of s.metrics) add(m.name);
  for (const r of batch.resourceLogs) for (const s of r.scopeLogs) for (const l of s.logRecords) add(String(l.body));
  return out;
}

test('the fixtures are there', () => {
  expect(requests.length).toBeGreaterThanOrEqual(19);
  expect(requests.some((r) => r.req.content_type === 'application/x-protobuf')).toBe(true);
});

describe.each(['as captured', 'chunked, no Content-Length', 'gzip'] as const)('replay %s', (mode) => {
  test.each(requests.map((r) => [`${r.scenario}/${r.req.file}`, r] as const))('%s', async (_name, { scenario, req }) => {
    let body: Buffer = readFileSync(join(ROOT, scenario, req.file));
    // JSON bodies are stored pretty-printed; compacted they are the bytes that were sent.
    if (req.content_type === 'application/json') body = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(body.length).toBe(req.bytes);
    const headers: Record<string, string> = { 'content-type': req.content_type, 'user-agent': req.user_agent, ...req.extra_headers };
    if (mode === 'gzip') {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    const before = rx.ctx.received.length;
    const reply = await post(`${rx.httpUrl}${req.url}`, body, headers, { chunked: mode !== 'as captured' });
    expect(reply.status, reply.body.toString()).toBe(200);
    if (req.content_type === 'application/json') {
      expect(reply.headers['content-type']).toBe('application/json');
      expect(JSON.parse(reply.body.toString())).toEqual({});
    } else {
      expect(reply.headers['content-type']).toBe('application/x-protobuf');
      expect(messages.logsResponse.decode(reply.body).toJSON()).toEqual({});
    }
    expect(rx.ctx.received.length).toBe(before + 1);
    const batch = rx.ctx.received[before];
    const resources = [...batch.resourceSpans, ...batch.resourceMetrics, ...batch.resourceLogs].map((r) => r.resource);
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources) {
      expect(resource['tenant.id']).toBe('acme');
      expect(resource['service.name']).toBe('claude-code');
      expect(resource['team.id']).toBe('platform');
      if (req.summary) expect(Object.keys(resource).sort()).toEqual([...req.summary.resource_keys, 'tenant.id'].sort());
    }
    if (req.summary) expect(names(batch)).toEqual(req.summary.names);
  });
});

test('a wrong token is refused with 401 and nothing reaches the pipeline', async () => {
  const { scenario, req } = requests[0];
  const before = rx.ctx.received.length;
  const reply = await post(`${rx.httpUrl}${req.url}`, readFileSync(join(ROOT, scenario, req.file)), { 'content-type': req.content_type, authorization: 'Bearer wrong' });
  expect(reply.status).toBe(401);
  expect(reply.headers['www-authenticate']).toBe('Bearer');
  expect(JSON.parse(reply.body.toString())).toEqual({ code: 16, message: 'missing or invalid bearer token', details: [] });
  expect(rx.ctx.received.length).toBe(before);
});
