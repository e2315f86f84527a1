import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, expect, test } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { RetryableError } from '../../../core/errors.js';
import { metricValue } from '../../helpers/context.js';
import { grpcExport, post, sleep, startReceiver, type Started } from './helpers.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';

/**
 * A blocked pipeline: clients get retryable answers, and once it unblocks every acknowledged item
 * is delivered exactly once (clients retry what was refused, as OTLP clients do).
 */

const spanJson = (name: string) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' }] }] }] });
const spanPb = (name: string, pad = 0) => messages.traceRequest.encode({
  resourceSpans: [{ scopeSpans: [{ spans: [{ name, attributes: pad > 0 ? [{ key: 'pad', value: { stringValue: 'x'.repeat(pad) } }] : [] }] }] }],
}).finish();
const spanNames = (b: Batch) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => sp.name)));

/** An exporter-like consumer: a bounded queue that refuses when full, delivering to `delivered` when open. */
class BoundedPipeline {
  readonly delivered: string[] = [];
  private readonly queue: string[][] = [];
  open = false;
  constructor(private readonly capacity: number) {}
  consume = async (b: Batch): Promise<void> => {
    if (this.open) { this.delivered.push(...spanNames(b)); return; }
    if (this.queue.length >= this.capacity) throw new RetryableError('queue full', 1);
    this.queue.push(spanNames(b));
  };
  unblock(): void {
    this.open = true;
    for (const names of this.queue.splice(0)) this.delivered.push(...names);
  }
}

let rx: Started | undefined;
afterEach(async () => { await rx?.receiver.shutdown(); rx = undefined; });

/** Sends one span until it is acknowledged; returns the answers it got on the way (also pushed to `answers` as they come). */
async function sendUntilAcked(name: string, transport: 'http' | 'grpc', answers: number[] = []): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (transport === 'http') {
      const r = await post(`${rx!.httpUrl}/v1/traces`, spanJson(name), { 'content-type': 'application/json' });
      answers.push(r.status);
      if (r.status === 200) return answers;
      expect([429, 503]).toContain(r.status);
      expect(r.headers['retry-after']).toMatch(/^[0-9]+$/);
    } else {
      const r = await grpcExport(rx!.grpcTarget, 'traces', spanPb(name));
      answers.push(r.ok ? 0 : r.error.code);
      if (r.ok) return answers;
      expect([8, 14]).toContain(r.error.code);
    }
    await sleep(20);
  }
  throw new Error(`${name} never acknowledged: ${answers.join(',')}`);
}

test('full queue: retryable refusals, then every acknowledged span delivered exactly once', async () => {
  const pipeline = new BoundedPipeline(3);
  rx = await startReceiver({}, pipeline.consume);
  const names = Array.from({ length: 12 }, (_, i) => `span-${i}`);
  const seen = names.map((): number[] => []);
  const sending = names.map((n, i) => sendUntilAcked(n, i % 2 === 0 ? 'http' : 'grpc', seen[i]));
  // Every sender but the three queued has been refused once before the queue opens (however loaded the machine).
  for (const deadline = Date.now() + 20_000; seen.filter((a) => a.some((x) => x !== 200 && x !== 0)).length < 12 - 3;) {
    if (Date.now() > deadline) throw new Error(`refusals so far: ${JSON.stringify(seen)}`);
    await sleep(20);
  }
  expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_refused_requests_total', { transport: 'http', signal: 'traces', reason: 'pipeline_retryable' })).toBeGreaterThan(0);
  expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_refused_requests_total', { transport: 'grpc', signal: 'traces', reason: 'pipeline_retryable' })).toBeGreaterThan(0);
  pipeline.unblock();
  const answers = await Promise.all(sending);
  expect(answers.filter((a) => a.length > 1).length).toBeGreaterThanOrEqual(12 - 3); // all but the queued three were refused first
  expect([...pipeline.delivered].sort()).toEqual([...names].sort());
  expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_accepted_items_total', { transport: 'http', signal: 'traces' })
    + await metricValue(rx.ctx.registry, 'tokenledger_receiver_accepted_items_total', { transport: 'grpc', signal: 'traces' })).toBe(12);
});

