import { connect } from 'node:http2';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RetryableError, PermanentError } from '../../../core/errors.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { metricValue } from '../../helpers/context.js';
import { grpcExport, post, startReceiver, type Started } from './helpers.js';

/** Every refusal, with its status and message, on both transports. */

const SPAN = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' };
const TRACES_JSON = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [SPAN] }] }] });
const TRACES_PB = messages.traceRequest.encode({
  resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.from(SPAN.traceId, 'hex'), spanId: Buffer.from(SPAN.spanId, 'hex'), name: 'x' }] }] }],
}).finish();
const JSON_CT = { 'content-type': 'application/json' };
const PB_CT = { 'content-type': 'application/x-protobuf' };

/** The consumer's behaviour for the next request. */
let next: () => Promise<void> = async () => {};
let rx: Started;
beforeAll(async () => {
  rx = await startReceiver({ http: { max_request_body_size_mib: 0.01 }, grpc: { max_recv_msg_size_mib: 0.01 } }, () => next());
});
afterAll(async () => { await rx.receiver.shutdown(); });

const jsonOf = (b: Buffer) => JSON.parse(b.toString()) as { code: number; message: string; details: unknown[] };

describe('HTTP', () => {
  test('unknown path: 404 with a google.rpc.Status naming the valid paths', async () => {
    const r = await post(`${rx.httpUrl}/v1/spans`, TRACES_JSON, JSON_CT);
    expect(r.status).toBe(404);
    expect(jsonOf(r.body)).toEqual({ code: 5, message: 'no OTLP endpoint at /v1/spans; POST to /v1/traces, /v1/metrics, /v1/logs', details: [] });
  });

  test('wrong method: 405 with Allow: POST', async () => {
    const r = await post(`${rx.httpUrl}/v1/traces`, '', JSON_CT, { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect(jsonOf(r.body).message).toBe('GET not allowed on /v1/traces; use POST');
  });

  test('wrong content type: 415', async () => {
    const r = await post(`${rx.httpUrl}/v1/traces`, TRACES_JSON, { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(jsonOf(r.body).message).toBe('unsupported Content-Type "text/plain"; use application/x-protobuf or application/json');
  });

  test('unknown content encoding: 415', async () => {
    const r = await post(`${rx.httpUrl}/v1/traces`, TRACES_JSON, { ...JSON_CT, 'content-encoding': 'br' });
    expect(r.status).toBe(415);
    expect(jsonOf(r.body).message).toBe('unsupported Content-Encoding "br"; use gzip, deflate or none');
  });

  test('body over the limit: 413, declared or chunked, and a gzip bomb', async () => {
    const big = JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(20_000) });
    for (const chunked of [false, true]) {
      const r = await post(`${rx.httpUrl}/v1/traces`, big, JSON_CT, { chunked });
      expect(r.status).toBe(413);
      expect(jsonOf(r.body).message).toBe('request body exceeds 10485 bytes');
    }
    const bomb = gzipSync(Buffer.from(big));
    expect(bomb.length).toBeLessThan(10485);
    const r = await post(`${rx.httpUrl}/v1/traces`, bomb, { ...JSON_CT, 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
  });

  test('undecodable bodies: 400 with the reason, in the request encoding', async () => {
    let r = await post(`${rx.httpUrl}/v1/traces`, '{"resourceSpans": [', JSON_CT);
    expect(r.status).toBe(400);
    expect(jsonOf(r.body).message).toMatch(/^invalid JSON: /);
    r = await post(`${rx.httpUrl}/v1/traces`, JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz' }] }] }] }), JSON_CT);
    expect(jsonOf(r.body)).toEqual({ code: 3, message: 'span.traceId must be 32 hex characters, got "zz"', details: [] });
    r = await post(`${rx.httpUrl}/v1/traces`, Buffer.from([0x0a, 0x05, 0x01]), PB_CT);
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    const status = messages.status.decode(r.body).toJSON();
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^invalid protobuf ExportTraceServiceRequest: index out of range/);
    r = await post(`${rx.httpUrl}/v1/traces`, 'not gzip', { ...JSON_CT, 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(jsonOf(r.body).message).toMatch(/^invalid gzip body: /);
  });

  test('pipeline refusals: retryable → 503 with Retry-After; permanent → 400; a failure → 503', async () => {
    next = async () => { throw new RetryableError('queue full', 7); };
    let r = await post(`${rx.httpUrl}/v1/traces`, TRACES_JSON, JSON_CT);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('7');
    expect(jsonOf(r.body)).toEqual({ code: 14, message: 'pipeline cannot take the data now, retry later: queue full', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] });
    next = async () => { throw new PermanentError('rejected by ClickHouse'); };
    r = await post(`${rx.httpUrl}/v1/traces`, TRACES_PB, PB_CT);
    expect(r.status).toBe(400);
    expect(messages.status.decode(r.body).toJSON()).toEqual({ code: 3, message: 'pipeline rejected the data: rejected by ClickHouse' });
    next = async () => { throw new Error('bug'); };
    r = await post(`${rx.httpUrl}/v1/traces`, TRACES_JSON, JSON_CT);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(jsonOf(r.body).message).toBe('pipeline failed, retry later: bug');
    next = async () => {};
    expect(await metricValue(rx.ctx.registry, 'tokenledger_receiver_refused_items_total', { transport: 'http', signal: 'traces', reason: 'pipeline_retryable' })).toBe(1);
    expect(rx.ctx.logs.some((l) => l.msg === 'request refused: pipeline failed')).toBe(true);
  });

  test('unsupported metric types: partial success naming them', async () => {
    const body = JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [
      { name: 'ok', sum: { dataPoints: [{ asInt: '3' }], aggregationTemporality: 1, isMonotonic: true } },
      { name: 'eh', exponentialHistogram: { dataPoints: [{}, {}] } },
      { name: 'sm', summary: { dataPoints: [{}] } },
    ] }] }] });
    const before = rx.ctx.received.length;
    const r = await post(`${rx.httpUrl}/v1/metrics`, body, JSON_CT);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ partialSuccess: { rejectedDataPoints: '3', errorMessage: 'unsupported metric type: 3 data points rejected, of "eh" (exponential histogram), "sm" (summary)' } });
    expect(rx.ctx.received[before].resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name)).toEqual(['ok']);
  });
});

