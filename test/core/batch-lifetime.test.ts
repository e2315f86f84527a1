import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { emptyBatch, type Batch } from '../../core/batch.js';
import { emptyCall } from '../../core/llm-call.js';
import { Service } from '../../core/service.js';
import type { Span } from '../../core/telemetry.js';
import { collected } from '../helpers/gc.js';
import { exported, fakeFactories, pushed, setGate } from './fake-components.js';

/**
 * A pipeline must not hold the decoded telemetry while it waits for its exporters (a disk queue's
 * fsync): held that long it is promoted to V8's old generation and costs a major collection.
 */

let service: Service | undefined;
afterEach(async () => {
  setGate(undefined);
  await service?.stop();
  service = undefined;
  exported.clear();
});

const span = (i: number): Span => ({
  traceId: 'a'.repeat(32), spanId: i.toString(16).padStart(16, '0'), parentSpanId: '', name: 'litellm_request', kind: 1,
  startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: { 'gen_ai.request.model': 'claude-sonnet-4-5' }, events: [], status: { code: 0, message: '' },
});

/** A batch of 100 spans and one record; `ref` is all that is kept of the spans. */
function decodedBatch(): { batch: Batch; ref: WeakRef<object> } {
  const resourceSpans = [{ resource: {}, scopeSpans: [{ scope: { name: 'litellm', version: '', attributes: {} }, spans: Array.from({ length: 100 }, (_, i) => span(i)) }] }];
  return { batch: { ...emptyBatch({ receiver: 'push', transport: 'test' }), resourceSpans, calls: [{ ...emptyCall(), call_id: 'k1' }] }, ref: new WeakRef(resourceSpans) };
}

/** The shipped pipeline's shape: `records` (reads telemetry into records) → exporters. */
async function start(exporters: string[]): Promise<Service> {
  const path = join(mkdtempSync(join(tmpdir(), 'tl-lifetime-')), 'pipeline.yaml');
  writeFileSync(path, `receivers:
  push:
processors:
  records:
exporters:
${exporters.map((e) => `  ${e}:\n`).join('')}service:
  pipelines:
    p:
      receivers: [push]
      processors: [records]
      exporters: [${exporters.join(', ')}]
  telemetry:
    logs: { level: error }
    admin: { endpoint: 127.0.0.1:0 }
  shutdown_timeout: 2s
`);
  service = new Service(path, fakeFactories);
  await service.start();
  return service;
}

test('when no exporter reads telemetry, what a processor turned into records is garbage while the exporters still have to acknowledge', async () => {
  await start(['memory']);
  let open!: () => void;
  setGate(new Promise<void>((resolve) => { open = resolve; }));
  const sent = ((): { acked: Promise<void>; ref: WeakRef<object> } => {
    const { batch, ref } = decodedBatch();
    return { acked: pushed.get('push')!.next.consume(batch), ref };
  })();
  expect(await collected(sent.ref), 'the spans are still reachable while the exporter waits').toBe(true);
  open();
  await sent.acked;
  expect(exported.get('memory')!.flatMap((b) => b.calls.map((c) => c.call_id))).toEqual(['k1']);
});

test('an exporter that reads telemetry (it declares nothing) gets it after the processor, beside one that does not', async () => {
  await start(['memory', 'spans']);
  await pushed.get('push')!.next.consume(decodedBatch().batch);
  const seen = (id: string) => exported.get(id)!.map((b) => [b.calls.length, b.resourceSpans.length]);
  expect([seen('memory'), seen('spans')]).toEqual([[[1, 1]], [[1, 1]]]);
});
