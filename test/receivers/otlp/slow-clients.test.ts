import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { metricValue } from '../../helpers/context.js';
import { post, rawClient, rawHead, sleep, startReceiver, waitFor, type RawClient, type Started } from './helpers.js';

/**
 * Slow and stalled clients cannot lock others out (issue 14 §1). Attackers connect from other
 * loopback addresses (127.0.0.2 and up: distinct clients to the receiver); the well-behaved clients
 * are the official OTel JS exporters on 127.0.0.1.
 */

const MIB = 1024 * 1024;
let rx: Started | undefined;
let sockets: RawClient[] = [];
afterEach(async () => {
  for (const s of sockets) s.socket.destroy();
  sockets = [];
  await rx?.receiver.shutdown();
  rx = undefined;
});

const port = (url: string): number => Number(new URL(url).port);
const inFlight = () => metricValue(rx!.ctx.registry, 'tokenledger_receiver_in_flight_bytes', { receiver: 'otlp/test' });
const refused = (reason: string, transport = 'http') => metricValue(rx!.ctx.registry, 'tokenledger_receiver_refused_requests_total', { transport, reason });

/** A 1 KB OTLP/protobuf trace request. */
const smallExport = messages.traceRequest.encode({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'good', attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(1000) } }] }] }] }] }).finish();

/** One span exported by an official exporter: its result and how long the export took. */
async function officialExport(exporter: SpanExporter): Promise<{ code: number; ms: number }> {
  const memory = new InMemorySpanExporter();
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t').startSpan('real').end();
  const t0 = performance.now();
  const result = await new Promise<{ code: number }>((resolve) => exporter.export(memory.getFinishedSpans(), resolve));
  const ms = performance.now() - t0;
  await exporter.shutdown();
  return { code: result.code, ms };
}

/** Opens a POST declaring `declared` bytes and sends `sent` of them, then stalls. */
async function stalledUpload(httpUrl: string, from: string, declared: number, sent: number): Promise<RawClient> {
  const c = await rawClient(port(httpUrl), from);
  sockets.push(c);
  c.socket.write(rawHead(declared));
  c.socket.write(Buffer.alloc(sent, 0x0a));
  return c;
}

test('four stalled 16 MiB uploads (of a declared 20 MiB) from one client: the client share stops two; real exports are answered within a second', async () => {
  rx = await startReceiver();
  const attackers = [];
  for (let i = 0; i < 4; i++) attackers.push(await stalledUpload(rx.httpUrl, '127.0.0.2', 20 * MIB, 16 * MIB));
  // Without a per-client share these four would hold all 64 MiB of the budget.
  await waitFor('two uploads refused for the client share', async () => (await refused('client_in_flight_limit')) === 2, 15_000);
  await waitFor('the two others held', async () => (await inFlight()) === 32 * MIB, 15_000);
  const answered = attackers.filter((a) => a.received().startsWith('HTTP/1.1 503'));
  expect(answered).toHaveLength(2);
  expect(answered[0].received()).toMatch(/Retry-After: 5\r\n/);
  expect(answered[0].received()).toContain('this client has too much data in flight');

  const viaHttp = await officialExport(new TraceProto({ url: `${rx.httpUrl}/v1/traces` }));
  const viaGrpc = await officialExport(new TraceGrpc({ url: rx.grpcUrl }));
  console.log(`with two 16 MiB uploads stalled: official exporter answered in ${viaHttp.ms.toFixed(0)} ms over HTTP, ${viaGrpc.ms.toFixed(0)} ms over gRPC`);
  expect(viaHttp.code).toBe(ExportResultCode.SUCCESS);
  expect(viaGrpc.code).toBe(ExportResultCode.SUCCESS);
  expect(viaHttp.ms).toBeLessThan(1000);
  expect(viaGrpc.ms).toBeLessThan(1000);
  expect(rx.ctx.received.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => sp.name))))).toEqual(['real', 'real']);
}, 30_000);

