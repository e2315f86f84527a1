import { SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
// The exporters' own config enum (their dependency, installed with them).
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics as SdkResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { metricValue } from '../../helpers/context.js';
import { startReceiver, type Started } from './helpers.js';

/** The official OTel JS exporters (0.215) as clients, over gRPC, HTTP/protobuf and HTTP/JSON. */

const resource = resourceFromAttributes({ 'service.name': 'exporter-test', 'team.id': 'platform', 'n.int': 7, 'n.list': ['a', 'b'] });

function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('tokenledger-test', '1.2.3');
  const parent = tracer.startSpan('litellm_request', { attributes: { 'gen_ai.request.model': 'claude-sonnet-4-5', 'gen_ai.usage.input_tokens': 25, 'llm.is_streaming': true, 'x.ratio': 0.5 } });
  parent.addEvent('first_token', { 'ttft.ms': 120 });
  parent.setStatus({ code: 2, message: 'boom' });
  parent.end();
  tracer.startSpan('child').end();
  return memory.getFinishedSpans();
}

class CollectingReader extends MetricReader {
  constructor() { super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA }); }
  protected override onShutdown(): Promise<void> { return Promise.resolve(); }
  protected override onForceFlush(): Promise<void> { return Promise.resolve(); }
}

async function makeMetrics(): Promise<SdkResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('com.anthropic.claude_code', '2.1.330');
  meter.createCounter('claude_code.token.usage', { unit: 'tokens' }).add(9800, { type: 'cacheRead', model: 'claude-sonnet-4-5' });
  meter.createCounter('claude_code.cost.usage', { unit: 'USD' }).add(0.008145, { model: 'claude-sonnet-4-5' });
  meter.createHistogram('latency', { unit: 'ms' }).record(42);
  meter.createGauge('temperature').record(-3);
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics;
}

function makeLogs(): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor(memory)] });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.330');
  logger.emit({ eventName: 'claude_code.api_request', body: 'claude_code.api_request', severityNumber: SeverityNumber.INFO, severityText: 'INFO', attributes: { 'input_tokens': 25, cost_usd: 0.008145, nested: { a: [1, 'x', true] } }, timestamp: new Date(1795410618316) });
  logger.emit({ body: { kv: 'structured' } });
  return memory.getFinishedLogRecords();
}

interface Exporter<T> { export(items: T, cb: (r: ExportResult) => void): void; shutdown(): Promise<void> }
function exportWith<T>(exporter: Exporter<T>, items: T): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

type Transport = 'grpc' | 'http/protobuf' | 'http/json';
const TRANSPORTS: Transport[] = ['grpc', 'http/protobuf', 'http/json'];

let rx: Started;
beforeAll(async () => { rx = await startReceiver(); });
afterAll(async () => { await rx.receiver.shutdown(); });

function url(t: Transport, path: string): string {
  return t === 'grpc' ? rx.grpcUrl : `${rx.httpUrl}${path}`;
}

async function send<T>(make: (t: Transport) => Exporter<T>, t: Transport, items: T): Promise<Batch> {
  const before = rx.ctx.received.length;
  const exporter = make(t);
  const result = await exportWith(exporter, items);
  await exporter.shutdown();
  expect(result.error?.message, `${t} export failed`).toBeUndefined();
  expect(result.code).toBe(ExportResultCode.SUCCESS);
  expect(rx.ctx.received.length).toBe(before + 1);
  const batch = rx.ctx.received[before];
  expect(batch.origin).toEqual({ receiver: 'otlp/test', transport: t === 'grpc' ? 'grpc' : 'http' });
  return batch;
}

