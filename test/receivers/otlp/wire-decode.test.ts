import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeExportRequest, type Signal } from '../../../receivers/otlp/codec/codec.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { legacyDecodeProtobuf } from './legacy-decode.js';

/**
 * The one-pass wire decoder (receivers/otlp/codec/from-wire.ts, behind decodeExportRequest) against the
 * former protobufjs decode + conversion (legacy-decode.ts): the same output (deep, and in the same
 * key order), the same partial-success rejections, and the same OtlpDecodeError for every input —
 * real captures, generated requests, and those requests cut, corrupted and padded.
 */

const FIXTURES = new URL('../../fixtures', import.meta.url).pathname;
const REQUEST_TYPES = { traces: messages.traceRequest, metrics: messages.metricsRequest, logs: messages.logsRequest } as const;

type Outcome = { ok: unknown; json: string } | { error: string };

function outcome(decode: () => unknown): Outcome {
  try {
    const ok = decode();
    return { ok, json: JSON.stringify(ok) };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

function expectSame(signal: Signal, body: Buffer): Outcome {
  const now = outcome(() => decodeExportRequest(signal, body, 'protobuf'));
  expect(now).toStrictEqual(outcome(() => legacyDecodeProtobuf(signal, body)));
  return now;
}

function protobufFixtures(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\d{3}-(traces|metrics|logs)\.pb$/.test(f)).map((f) => join(dir, f));
}

describe('captured requests', () => {
  const files = [...protobufFixtures(join(FIXTURES, 'litellm')), ...protobufFixtures(join(FIXTURES, 'claude-code'))];

  test('every protobuf capture (LiteLLM, Claude Code, e2e) decodes as before', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(files.some((f) => f.includes('e2e-captures'))).toBe(true);
    for (const file of files) {
      const signal = /(traces|metrics|logs)\.pb$/.exec(file)![1] as Signal;
      const result = expectSame(signal, readFileSync(file));
      expect(result, file).toHaveProperty('ok');
    }
  });
});

// ---- generated requests, in protobufjs's fromObject form

const int64 = fc.oneof(fc.integer({ min: -1000, max: 1_000_000 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String));
const uint64 = fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String));
const double = fc.double();
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '__proto__', 'gen_ai.usage.input_tokens', 'é✓😀'));
/** Mostly valid ids, sometimes absent, empty or of a wrong length. */
const id = (size: number) => fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ minLength: size, maxLength: size }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** An AnyValue: usually one member, sometimes none or several (the decoders' oneof precedence). */
const { anyValue } = fc.letrec<{ anyValue: object; kv: object }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ stringValue: text }),
    fc.record({ intValue: int64 }),
    fc.record({ boolValue: fc.boolean() }),
    fc.record({ doubleValue: double }),
    fc.record({ bytesValue: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ arrayValue: fc.record({ values: fc.array(tie('anyValue'), { maxLength: 3 }) }) }),
    fc.record({ kvlistValue: fc.record({ values: fc.array(tie('kv'), { maxLength: 3 }) }) }),
    fc.constant({}),
    fc.record({
      stringValue: opt(text), intValue: opt(int64), boolValue: opt(fc.boolean()), doubleValue: opt(double),
      bytesValue: opt(fc.uint8Array({ maxLength: 4 })), kvlistValue: opt(fc.constant({ values: [] })), arrayValue: opt(fc.constant({ values: [] })),
    }, { requiredKeys: [] }),
  ),
  kv: fc.record({ key: text, value: opt(tie('anyValue')) }, { requiredKeys: [] }),
}));
const kv = fc.record({ key: text, value: opt(anyValue) }, { requiredKeys: [] });
const attributes = fc.array(kv, { maxLength: 4 });
const resource = opt(fc.record({ attributes }, { requiredKeys: [] }));
const scope = opt(fc.record({ name: text, version: text, attributes }, { requiredKeys: [] }));

const span = fc.record({
  traceId: id(16), spanId: id(8), parentSpanId: id(8), name: text, kind: fc.integer({ min: -1, max: 6 }),
  startTimeUnixNano: uint64, endTimeUnixNano: uint64, attributes,
  events: fc.array(fc.record({ timeUnixNano: uint64, name: text, attributes }, { requiredKeys: [] }), { maxLength: 2 }),
  status: opt(fc.record({ code: fc.integer({ min: 0, max: 2 }), message: text }, { requiredKeys: [] })),
}, { requiredKeys: [] });
const traceRequest = fc.record({
  resourceSpans: fc.array(fc.record({ resource, scopeSpans: fc.array(fc.record({ scope, spans: fc.array(span, { maxLength: 3 }) }), { maxLength: 2 }) }), { maxLength: 2 }),
});