test('stalled uploads from four clients fill the budget only until body_stall_timeout: then they are answered 503, closed, and their bytes released', async () => {
  rx = await startReceiver({ http: { body_stall_timeout: '1s' } });
  const t0 = performance.now();
  const attackers = [];
  for (let i = 2; i <= 5; i++) attackers.push(await stalledUpload(rx.httpUrl, `127.0.0.${i}`, 20 * MIB, 16 * MIB));
  await waitFor('the budget full', async () => (await inFlight()) === 64 * MIB, 15_000);
  const during = await post(`${rx.httpUrl}/v1/traces`, smallExport, { 'content-type': 'application/x-protobuf' });
  expect(during.status).toBe(503); // the whole budget is held: this is the window the stall timeout bounds
  await waitFor('every stalled upload cut', () => attackers.every((a) => a.closed()), 15_000);
  const cutAfterMs = performance.now() - t0;
  for (const a of attackers) {
    expect(a.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(a.received()).toMatch(/Connection: close\r\n/i);
    expect(a.received()).toContain(`request body stalled: no byte for 1000 ms after ${16 * MIB} bytes`);
  }
  expect(await refused('body_stalled')).toBe(4);
  expect(await inFlight()).toBe(0);
  console.log(`four stalled uploads cut ${cutAfterMs.toFixed(0)} ms after they started (body_stall_timeout 1s)`);
  expect(cutAfterMs).toBeLessThan(10_000);
  expect((await officialExport(new TraceProto({ url: `${rx.httpUrl}/v1/traces` }))).code).toBe(ExportResultCode.SUCCESS);
  const throttled = rx.ctx.logs.filter((l) => l.reason === 'body_stalled');
  expect(throttled.length).toBeGreaterThanOrEqual(1);
  expect(throttled.length).toBeLessThan(4); // one line per reason every 10 s, not one per refusal
}, 30_000);

test('slow headers are cut at read_header_timeout, a trickled body at read_timeout: 408, connection closed, bytes released', async () => {
  rx = await startReceiver({ http: { read_header_timeout: '1s', read_timeout: '2s' } });
  const headers = await rawClient(port(rx.httpUrl), '127.0.0.2');
  const body = await rawClient(port(rx.httpUrl), '127.0.0.3');
  sockets.push(headers, body);
  const head = rawHead(1000);
  body.socket.write(head);
  let i = 0;
  // One byte every 100 ms: never idle long enough for body_stall_timeout (10 s), always too slow for read_timeout.
  const trickle = setInterval(() => {
    if (!headers.closed() && i < head.length) headers.socket.write(head[i++]);
    if (!body.closed()) body.socket.write('x');
  }, 100);
  try {
    await waitFor('both slow clients cut', () => headers.closed() && body.closed(), 15_000);
  } finally {
    clearInterval(trickle);
  }
  expect(headers.received()).toMatch(/^HTTP\/1\.1 408 /);
  expect(body.received()).toMatch(/^HTTP\/1\.1 408 /);
  expect(await refused('request_timeout')).toBe(2);
  await waitFor('the trickled bytes released', async () => (await inFlight()) === 0, 5000);
}, 30_000);

test('connection limits: a connection over per_client.max_connections gets 503 + Retry-After on its request; beyond max_connections new ones are closed at once; other clients are served', async () => {
  rx = await startReceiver({ http: { max_connections: 30 }, per_client: { max_in_flight_mib: 32, max_requests: 128, max_connections: 10 } });
  const greedy = [];
  for (let i = 0; i < 12; i++) greedy.push(await rawClient(port(rx.httpUrl), '127.0.0.2'));
  sockets.push(...greedy);
  for (const c of greedy) c.socket.write(rawHead(0));
  await waitFor('every greedy request answered', () => greedy.every((c) => c.received().includes('\r\n\r\n')), 5000);
  const over = greedy.filter((c) => c.received().startsWith('HTTP/1.1 503'));
  expect(over).toHaveLength(2);
  expect(over[0].received()).toMatch(/Retry-After: 5\r\n/);
  expect(greedy.filter((c) => c.received().startsWith('HTTP/1.1 200'))).toHaveLength(10);
  await waitFor('the two over the limit closed', () => over.every((c) => c.closed()), 5000);
  expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_refused_connections_total', { reason: 'client_connection_limit' })).toBe(2);
  expect(await refused('client_connection_limit')).toBe(2);
  const many = [];
  for (let a = 3; a <= 5; a++) for (let i = 0; i < 8; i++) many.push(await rawClient(port(rx.httpUrl), `127.0.0.${a}`));
  sockets.push(...many);
  // 10 open + 24 asked, 30 allowed: four closed by max_connections.
  await waitFor('four over max_connections closed', () => many.filter((c) => c.closed()).length === 4, 5000);
  expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_refused_connections_total', { reason: 'max_connections' })).toBe(4);
  for (const c of [...greedy, ...many]) c.socket.destroy();
  await sleep(100);
  const ok = await post(`${rx.httpUrl}/v1/traces`, smallExport, { 'content-type': 'application/x-protobuf' });
  expect(ok.status).toBe(200);
}, 30_000);

test('a request refused mid-body is answered, not reset: the rest of the body is read and dropped before the connection closes', async () => {
  rx = await startReceiver({ max_in_flight_mib: 1, per_client: { max_in_flight_mib: 20, max_requests: 128, max_connections: 256 } });
  // Like Python's urllib3 (LiteLLM's exporter): send the whole body, only then read the answer. Had
  // the receiver closed with the body unread, the kernel would reset the connection and drop the answer.
  const answer = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: port(rx!.httpUrl) });
    const chunks: Buffer[] = [];
    socket.pause();
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => resolve(`error: ${err.message}`));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(rawHead(16 * MIB));
    socket.write(Buffer.alloc(16 * MIB, 0x0a), () => socket.resume());
  });
  expect(answer).toMatch(/^HTTP\/1\.1 503 /);
  expect(answer).toMatch(/Retry-After: 5\r\n/);
  expect(answer).toMatch(/Connection: close\r\n/i);
  expect(await refused('in_flight_limit')).toBe(1);
  expect(await inFlight()).toBe(0);
}, 30_000);