describe.each(TRANSPORTS)('official exporter over %s', (t) => {
  test('traces arrive intact', async () => {
    const spans = makeSpans();
    const make = (tr: Transport) => tr === 'grpc' ? new TraceGrpc({ url: url(tr, '') }) : tr === 'http/json' ? new TraceJson({ url: url(tr, '/v1/traces') }) : new TraceProto({ url: url(tr, '/v1/traces') });
    const batch = await send(make, t, spans);
    expect(batch.resourceMetrics).toEqual([]);
    const [rs] = batch.resourceSpans;
    expect(rs.resource).toMatchObject({ 'service.name': 'exporter-test', 'team.id': 'platform', 'n.int': 7, 'n.list': ['a', 'b'] });
    const scope = rs.scopeSpans[0];
    expect(scope.scope).toMatchObject({ name: 'tokenledger-test', version: '1.2.3' });
    const got = scope.spans.find((s) => s.name === 'litellm_request')!;
    const sent = spans.find((s) => s.name === 'litellm_request')!;
    expect(got.traceId).toBe(sent.spanContext().traceId);
    expect(got.spanId).toBe(sent.spanContext().spanId);
    expect(got.parentSpanId).toBe('');
    expect(got.attributes).toEqual({ 'gen_ai.request.model': 'claude-sonnet-4-5', 'gen_ai.usage.input_tokens': 25, 'llm.is_streaming': true, 'x.ratio': 0.5 });
    expect(got.status).toEqual({ code: 2, message: 'boom' });
    expect(got.kind).toBe(1);
    const [sec, ns] = sent.startTime;
    expect(got.startTimeUnixNano).toBe((BigInt(sec) * 1_000_000_000n + BigInt(ns)).toString());
    expect(got.events).toEqual([{ name: 'first_token', timeUnixNano: expect.stringMatching(/^\d{19}$/), attributes: { 'ttft.ms': 120 } }]);
    const transport = t === 'grpc' ? 'grpc' : 'http';
    expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_accepted_items_total', { transport, signal: 'traces' })).toBeGreaterThanOrEqual(2);
    const text = await rx.ctx.registry.metrics();
    expect(text).toMatch(new RegExp(`tokenledger_receiver_request_size_bytes_count\\{receiver="otlp/test",transport="${transport}",signal="traces"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`tokenledger_receiver_request_duration_seconds_count\\{receiver="otlp/test",transport="${transport}",signal="traces"\\} [1-9]`));
  });

  test('metrics arrive intact', async () => {
    const metrics = await makeMetrics();
    const make = (tr: Transport) => tr === 'grpc' ? new MetricsGrpc({ url: url(tr, '') }) : tr === 'http/json' ? new MetricsJson({ url: url(tr, '/v1/metrics') }) : new MetricsProto({ url: url(tr, '/v1/metrics') });
    const batch = await send(make, t, metrics);
    const [rm] = batch.resourceMetrics;
    expect(rm.scopeMetrics[0].scope).toMatchObject({ name: 'com.anthropic.claude_code', version: '2.1.330' });
    const byName = new Map(rm.scopeMetrics[0].metrics.map((m) => [m.name, m]));
    expect(byName.get('claude_code.token.usage')).toMatchObject({
      unit: 'tokens',
      sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ value: 9800, attributes: { type: 'cacheRead', model: 'claude-sonnet-4-5' } }] },
    });
    expect(byName.get('claude_code.cost.usage')!.sum!.dataPoints[0].value).toBe(0.008145);
    expect(byName.get('latency')!.histogram).toMatchObject({ aggregationTemporality: 1, dataPoints: [{ count: 1, sum: 42 }] });
    const h = byName.get('latency')!.histogram!.dataPoints[0];
    expect(h.bucketCounts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(h.explicitBounds.length + 1).toBe(h.bucketCounts.length);
    expect(byName.get('temperature')!.gauge!.dataPoints[0].value).toBe(-3);
  });

  test('logs arrive intact', async () => {
    const logs = makeLogs();
    const make = (tr: Transport) => tr === 'grpc' ? new LogsGrpc({ url: url(tr, '') }) : tr === 'http/json' ? new LogsJson({ url: url(tr, '/v1/logs') }) : new LogsProto({ url: url(tr, '/v1/logs') });
    const batch = await send(make, t, logs);
    const records = batch.resourceLogs[0].scopeLogs[0].logRecords;
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      eventName: 'claude_code.api_request', body: 'claude_code.api_request', severityNumber: 9, severityText: 'INFO',
      attributes: { input_tokens: 25, cost_usd: 0.008145, nested: { a: [1, 'x', true] } },
      timeUnixNano: '1795410618316000000', traceId: '', spanId: '',
    });
    expect(records[1].body).toEqual({ kv: 'structured' });
  });
});

test('gzip-compressed requests over gRPC and HTTP', async () => {
  for (const exporter of [new TraceGrpc({ url: rx.grpcUrl, compression: CompressionAlgorithm.GZIP }), new TraceProto({ url: `${rx.httpUrl}/v1/traces`, compression: CompressionAlgorithm.GZIP })]) {
    const before = rx.ctx.received.length;
    const result = await exportWith(exporter, makeSpans());
    await exporter.shutdown();
    expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
    expect(rx.ctx.received[before].resourceSpans[0].scopeSpans[0].spans).toHaveLength(2);
  }
});