const numberPoint = fc.record({
  attributes, startTimeUnixNano: uint64, timeUnixNano: uint64, asDouble: opt(double), asInt: opt(int64),
}, { requiredKeys: [] });
const histogramPoint = fc.record({
  attributes, startTimeUnixNano: uint64, timeUnixNano: uint64, count: uint64, sum: opt(double),
  bucketCounts: fc.array(uint64, { maxLength: 4 }), explicitBounds: fc.array(double, { maxLength: 3 }),
}, { requiredKeys: [] });
const points = <T>(p: fc.Arbitrary<T>) => fc.array(p, { maxLength: 3 });
const metric = fc.record({
  name: text, description: text, unit: text,
  gauge: opt(fc.record({ dataPoints: points(numberPoint) })),
  sum: opt(fc.record({ dataPoints: points(numberPoint), aggregationTemporality: fc.integer({ min: 0, max: 2 }), isMonotonic: fc.boolean() })),
  histogram: opt(fc.record({ dataPoints: points(histogramPoint), aggregationTemporality: fc.integer({ min: 0, max: 2 }) })),
  exponentialHistogram: opt(fc.record({ dataPoints: points(fc.constant({})) })),
  summary: opt(fc.record({ dataPoints: points(fc.constant({})) })),
}, { requiredKeys: [] });
const metricsRequest = fc.record({
  resourceMetrics: fc.array(fc.record({ resource, scopeMetrics: fc.array(fc.record({ scope, metrics: fc.array(metric, { maxLength: 7 }) }), { maxLength: 2 }) }), { maxLength: 2 }),
});

const logRecord = fc.record({
  timeUnixNano: uint64, observedTimeUnixNano: uint64, severityNumber: fc.integer({ min: 0, max: 24 }), severityText: text,
  body: opt(anyValue), attributes, traceId: id(16), spanId: id(8), eventName: text,
}, { requiredKeys: [] });
const logsRequest = fc.record({
  resourceLogs: fc.array(fc.record({ resource, scopeLogs: fc.array(fc.record({ scope, logRecords: fc.array(logRecord, { maxLength: 3 }) }), { maxLength: 2 }) }), { maxLength: 2 }),
});

const REQUESTS = { traces: traceRequest, metrics: metricsRequest, logs: logsRequest } as const;

function encoded(signal: Signal, request: object): Buffer {
  const type = REQUEST_TYPES[signal];
  return Buffer.from(type.encode(type.fromObject(request)).finish());
}

/** A generated request of any signal, encoded. */
const anyRequest = fc.constantFrom<Signal>('traces', 'metrics', 'logs').chain((signal) => REQUESTS[signal].map((req) => ({ signal, body: encoded(signal, req) })));

describe('generated requests', () => {
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    test(`${signal}: the same output, rejections and errors`, () => {
      fc.assert(fc.property(REQUESTS[signal], (req) => { expectSame(signal, encoded(signal, req)); }), { numRuns: 400 });
    });
  }

  test('cut, corrupted and padded requests: the same output or the same error', () => {
    const damaged = anyRequest.chain(({ signal, body }) => fc.oneof(
      fc.nat({ max: body.length }).map((n) => body.subarray(0, n)),
      fc.tuple(fc.nat({ max: Math.max(0, body.length - 1) }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const b = Buffer.from(body);
        if (b.length > 0) b[i] ^= x;
        return b;
      }),
      fc.tuple(fc.nat({ max: body.length }), fc.uint8Array({ minLength: 1, maxLength: 12 })).map(([i, bytes]) => Buffer.concat([body.subarray(0, i), bytes, body.subarray(i)])),
    ).map((b) => ({ signal, body: b })));
    fc.assert(fc.property(damaged, ({ signal, body }) => { expectSame(signal, body); }), { numRuns: 3000 });
  });
});

