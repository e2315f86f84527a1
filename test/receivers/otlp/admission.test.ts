import { afterEach, expect, test } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { metricValue } from '../../helpers/context.js';
import { grpcExport, post, startReceiver, waitFor, type HttpReply, type Started } from './helpers.js';

/**
 * Admission to the pipeline: when it is blocked or slow, requests beyond what it can take in time
 * are answered "retry later" early, instead of waiting past their client's timeout; the slots it
 * has go round-robin across clients.
 */

let rx: Started | undefined;
let releaseAll: (() => void) | undefined;
afterEach(async () => {
  releaseAll?.();
  await rx?.receiver.shutdown();
  rx = undefined;
});

const span = (name: string) => messages.traceRequest.encode({ resourceSpans: [{ scopeSpans: [{ spans: [{ name }] }] }] }).finish();
const names = (b: Batch) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => sp.name)));
const PB = { 'content-type': 'application/x-protobuf' };
/** The message of the google.rpc.Status an error answer to a protobuf request carries. */
const statusMessage = (r: HttpReply): string => (messages.status.decode(r.body) as unknown as { message: string }).message;
const metric = (name: string, labels: Record<string, string>) => metricValue(rx!.ctx.registry, name, labels);

/** A pipeline that holds every batch until released: `entered` in arrival order, `release()` lets the oldest through. */
function gatedPipeline() {
  const entered: string[] = [];
  const gates: (() => void)[] = [];
  let open = false;
  releaseAll = () => { open = true; for (const g of gates.splice(0)) g(); };
  return {
    entered,
    consume: async (b: Batch): Promise<void> => {
      entered.push(...names(b));
      if (!open) await new Promise<void>((r) => gates.push(r));
    },
    release: () => gates.shift()?.(),
  };
}

test('a blocked pipeline: requests beyond max_queued_requests are refused at once, queued ones at max_queue_wait, with 503 + Retry-After / UNAVAILABLE', async () => {
  const pipeline = gatedPipeline();
  rx = await startReceiver({ admission: { max_concurrent_requests: 2, max_queued_requests: 2, max_queue_wait: '500ms' } }, pipeline.consume);
  const url = `${rx.httpUrl}/v1/traces`;
  const active = [post(url, span('a'), PB), post(url, span('b'), PB)];
  await waitFor('two requests in the pipeline', () => pipeline.entered.length === 2, 5000);
  const t0 = performance.now();
  const queued = [post(url, span('c'), PB), post(url, span('d'), PB)].map((r) => r.then((reply) => ({ reply, ms: performance.now() - t0 })));
  await waitFor('two requests queued', async () => (await metric('tokenledger_receiver_queued_requests', {})) === 2, 5000);
  const full = await post(url, span('e'), PB);
  expect(full.status).toBe(503);
  expect(full.headers['retry-after']).toBe('5');
  expect(statusMessage(full)).toBe('too many requests waiting for the pipeline, retry later');
  const fullGrpc = await grpcExport(rx.grpcTarget, 'traces', span('f'));
  expect(!fullGrpc.ok && fullGrpc.error.code).toBe(14);

  for (const { reply, ms } of await Promise.all(queued)) {
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('5');
    expect(statusMessage(reply)).toBe('request not admitted to the pipeline within 500 ms, retry later');
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(5000); // answered early: well before any client timeout
  }
  const lateGrpc = await grpcExport(rx.grpcTarget, 'traces', span('g'));
  expect(!lateGrpc.ok && lateGrpc.error.code).toBe(14);
  expect(!lateGrpc.ok && lateGrpc.error.details).toBe('request not admitted to the pipeline within 500 ms, retry later');

  releaseAll!();
  expect((await Promise.all(active)).map((r: HttpReply) => r.status)).toEqual([200, 200]);
  expect(pipeline.entered).toEqual(['a', 'b']); // nothing refused reached the pipeline
  expect(await metric('tokenledger_receiver_refused_requests_total', { transport: 'http', reason: 'queue_full' })).toBe(1);
  expect(await metric('tokenledger_receiver_refused_requests_total', { transport: 'grpc', reason: 'queue_full' })).toBe(1);
  expect(await metric('tokenledger_receiver_refused_requests_total', { transport: 'http', reason: 'queue_timeout' })).toBe(2);
  expect(await metric('tokenledger_receiver_refused_requests_total', { transport: 'grpc', reason: 'queue_timeout' })).toBe(1);
  expect(await metric('tokenledger_receiver_queued_requests', {})).toBe(0);
  expect(await metric('tokenledger_receiver_in_flight_bytes', {})).toBe(0);
  const warned = rx.ctx.logs.filter((l) => l.level === 'warn' && (l.reason === 'queue_full' || l.reason === 'queue_timeout'));
  expect(warned.map((l) => l.reason).sort()).toEqual(['queue_full', 'queue_timeout']); // one line per reason, not per refusal
}, 30_000);