/** `n` sequential 1 KB exports from 127.0.0.1 (keep-alive), every one 200; their latencies in ms, sorted. */
async function goodClient(url: string, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await post(`${url}/v1/traces`, smallExport, { 'content-type': 'application/x-protobuf' });
    ms.push(performance.now() - t0);
    expect(r.status).toBe(200);
  }
  return ms.sort((a, b) => a - b);
}

const p = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** The soft limit on open files of this process (both ends of every loopback connection count here). */
function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s{2,}/)[1] ?? Infinity);
}

test('2,000 slow connections from ten clients, trickling headers or bodies: good clients keep their latency', async () => {
  const limit = openFilesLimit();
  if (limit < 4500) throw new Error(`this test holds 2,000 connections, both ends in this process: it needs \`ulimit -n\` of at least 4500 (it is ${limit})`);
  // Timeouts longer than the test, so that all 2,000 stay open while the good client is measured.
  rx = await startReceiver({ http: { read_header_timeout: '60s', read_timeout: '120s', body_stall_timeout: '60s' } });
  const baseline = await goodClient(rx.httpUrl, 200);
  const slow: RawClient[] = [];
  for (let a = 1; a <= 10; a++) {
    const batch = await Promise.all(Array.from({ length: 200 }, () => rawClient(port(rx!.httpUrl), `127.0.1.${a}`)));
    batch.forEach((c, i) => c.socket.write(i % 2 === 0 ? 'POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' : rawHead(MIB)));
    slow.push(...batch);
  }
  sockets.push(...slow);
  // Each slow connection sends one byte a second, spread over the second (100 every 50 ms).
  let next = 0;
  const trickle = setInterval(() => {
    for (let k = 0; k < 100; k++, next = (next + 1) % slow.length) slow[next].socket.write(next % 2 === 0 ? 'a' : 'b');
  }, 50);
  let loaded: number[];
  try {
    await sleep(1000);
    loaded = await goodClient(rx.httpUrl, 300);
    expect(slow.filter((c) => c.closed())).toHaveLength(0); // all 2,000 were held open throughout
  } finally {
    clearInterval(trickle);
  }
  console.log(`slowest: ${loaded.slice(-5).map((v) => v.toFixed(1)).join(", ")}`);
  console.log(`good client, 1 KB exports: p50/p99 ${p(baseline, 0.5).toFixed(1)}/${p(baseline, 0.99).toFixed(1)} ms alone, `
    + `${p(loaded, 0.5).toFixed(1)}/${p(loaded, 0.99).toFixed(1)} ms with 2,000 slow connections open`);
  // The goal is p99 < 100 ms; on a machine shared with other jobs the bound scales with the unloaded baseline.
  expect(p(loaded, 0.99)).toBeLessThan(Math.max(100, 4 * p(baseline, 0.99)));
}, 60_000);

/** An OTLP/gRPC Export call that sends `sent` bytes of a message declared `declared` bytes long, then stalls; resolves to how the stream ended. */
function stalledGrpcCall(grpcUrl: string, declared: number, sent: number): { ended: Promise<string>; close: () => void } {
  const session = http2.connect(grpcUrl);
  session.on('error', () => undefined); // how it ended is read from the stream
  const stream = session.request({ ':method': 'POST', ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export', 'content-type': 'application/grpc', te: 'trailers' });
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(declared, 1);
  stream.write(Buffer.concat([prefix, Buffer.alloc(sent, 0x0a)]));
  const ended = new Promise<string>((resolve) => {
    stream.on('trailers', (t) => resolve(`grpc-status ${String(t['grpc-status'])}`));
    stream.on('close', () => resolve(`closed (rst code ${stream.rstCode})`));
    stream.on('error', (err) => resolve(`error ${err.message}`));
  });
  return { ended, close: () => session.destroy() };
}

test('gRPC: stalled uploads do not hold the in-flight budget (grpc-js buffers a message until it is whole); max_connection_age + grace cuts them', async () => {
  rx = await startReceiver({ grpc: { max_connection_age: '1s', max_connection_age_grace: '1s' } });
  const t0 = performance.now();
  const stalled = Array.from({ length: 4 }, () => stalledGrpcCall(rx!.grpcUrl, 4 * MIB - 10, 3 * MIB));
  try {
    await sleep(300);
    expect(await inFlight()).toBe(0);
    const viaGrpc = await officialExport(new TraceGrpc({ url: rx.grpcUrl }));
    expect(viaGrpc.code).toBe(ExportResultCode.SUCCESS);
    const ends = await Promise.all(stalled.map((s) => s.ended));
    const cutAfterMs = performance.now() - t0;
    console.log(`stalled gRPC uploads ended after ${cutAfterMs.toFixed(0)} ms (max_connection_age 1s + grace 1s): ${ends.join('; ')}`);
    expect(cutAfterMs).toBeLessThan(15_000);
    for (const e of ends) expect(e).not.toBe('grpc-status 0');
  } finally {
    for (const s of stalled) s.close();
  }
}, 30_000);