describe('gRPC', () => {
  test('undecodable message: INVALID_ARGUMENT with the reason', async () => {
    const r = await grpcExport(rx.grpcTarget, 'logs', Buffer.from([0x0a, 0xff]));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(3);
    expect(r.error.details).toMatch(/^invalid protobuf ExportLogsServiceRequest: /);
  });

  test('message over max_recv_msg_size_mib: RESOURCE_EXHAUSTED', async () => {
    const r = await grpcExport(rx.grpcTarget, 'traces', Buffer.alloc(20_000));
    expect(r.ok || r.error.code).toBe(8);
  });

  test('retryable pipeline refusal: UNAVAILABLE with RetryInfo in grpc-status-details-bin', async () => {
    next = async () => { throw new RetryableError('queue full', 3); };
    const r = await grpcExport(rx.grpcTarget, 'traces', TRACES_PB);
    next = async () => {};
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(14);
    expect(r.error.details).toBe('pipeline cannot take the data now, retry later: queue full');
    const [bin] = r.error.metadata.get('grpc-status-details-bin') as Buffer[];
    const status = messages.status.decode(bin) as unknown as { code: number; details: { typeUrl: string; value: Uint8Array }[] };
    expect(status.code).toBe(14);
    expect(status.details[0].typeUrl).toBe('type.googleapis.com/google.rpc.RetryInfo');
    expect(messages.retryInfo.decode(status.details[0].value).toJSON()).toEqual({ retryDelay: { seconds: '3' } });
  });

  test('a gzip-compressed message (grpc-encoding: gzip, compressed-flag frame) is decompressed', async () => {
    const session = connect(rx.grpcUrl);
    const payload = gzipSync(TRACES_PB);
    const frame = Buffer.concat([Buffer.from([1]), Buffer.alloc(4), payload]);
    frame.writeUInt32BE(payload.length, 1);
    const stream = session.request({
      ':method': 'POST', ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip', 'grpc-accept-encoding': 'identity,gzip',
    });
    const before = rx.ctx.received.length;
    const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      stream.on('trailers', (t) => resolve(t));
      stream.on('error', reject);
      stream.resume();
      stream.end(frame);
    });
    session.close();
    expect(trailers['grpc-status']).toBe('0');
    expect(rx.ctx.received[before].resourceSpans[0].scopeSpans[0].spans[0].traceId).toBe(SPAN.traceId);
  });

  test('success answers an empty Export response', async () => {
    const r = await grpcExport(rx.grpcTarget, 'traces', TRACES_PB, {}, { gzip: true });
    expect(r).toEqual({ ok: true, body: Buffer.alloc(0) });
  });
});

describe('auth', () => {
  let secured: Started;
  beforeAll(async () => {
    secured = await startReceiver({ auth: { bearer_tokens: ['t1'], bearer_tokens_env: 'OTLP_TOKENS' } }, undefined, { OTLP_TOKENS: 't2, t3' });
  });
  afterAll(async () => { await secured.receiver.shutdown(); });

  test('HTTP: 401 without or with a wrong token; every configured token works', async () => {
    expect((await post(`${secured.httpUrl}/v1/traces`, TRACES_JSON, JSON_CT)).status).toBe(401);
    expect((await post(`${secured.httpUrl}/v1/traces`, TRACES_JSON, { ...JSON_CT, authorization: 'Bearer t4' })).status).toBe(401);
    for (const t of ['t1', 't2', 't3']) expect((await post(`${secured.httpUrl}/v1/traces`, TRACES_JSON, { ...JSON_CT, authorization: `Bearer ${t}` })).status).toBe(200);
  });

  test('gRPC: UNAUTHENTICATED without a token, OK with one', async () => {
    const r = await grpcExport(secured.grpcTarget, 'traces', TRACES_PB);
    expect(!r.ok && r.error.code).toBe(16);
    expect((await grpcExport(secured.grpcTarget, 'traces', TRACES_PB, { authorization: 'Bearer t3' })).ok).toBe(true);
  });

  test('a token variable that is named but empty stops the start', async () => {
    await expect(startReceiver({ auth: { bearer_tokens: [], bearer_tokens_env: 'MISSING' } })).rejects.toThrow('auth.bearer_tokens_env names MISSING, which is unset or empty: refusing to start without the tokens');
  });
});