test('free slots go round-robin across clients: one client with many requests waiting delays another by one request, not all of them', async () => {
  const pipeline = gatedPipeline();
  rx = await startReceiver({ admission: { max_concurrent_requests: 1, max_queued_requests: 10, max_queue_wait: '20s' } }, pipeline.consume);
  const url = `${rx.httpUrl}/v1/traces`;
  const replies: Promise<HttpReply>[] = [post(url, span('x1'), PB, { localAddress: '127.0.0.2' })];
  await waitFor('x1 in the pipeline', () => pipeline.entered.length === 1, 5000);
  for (const n of ['x2', 'x3', 'x4']) {
    replies.push(post(url, span(n), PB, { localAddress: '127.0.0.2' }));
    await waitFor(`${n} queued`, async () => (await metric('tokenledger_receiver_queued_requests', {})) === replies.length - 1, 5000);
  }
  replies.push(post(url, span('y1'), PB, { localAddress: '127.0.0.1' }));
  await waitFor('y1 queued', async () => (await metric('tokenledger_receiver_queued_requests', {})) === 4, 5000);
  for (let k = 2; k <= 5; k++) {
    pipeline.release();
    await waitFor(`request ${k} admitted`, () => pipeline.entered.length === k, 5000);
  }
  pipeline.release();
  expect((await Promise.all(replies)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  expect(pipeline.entered).toEqual(['x1', 'x2', 'y1', 'x3', 'x4']); // FIFO would have made y1 last
}, 30_000);

test('per_client.max_requests: a client over it is refused 503, another client is still admitted', async () => {
  const pipeline = gatedPipeline();
  rx = await startReceiver({ per_client: { max_in_flight_mib: 32, max_requests: 2, max_connections: 256 } }, pipeline.consume);
  const url = `${rx.httpUrl}/v1/traces`;
  const open = [post(url, span('x1'), PB, { localAddress: '127.0.0.2' }), post(url, span('x2'), PB, { localAddress: '127.0.0.2' })];
  await waitFor('x1 and x2 in the pipeline', () => pipeline.entered.length === 2, 5000);
  const over = await post(url, span('x3'), PB, { localAddress: '127.0.0.2' });
  expect(over.status).toBe(503);
  expect(over.headers['retry-after']).toBe('5');
  expect(statusMessage(over)).toBe('this client has 2 requests open, retry later');
  const other = post(url, span('y1'), PB, { localAddress: '127.0.0.1' });
  await waitFor('y1 in the pipeline', () => pipeline.entered.includes('y1'), 5000);
  releaseAll!();
  expect([...(await Promise.all(open)), await other].map((r) => r.status)).toEqual([200, 200, 200]);
  expect(await metric('tokenledger_receiver_refused_requests_total', { transport: 'http', reason: 'client_request_limit' })).toBe(1);
}, 30_000);

test('a gRPC call waits for admission no longer than its deadline, and is not processed once its client gave up', async () => {
  const pipeline = gatedPipeline();
  rx = await startReceiver({ admission: { max_concurrent_requests: 1, max_queued_requests: 10, max_queue_wait: '20s' } }, pipeline.consume);
  const first = grpcExport(rx.grpcTarget, 'traces', span('first'));
  await waitFor('first in the pipeline', () => pipeline.entered.length === 1, 5000);
  const t0 = performance.now();
  const short = await grpcExport(rx.grpcTarget, 'traces', span('short'), {}, { deadlineMs: 300 });
  // At the deadline, not after max_queue_wait: the client's own DEADLINE_EXCEEDED, or the receiver's
  // UNAVAILABLE when it gives up on the call first (a race between the two timers on a busy machine).
  expect(!short.ok && [4, 14].includes(short.error.code)).toBe(true);
  expect(performance.now() - t0).toBeLessThan(5000);
  await waitFor('the receiver gave up on it too', async () => (await metric('tokenledger_receiver_queued_requests', {})) === 0, 5000);
  releaseAll!();
  expect((await first).ok).toBe(true);
  expect(pipeline.entered).toEqual(['first']);
}, 30_000);
