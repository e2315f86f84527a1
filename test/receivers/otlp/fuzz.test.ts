import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { grpcExport, post, startReceiver, type Started } from './helpers.js';

/**
 * Random, truncated and corrupted bodies thrown at both transports: every one is answered — 200
 * when the bytes happen to be a valid request, 4xx / INVALID_ARGUMENT otherwise — and the
 * receiver keeps serving valid requests afterwards.
 */

const SIGNALS = ['traces', 'metrics', 'logs'] as const;
const PATHS = { traces: '/v1/traces', metrics: '/v1/metrics', logs: '/v1/logs' } as const;

const VALID_JSON = Buffer.from(JSON.stringify({
  resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] }, scopeSpans: [{ scope: { name: 's' }, spans: [
    { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'n', startTimeUnixNano: '1795410618316000000', attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ intValue: '1' }] } } }] } } }] },
  ] }] }],
}));
const VALID_PB = messages.traceRequest.encode({
  resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] }, scopeSpans: [{ spans: [
    { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'n', startTimeUnixNano: 5, attributes: [{ key: 'k', value: { arrayValue: { values: [{ intValue: 1 }, { bytesValue: Buffer.from([1]) }] } } }] },
  ] }] }],
}).finish();

/** A body: random bytes, a truncated or bit-flipped valid request, random JSON, any of them gzipped or not. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.nat({ max: VALID_PB.length }).map((n) => VALID_PB.subarray(0, n)),
  fc.nat({ max: VALID_JSON.length }).map((n) => VALID_JSON.subarray(0, n)),
  fc.tuple(fc.nat({ max: VALID_PB.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => { const b = Buffer.from(VALID_PB); b[i] ^= x; return b; }),
  fc.json().map((j) => Buffer.from(j)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [v] }] }], resourceMetrics: [{ scopeMetrics: [{ metrics: [v] }] }], resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: v, attributes: [v] }] }] }] }))),
);

const request = fc.record({
  signal: fc.constantFrom(...SIGNALS),
  body,
  json: fc.boolean(),
  gzip: fc.constantFrom('none', 'gzip', 'gzip-truncated', 'claims-gzip'),
});

let rx: Started;
beforeAll(async () => { rx = await startReceiver(); });
afterAll(async () => { await rx.receiver.shutdown(); });

async function stillServes(): Promise<void> {
  expect((await post(`${rx.httpUrl}/v1/traces`, VALID_JSON, { 'content-type': 'application/json' })).status).toBe(200);
  expect((await grpcExport(rx.grpcTarget, 'traces', VALID_PB)).ok).toBe(true);
}

test('HTTP answers 200 or 400 to anything', async () => {
  await fc.assert(fc.asyncProperty(request, async ({ signal, body: b, json, gzip }) => {
    let wire: Uint8Array = b;
    const headers: Record<string, string> = { 'content-type': json ? 'application/json' : 'application/x-protobuf' };
    if (gzip !== 'none') headers['content-encoding'] = 'gzip';
    if (gzip === 'gzip') wire = gzipSync(b);
    if (gzip === 'gzip-truncated') { const z = gzipSync(b); wire = z.subarray(0, z.length >> 1); }
    const r = await post(`${rx.httpUrl}${PATHS[signal]}`, wire, headers);
    expect([200, 400]).toContain(r.status);
    if (r.status === 400) {
      const status = json ? JSON.parse(r.body.toString()) : messages.status.decode(r.body).toJSON();
      expect(status.code).toBe(3);
      expect(status.message.length).toBeGreaterThan(0);
    }
  }), { numRuns: 300 });
  await stillServes();
}, 60_000);

test('gRPC answers OK or INVALID_ARGUMENT to anything', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(...SIGNALS), body, async (signal, b) => {
    const r = await grpcExport(rx.grpcTarget, signal, b);
    if (!r.ok) {
      expect(r.error.code).toBe(3);
      expect(r.error.details.length).toBeGreaterThan(0);
    }
  }), { numRuns: 200 });
  await stillServes();
}, 60_000);