test('hanging pipeline: requests wait for the acknowledgement; past max_in_flight they are refused with 503 / UNAVAILABLE (what every OTLP exporter retries)', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const delivered: string[] = [];
  const body = spanJson('x');
  // Room for three of these requests in flight, not four.
  rx = await startReceiver({ max_in_flight_mib: (body.length * 3.5) / (1024 * 1024) }, async (b) => { await gate; delivered.push(...spanNames(b)); });
  const first = ['a', 'b', 'c'].map((n) => post(`${rx!.httpUrl}/v1/traces`, spanJson(n), { 'content-type': 'application/json' }));
  await sleep(200);
  const refused = await post(`${rx.httpUrl}/v1/traces`, spanJson('d'), { 'content-type': 'application/json' });
  expect(refused.status).toBe(503);
  expect(refused.headers['retry-after']).toBe('5');
  expect(JSON.parse(refused.body.toString()).message).toBe('too much data in flight, retry later');
  const g = await grpcExport(rx.grpcTarget, 'traces', spanPb('e', body.length));
  expect(!g.ok && g.error.code).toBe(14);
  expect(delivered).toEqual([]);
  release();
  expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200, 200]);
  expect(await sendUntilAcked('d', 'http')).toEqual([200]);
  expect(await sendUntilAcked('e', 'grpc')).toEqual([0]);
  expect(delivered.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_in_flight_bytes', { receiver: 'otlp/test' })).toBe(0);
});

test('the official exporter retries a refused export by itself; the spans arrive once', async () => {
  let refusals = 1;
  const delivered: string[] = [];
  rx = await startReceiver({}, async (b) => {
    if (refusals-- > 0) throw new RetryableError('queue full', 1);
    delivered.push(...spanNames(b));
  });
  const memory = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
  tracer.startSpan('retried').end();
  const exporter = new OTLPTraceExporter({ url: `${rx.httpUrl}/v1/traces` });
  const result = await new Promise<{ code: number }>((resolve) => exporter.export(memory.getFinishedSpans(), resolve));
  await exporter.shutdown();
  expect(result.code).toBe(ExportResultCode.SUCCESS);
  expect(delivered).toEqual(['retried']);
});

test('shutdown drains: requests in flight are acknowledged, new ones are refused, then the ports close', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const delivered: string[] = [];
  rx = await startReceiver({ drain_timeout: '10s' }, async (b) => { await gate; delivered.push(...spanNames(b)); });
  const { httpUrl, grpcTarget, receiver } = rx;
  const inFlightHttp = post(`${httpUrl}/v1/traces`, spanJson('h'), { 'content-type': 'application/json' });
  const inFlightGrpc = grpcExport(grpcTarget, 'traces', spanPb('g'));
  await sleep(200);
  let stopped = false;
  const stopping = receiver.shutdown().then(() => { stopped = true; });
  await sleep(100);
  expect(stopped).toBe(false);
  await expect(post(`${httpUrl}/v1/traces`, spanJson('late'), { 'content-type': 'application/json' })).rejects.toThrow(/ECONNREFUSED/);
  release();
  expect((await inFlightHttp).status).toBe(200);
  expect((await inFlightGrpc).ok).toBe(true);
  await stopping;
  expect(delivered.sort()).toEqual(['g', 'h']);
  rx = undefined;
});

test('a port already taken: start fails naming the transport and endpoint, and releases what it bound', async () => {
  rx = await startReceiver();
  const taken = new URL(rx.httpUrl).port;
  await expect(startReceiver({ http: { endpoint: `127.0.0.1:${taken}` } })).rejects.toThrow(`cannot listen for OTLP/HTTP on 127.0.0.1:${taken}: listen EADDRINUSE`);
  const grpcTaken = rx.grpcTarget.split(':')[1];
  await expect(startReceiver({ grpc: { endpoint: `127.0.0.1:${grpcTaken}` } })).rejects.toThrow(`cannot listen for OTLP/gRPC on 127.0.0.1:${grpcTaken}`);
});
