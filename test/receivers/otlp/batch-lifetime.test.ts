import { afterEach, expect, test } from 'vitest';
import { collected } from '../../helpers/gc.js';
import { sampleTraceRequest } from '../../helpers/sample-trace-request.js';
import { grpcExport, post, startReceiver, waitFor, type Started } from './helpers.js';

let rx: Started | undefined;
afterEach(async () => {
  await rx?.receiver.shutdown();
  rx = undefined;
});

/**
 * The receiver must not hold what it decoded while the pipeline acknowledges (a disk queue's
 * fsync): held that long it is promoted to V8's old generation and costs a major collection.
 */
test.each(['http', 'grpc'] as const)('over %s, the decoded request is garbage while the pipeline has yet to acknowledge it', async (transport) => {
  let ref: WeakRef<object> | undefined;
  let open!: () => void;
  const acknowledged = new Promise<void>((resolve) => { open = resolve; });
  // The pipeline keeps what it needs (here nothing) and answers later.
  rx = await startReceiver({}, (batch) => {
    ref = new WeakRef(batch.resourceSpans);
    rx!.ctx.received.length = 0;
    return acknowledged;
  });
  const body = sampleTraceRequest(100).protobuf;
  const reply = transport === 'http'
    ? post(`${rx.httpUrl}/v1/traces`, body, { 'content-type': 'application/x-protobuf' }).then((r) => r.status === 200)
    : grpcExport(rx.grpcTarget, 'traces', body).then((r) => r.ok);
  await waitFor('the pipeline to be handed the batch', () => ref !== undefined, 5_000);
  expect(await collected(ref!), 'the decoded spans are still reachable').toBe(true);
  open();
  expect(await reply).toBe(true);
});
