import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { countItems, decodeExport, decodeExportRequest, encodeExportResponse, encodeStatus, GrpcCode, OtlpDecodeError } from '../../../receivers/otlp/codec/codec.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { uint64Decimal } from '../../../receivers/otlp/codec/scalars.js';
import { sampleTraceRequest } from '../../helpers/sample-trace-request.js';

const FIXTURES = new URL('../../fixtures/claude-code/otlp', import.meta.url).pathname;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}

/** Every object key of a parsed OTLP/JSON document in snake_case (attribute keys are values, untouched). */
function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(x)]));
}

describe('scalars', () => {
  test('uint64Decimal equals BigInt for every 64-bit value', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
      expect(uint64Decimal(Number(n & 0xffffffffn) | 0, Number(n >> 32n) | 0)).toBe(n.toString());
    }), { numRuns: 2000 });
    expect(uint64Decimal(-1, -1)).toBe('18446744073709551615');
    expect(uint64Decimal(0, 0x200000)).toBe((2n ** 53n).toString());
  });
});

describe('protobuf', () => {
  test('the captured Claude Code metrics: token and cost values as the mock returned them', () => {
    const part = decodeExport('metrics', readFileSync(`${FIXTURES}/v2.1.330-hello-http-protobuf/002-metrics.pb`), 'protobuf');
    expect(part.resourceSpans).toEqual([]);
    expect(part.resourceLogs).toEqual([]);
    const metrics = part.resourceMetrics[0].scopeMetrics[0].metrics;
    const tokens = metrics.find((m) => m.name === 'claude_code.token.usage')!;
    expect(Object.fromEntries(tokens.sum!.dataPoints.map((p) => [p.attributes.type, p.value]))).toEqual({ input: 25, output: 42, cacheRead: 9800, cacheCreation: 1200 });
    expect(tokens.sum!.aggregationTemporality).toBe(1);
    expect(metrics.find((m) => m.name === 'claude_code.cost.usage')!.sum!.dataPoints[0].value).toBeGreaterThan(0);
    expect(tokens.sum!.dataPoints[0].timeUnixNano).toMatch(/^17954107\d{11}$/);
  });

  test('protobuf and JSON of the same request decode to the same thing', () => {
    const { protobuf, json: asJson } = sampleTraceRequest(3);
    const a = decodeExport('traces', protobuf, 'protobuf');
    expect(a).toEqual(decodeExport('traces', asJson, 'json'));
    expect(countItems(a)).toBe(3);
    expect(a.resourceSpans[0].scopeSpans[0].spans[1]).toMatchObject({ spanId: '0000000000000001', parentSpanId: '1122334455667788', startTimeUnixNano: '1795410618316000000', status: { code: 1, message: '' } });
  });

  test('AnyValue kinds, bytes copied out of the request, the largest timestamp, histogram sum presence', () => {
    const body = messages.logsRequest.encode({ resourceLogs: [{ scopeLogs: [{ logRecords: [{
      timeUnixNano: '18446744073709551615', eventName: 'e',
      body: { kvlistValue: { values: [{ key: 'b', value: { bytesValue: Buffer.from([1, 2]) } }, { key: 'n', value: { intValue: -5 } }, { key: 'none', value: {} }, { key: '__proto__', value: { boolValue: true } }] } },
    }] }] }] }).finish();
    const rec = decodeExport('logs', Buffer.from(body), 'protobuf').resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(rec.timeUnixNano).toBe('18446744073709551615');
    expect(rec.observedTimeUnixNano).toBe('0');
    expect(rec.eventName).toBe('e');
    const kv = rec.body as Record<string, unknown>;
    expect(kv.b).toEqual(new Uint8Array([1, 2]));
    expect(Buffer.isBuffer(kv.b)).toBe(false);
    expect(kv.n).toBe(-5);
    expect(kv.none).toBeNull();
    expect(Object.getPrototypeOf(kv)).toBe(Object.prototype);
    expect(Object.keys(kv)).toContain('__proto__');

    const hist = (sum?: number) => decodeExport('metrics', messages.metricsRequest.encode({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'h', histogram: { dataPoints: [{ count: 2, ...(sum === undefined ? {} : { sum }), bucketCounts: [1, 1], explicitBounds: [10] }] } }] }] }] }).finish(), 'protobuf')
      .resourceMetrics[0].scopeMetrics[0].metrics[0].histogram!.dataPoints[0];
    expect(hist()).toMatchObject({ count: 2, sum: null, bucketCounts: [1, 1], explicitBounds: [10] });
    expect(hist(0).sum).toBe(0);
  });

  test('undecodable bytes and wrong id lengths: OtlpDecodeError naming the problem', () => {
    expect(() => decodeExport('traces', Buffer.from([0x0a, 0x10, 0x01]), 'protobuf')).toThrow(/^invalid protobuf ExportTraceServiceRequest: index out of range/);
    const badId = messages.traceRequest.encode({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(5) }] }] }] }).finish();
    expect(() => decodeExport('traces', badId, 'protobuf')).toThrow(new OtlpDecodeError('span.traceId must be 16 bytes, got 5'));
    expect(decodeExport('traces', new Uint8Array(0), 'protobuf')).toEqual({ resourceSpans: [], resourceMetrics: [], resourceLogs: [] });
  });

  test('absurd AnyValue nesting is a decode error, not a crash', () => {
    const n = 50_000;
    const value = '{"arrayValue":{"values":['.repeat(n) + '{"stringValue":"x"}' + ']}}'.repeat(n);
    const deep = Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${value}}]}]}]}`);
    expect(() => decodeExport('logs', deep, 'json')).toThrow(OtlpDecodeError);
    expect(decodeExport('logs', nestedLogsRequest(2), 'protobuf').resourceLogs[0].scopeLogs[0].logRecords[0].body).toEqual([['x']]);
    expect(() => decodeExport('logs', nestedLogsRequest(n), 'protobuf')).toThrow(OtlpDecodeError);
  });
});

/**
 * A protobuf logs request whose one record's body is AnyValue{array_value: {values: [...]}} nested
 * `depth` deep around the string "x". Fields are length-prefixed, so the request is the prefixes,
 * outermost first, then the leaf.
 */
function nestedLogsRequest(depth: number): Buffer {
  const leaf = Buffer.from([0x0a, 0x01, 0x78]); // AnyValue.string_value (1) = "x"
  const prefixes: Buffer[] = [];
  let size = leaf.length;
  const wrap = (tag: number) => {
    const prefix = Buffer.concat([Buffer.from([tag]), varint(size)]);
    prefixes.push(prefix);
    size += prefix.length;
  };
  for (let i = 0; i < depth; i++) {
    wrap(0x0a); // ArrayValue.values (1)
    wrap(0x2a); // AnyValue.array_value (5)
  }
  wrap(0x2a); // LogRecord.body (5)
  wrap(0x12); // ScopeLogs.log_records (2)
  wrap(0x12); // ResourceLogs.scope_logs (2)
  wrap(0x0a); // ExportLogsServiceRequest.resource_logs (1)
  return Buffer.concat([...prefixes.reverse(), leaf]);
}

describe('JSON', () => {
  test('snake_case keys decode like lowerCamelCase', () => {
    for (const file of ['v2.1.330-write-tool-with-traces/001-traces.json', 'v2.1.330-write-tool-with-traces/003-metrics.json', 'v2.1.330-write-tool-with-traces/002-logs.json']) {
      const signal = file.endsWith('traces.json') ? 'traces' : file.endsWith('metrics.json') ? 'metrics' : 'logs';
      const doc = JSON.parse(readFileSync(`${FIXTURES}/${file}`, 'utf8'));
      const camel = decodeExport(signal, json(doc), 'json');
      expect(countItems(camel)).toBeGreaterThan(0);
      expect(decodeExport(signal, json(snakeKeys(doc)), 'json')).toEqual(camel);
    }
  });

  test('enums by name, 64-bit integers as numbers, upper-case hex ids, events and status', () => {
    const part = decodeExport('traces', json({ resourceSpans: [{ scopeSpans: [{ spans: [{
      traceId: '5B8EFFF798038103D269B633813FC60C', spanId: 'EEE19B7EC3C1B174', kind: 'SPAN_KIND_CLIENT', startTimeUnixNano: 1795410618316000000,
      status: { code: 'STATUS_CODE_ERROR', message: 'x' }, events: [{ name: 'ev', timeUnixNano: '7' }],
      attributes: [{ key: 'i', value: { intValue: 42 } }, { key: 'd', value: { doubleValue: 'NaN' } }, { key: 'b', value: { bytesValue: 'AQI=' } }],
    }] }] }] }), 'json');
    const span = part.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span).toMatchObject({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', kind: 3, startTimeUnixNano: '1795410618316000000', status: { code: 2, message: 'x' }, events: [{ name: 'ev', timeUnixNano: '7', attributes: {} }] });
    expect(span.attributes).toEqual({ i: 42, d: NaN, b: new Uint8Array([1, 2]) });
    const logs = decodeExport('logs', json({ resource_logs: [{ scope_logs: [{ log_records: [{ severity_number: 'SEVERITY_NUMBER_WARN2', event_name: 'x' }] }] }] }), 'json');
    expect(logs.resourceLogs[0].scopeLogs[0].logRecords[0]).toMatchObject({ severityNumber: 14, eventName: 'x', timeUnixNano: '0' });
  });

  test('wrong shapes: errors say which field and what was found', () => {
    const cases: [unknown, string][] = [
      [[], 'request must be a JSON object, got an array'],
      [{ resourceSpans: {} }, 'request.resourceSpans must be an array, got an object'],
      [{ resourceSpans: [{ resource: { attributes: {} } }] }, 'resourceSpans[0].resource.attributes must be an array, got an object'],
      [{ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: '-1' }] }] }] }, 'span.startTimeUnixNano must be a decimal integer, got "-1"'],
      [{ resourceSpans: [{ scopeSpans: [{ spans: [{ kind: 'SERVER' }] }] }] }, 'span.kind must be an enum integer or one of SPAN_KIND_UNSPECIFIED, SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER; got string "SERVER"'],
      [{ resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [{ key: 'k', value: { intValue: '1.5' } }] }] }] }] }, 'span.attributes["k"] must be an integer, got "1.5"'],
    ];
    for (const [doc, message] of cases) expect(() => decodeExport('traces', json(doc), 'json')).toThrow(new OtlpDecodeError(message));
    expect(() => decodeExport('traces', Buffer.from('{"resourceSpans": ['), 'json')).toThrow(/^invalid JSON: /);
  });

  test('unsupported metric types are left out and counted', () => {
    const d = decodeExportRequest('metrics', json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 's', summary: { dataPoints: [{}, {}] } }, { name: 'g', gauge: { dataPoints: [{ asDouble: 1.5 }] } }] }] }] }), 'json');
    expect(d.rejected).toBe(2);
    expect(d.rejectedMessage).toBe('unsupported metric type: 2 data points rejected, of "s" (summary)');
    expect(countItems(d.part)).toBe(1);
  });
});

describe('responses', () => {
  test('Export responses: empty on full success, partial_success otherwise, in both encodings', () => {
    expect(Buffer.from(encodeExportResponse('traces', 'json')).toString()).toBe('{}');
    expect(encodeExportResponse('logs', 'protobuf').length).toBe(0);
    expect(JSON.parse(Buffer.from(encodeExportResponse('logs', 'json', { rejected: 2, errorMessage: 'why' })).toString())).toEqual({ partialSuccess: { rejectedLogRecords: '2', errorMessage: 'why' } });
    const pb = messages.metricsResponse.decode(encodeExportResponse('metrics', 'protobuf', { rejected: 3, errorMessage: 'why' })).toJSON();
    expect(pb).toEqual({ partialSuccess: { rejectedDataPoints: '3', errorMessage: 'why' } });
  });

  test('google.rpc.Status with and without RetryInfo', () => {
    expect(JSON.parse(Buffer.from(encodeStatus('json', GrpcCode.INVALID_ARGUMENT, 'bad')).toString())).toEqual({ code: 3, message: 'bad', details: [] });
    const s = messages.status.decode(encodeStatus('protobuf', GrpcCode.UNAVAILABLE, 'later', 4)) as unknown as { code: number; message: string; details: { typeUrl: string; value: Uint8Array }[] };
    expect(s.code).toBe(14);
    expect(messages.retryInfo.decode(s.details[0].value).toJSON()).toEqual({ retryDelay: { seconds: '4' } });
  });
});