describe('attribute keys through the decoder\'s string cache', () => {
  test('thousands of distinct keys (evicting one another), repeated, and invalid UTF-8: the same strings', () => {
    const keys = fc.sample(fc.string({ minLength: 0, maxLength: 70, unit: 'binary' }), { numRuns: 12_000, seed: 42 });
    const attributes = [...keys, ...keys.slice(0, 3000).reverse()].map((key, i) => ({ key, value: { intValue: i } }));
    const body = encoded('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes }, { attributes: attributes.slice(5000) }] }] }] });
    expectSame('logs', body);
    // Keys whose bytes are not UTF-8 (0xff, a lone continuation byte, a cut sequence), each twice.
    const raw = [Buffer.from([0xff]), Buffer.from([0x61, 0x80]), Buffer.from([0xe2, 0x82])];
    const kv = (k: Buffer) => Buffer.concat([Buffer.from([0x32, k.length + 2, 0x0a, k.length]), k]); // LogRecord.attributes (6) = KeyValue{key}
    const record = Buffer.concat([...raw, ...raw].map(kv));
    const request = Buffer.concat([Buffer.from([0x0a, record.length + 4, 0x12, record.length + 2, 0x12, record.length]), record]);
    const out = expectSame('logs', request);
    expect(out).toHaveProperty(['ok', 'part', 'resourceLogs', '0', 'scopeLogs', '0', 'logRecords', '0', 'attributes'], { '\ufffd': null, 'a\ufffd': null });
  });
});

describe('wire forms protobufjs does not write', () => {
  const tag = (field: number, wire: number) => Buffer.from(lengthVarint((field << 3) | wire));
  const len = (b: Buffer) => Buffer.concat([Buffer.from(lengthVarint(b.length)), b]);
  const message = (field: number, b: Buffer) => Buffer.concat([tag(field, 2), len(b)]);
  const fixed64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };
  const unknown = Buffer.concat([
    tag(100, 0), Buffer.from([0x96, 0x01]), tag(101, 1), Buffer.alloc(8), tag(102, 2), len(Buffer.from('skip')),
    tag(103, 5), Buffer.alloc(4), tag(104, 3), tag(1, 0), Buffer.from([1]), tag(104, 4),
  ]);

  test('unknown fields of every wire type, in every message, are skipped', () => {
    const kv = message(1, Buffer.concat([unknown, tag(1, 2), len(Buffer.from('k')), message(2, Buffer.concat([unknown, tag(3, 0), Buffer.from([7])]))]));
    const spanBytes = Buffer.concat([unknown, tag(1, 2), len(Buffer.alloc(16, 0xab)), tag(2, 2), len(Buffer.alloc(8, 0xcd)), tag(9, 2), len(kv.subarray(2))]);
    const body = message(1, Buffer.concat([unknown, message(2, Buffer.concat([unknown, message(2, spanBytes)]))]));
    const out = expectSame('traces', body);
    expect(out).toHaveProperty('ok.part.resourceSpans.0.scopeSpans.0.spans.0', expect.objectContaining({
      traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: { k: 7 },
    }));
  });

  test('repeated scalars packed, unpacked and both; repeated singular fields keep the last value', () => {
    const point = Buffer.concat([
      tag(4, 1), fixed64(3n), tag(4, 1), fixed64(5n),
      tag(6, 1), fixed64(1n), tag(6, 2), len(Buffer.concat([fixed64(2n), fixed64(2n)])), tag(6, 1), fixed64(1n),
      tag(7, 2), len(Buffer.alloc(8)), tag(7, 1), Buffer.from(new Float64Array([2.5]).buffer),
    ]);
    const metric = Buffer.concat([tag(1, 2), len(Buffer.from('h')), message(9, message(1, point))]);
    const body = message(1, message(2, message(2, metric)));
    const out = expectSame('metrics', body);
    expect(out).toHaveProperty('ok.part.resourceMetrics.0.scopeMetrics.0.metrics.0.histogram.dataPoints.0', expect.objectContaining({
      count: 5, bucketCounts: [1, 2, 2, 1], explicitBounds: [0, 2.5],
    }));
  });

  test('nesting beyond protobufjs\'s limit, groups and a bad wire type: the same errors', () => {
    let value = Buffer.concat([tag(1, 2), len(Buffer.from('x'))]);
    for (let i = 0; i < 60; i++) value = message(5, message(1, value));
    const deep = message(1, message(2, message(2, message(5, value))));
    expect(expectSame('logs', deep)).toStrictEqual({ error: 'OtlpDecodeError: invalid protobuf ExportLogsServiceRequest: maximum nesting depth exceeded' });
    expect(expectSame('logs', tag(9, 6))).toStrictEqual({ error: expect.stringMatching(/^OtlpDecodeError: invalid protobuf ExportLogsServiceRequest: invalid wire type 6/) });
    expect(expectSame('traces', Buffer.concat([tag(5, 3), tag(1, 0), Buffer.from([1]), tag(5, 4)]))).toHaveProperty('ok');
  });
});

function lengthVarint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) { out.push((n & 127) | 128); n >>>= 7; }
  out.push(n);
  return out;
}
