import type { AnyValue, Attributes, HistogramDataPoint, LogRecord, Metric, NumberDataPoint, ResourceLogs, ResourceMetrics, ResourceSpans, Scope, Span } from '../../../core/telemetry.js';
import { OtlpDecodeError, type DecodedExport, type Signal, type TelemetryPart } from '../../../receivers/otlp/codec/codec.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { Rejections } from '../../../receivers/otlp/codec/rejections.js';
import { setAttribute, uint64Decimal } from '../../../receivers/otlp/codec/scalars.js';

/**
 * The test oracle: the receiver's former protobuf decoder, kept verbatim (protobufjs decodes the
 * request into its message objects, then they are converted to core/telemetry.ts), so that
 * wire-decode.test.ts can check the one-pass decoder (receivers/otlp/codec/from-wire.ts) gives the same
 * output, the same partial-success rejections and the same errors for every input.
 */

const REQUEST_TYPES = { traces: messages.traceRequest, metrics: messages.metricsRequest, logs: messages.logsRequest } as const;

export function legacyDecodeProtobuf(signal: Signal, body: Buffer): DecodedExport {
  const rejections = new Rejections();
  const part: TelemetryPart = { resourceSpans: [], resourceMetrics: [], resourceLogs: [] };
  const type = REQUEST_TYPES[signal];
  let msg: unknown;
  try {
    msg = type.decode(body);
  } catch (err) {
    throw new OtlpDecodeError(`invalid protobuf ${type.name}: ${(err as Error).message}`);
  }
  try {
    if (signal === 'traces') part.resourceSpans = resourceSpansOf(msg as PbTraceRequest);
    else if (signal === 'metrics') part.resourceMetrics = resourceMetricsOf(msg as PbMetricsRequest, rejections);
    else part.resourceLogs = resourceLogsOf(msg as PbLogsRequest);
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err;
    throw new OtlpDecodeError(`undecodable ${signal} request: ${(err as Error).message}`);
  }
  return { part, rejected: rejections.count, rejectedMessage: rejections.message };
}

/** 64-bit integers as protobufjs decodes them (a `long` Long; a number when Long is unavailable). */
export type Int64 = number | { low: number; high: number; unsigned: boolean; toNumber(): number };

/** Bytes fields decode to a Buffer slice of the input, or to an empty array when absent. */
export type PbBytes = Uint8Array | readonly number[];

/**
 * The shapes protobufjs decodes schemas/otlp/*.proto into: camelCase; absent fields read through
 * to prototype defaults (null for messages, [] for repeated and bytes fields).
 */
export interface PbAnyValue {
  stringValue: string;
  boolValue: boolean;
  intValue: Int64;
  doubleValue: number;
  arrayValue: { values: PbAnyValue[] } | null;
  kvlistValue: { values: PbKeyValue[] } | null;
  bytesValue: PbBytes;
}
export interface PbKeyValue { key: string; value: PbAnyValue | null }
export interface PbScope { name: string; version: string; attributes: PbKeyValue[] }
export interface PbResource { attributes: PbKeyValue[] }

export interface PbSpan {
  traceId: PbBytes; spanId: PbBytes; parentSpanId: PbBytes; name: string; kind: number;
  startTimeUnixNano: Int64; endTimeUnixNano: Int64; attributes: PbKeyValue[];
  events: { timeUnixNano: Int64; name: string; attributes: PbKeyValue[] }[];
  status: { message: string; code: number } | null;
}
export interface PbTraceRequest {
  resourceSpans: { resource: PbResource | null; scopeSpans: { scope: PbScope | null; spans: PbSpan[] }[] }[];
}

export interface PbNumberDataPoint {
  attributes: PbKeyValue[]; startTimeUnixNano: Int64; timeUnixNano: Int64;
  asDouble: number; asInt: Int64;
}
export interface PbHistogramDataPoint {
  attributes: PbKeyValue[]; startTimeUnixNano: Int64; timeUnixNano: Int64; count: Int64;
  sum: number | null; bucketCounts: Int64[]; explicitBounds: number[];
}
export interface PbMetric {
  name: string; description: string; unit: string;
  gauge: { dataPoints: PbNumberDataPoint[] } | null;
  sum: { dataPoints: PbNumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean } | null;
  histogram: { dataPoints: PbHistogramDataPoint[]; aggregationTemporality: number } | null;
  exponentialHistogram: { dataPoints: unknown[] } | null;
  summary: { dataPoints: unknown[] } | null;
}
export interface PbMetricsRequest {
  resourceMetrics: { resource: PbResource | null; scopeMetrics: { scope: PbScope | null; metrics: PbMetric[] }[] }[];
}

export interface PbLogRecord {
  timeUnixNano: Int64; observedTimeUnixNano: Int64; severityNumber: number; severityText: string;
  body: PbAnyValue | null; attributes: PbKeyValue[]; traceId: PbBytes; spanId: PbBytes; eventName: string;
}
export interface PbLogsRequest {
  resourceLogs: { resource: PbResource | null; scopeLogs: { scope: PbScope | null; logRecords: PbLogRecord[] }[] }[];
}

/** A fixed64 timestamp as decimal nanoseconds. */
export function nanosOf(v: Int64): string {
  return typeof v === 'number' ? String(v) : uint64Decimal(v.low, v.high);
}

export function int64Number(v: Int64): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/** Trace and span ids: lowercase hex, '' when absent; any other length than the spec's is an error. */
export function idHex(bytes: PbBytes, size: 8 | 16, field: string): string {
  const n = bytes.length;
  if (n === 0) return '';
  if (n !== size) throw new OtlpDecodeError(`${field} must be ${size} bytes, got ${n}`);
  return Buffer.isBuffer(bytes) ? bytes.toString('hex') : Buffer.from(bytes).toString('hex');
}

/**
 * Which member of a oneof is set. protobufjs decodes present fields as own properties (absent ones
 * read through to prototype defaults); testing them in order of likelihood is several times
 * faster than its oneof getter, which lists the object's keys on every call.
 */
const has = (o: object, field: string): boolean => Object.prototype.hasOwnProperty.call(o, field);

function anyValueOf(v: PbAnyValue | null): AnyValue {
  if (v === null) return null;
  if (has(v, 'stringValue')) return v.stringValue;
  if (has(v, 'intValue')) return int64Number(v.intValue);
  if (has(v, 'boolValue')) return v.boolValue;
  if (has(v, 'doubleValue')) return v.doubleValue;
  if (has(v, 'arrayValue')) {
    const values = v.arrayValue?.values ?? [];
    const out: AnyValue[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = anyValueOf(values[i]);
    return out;
  }
  if (has(v, 'kvlistValue')) return attributesOf(v.kvlistValue?.values ?? []);
  // A copy, so that the value does not keep the whole request body alive.
  if (has(v, 'bytesValue')) return Uint8Array.from(v.bytesValue);
  return null;
}

function attributesOf(kvs: PbKeyValue[]): Attributes {
  const out: Attributes = {};
  for (let i = 0; i < kvs.length; i++) setAttribute(out, kvs[i].key, anyValueOf(kvs[i].value));
  return out;
}

function scopeOf(s: PbScope | null): Scope {
  return s === null ? { name: '', version: '', attributes: {} } : { name: s.name, version: s.version, attributes: attributesOf(s.attributes) };
}

function spanOf(s: PbSpan): Span {
  const events = new Array<Span['events'][number]>(s.events.length);
  for (let i = 0; i < events.length; i++) {
    const e = s.events[i];
    events[i] = { timeUnixNano: nanosOf(e.timeUnixNano), name: e.name, attributes: attributesOf(e.attributes) };
  }
  return {
    traceId: idHex(s.traceId, 16, 'span.traceId'),
    spanId: idHex(s.spanId, 8, 'span.spanId'),
    parentSpanId: idHex(s.parentSpanId, 8, 'span.parentSpanId'),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: nanosOf(s.startTimeUnixNano),
    endTimeUnixNano: nanosOf(s.endTimeUnixNano),
    attributes: attributesOf(s.attributes),
    events,
    status: s.status === null ? { code: 0, message: '' } : { code: s.status.code, message: s.status.message },
  };
}

export function resourceSpansOf(req: PbTraceRequest): ResourceSpans[] {
  return req.resourceSpans.map((rs) => ({
    resource: attributesOf(rs.resource?.attributes ?? []),
    scopeSpans: rs.scopeSpans.map((ss) => ({ scope: scopeOf(ss.scope), spans: ss.spans.map(spanOf) })),
  }));
}

function numberPointOf(p: PbNumberDataPoint): NumberDataPoint {
  return {
    attributes: attributesOf(p.attributes),
    startTimeUnixNano: nanosOf(p.startTimeUnixNano),
    timeUnixNano: nanosOf(p.timeUnixNano),
    value: has(p, 'asInt') ? int64Number(p.asInt) : p.asDouble,
  };
}

function histogramPointOf(p: PbHistogramDataPoint): HistogramDataPoint {
  return {
    attributes: attributesOf(p.attributes),
    startTimeUnixNano: nanosOf(p.startTimeUnixNano),
    timeUnixNano: nanosOf(p.timeUnixNano),
    count: int64Number(p.count),
    sum: p.sum ?? null,
    bucketCounts: p.bucketCounts.map(int64Number),
    explicitBounds: p.explicitBounds,
  };
}

/** Metrics of a type tokenledger does not represent are left out and their points counted as rejected. */
function metricOf(m: PbMetric, rejections: Rejections): Metric | null {
  const base = { name: m.name, description: m.description, unit: m.unit };
  if (m.sum !== null) {
    const s = m.sum;
    return { ...base, sum: { dataPoints: s.dataPoints.map(numberPointOf), aggregationTemporality: s.aggregationTemporality, isMonotonic: s.isMonotonic } };
  }
  if (m.gauge !== null) return { ...base, gauge: { dataPoints: m.gauge.dataPoints.map(numberPointOf) } };
  if (m.histogram !== null) {
    const h = m.histogram;
    return { ...base, histogram: { dataPoints: h.dataPoints.map(histogramPointOf), aggregationTemporality: h.aggregationTemporality } };
  }
  if (m.exponentialHistogram !== null) {
    rejections.unsupportedMetric(m.name, 'exponential histogram', m.exponentialHistogram.dataPoints.length);
    return null;
  }
  if (m.summary !== null) {
    rejections.unsupportedMetric(m.name, 'summary', m.summary.dataPoints.length);
    return null;
  }
  return base; // a metric without data is valid OTLP
}

export function resourceMetricsOf(req: PbMetricsRequest, rejections: Rejections): ResourceMetrics[] {
  return req.resourceMetrics.map((rm) => ({
    resource: attributesOf(rm.resource?.attributes ?? []),
    scopeMetrics: rm.scopeMetrics.map((sm) => {
      const metrics: Metric[] = [];
      for (const m of sm.metrics) {
        const metric = metricOf(m, rejections);
        if (metric !== null) metrics.push(metric);
      }
      return { scope: scopeOf(sm.scope), metrics };
    }),
  }));
}

function logRecordOf(r: PbLogRecord): LogRecord {
  return {
    timeUnixNano: nanosOf(r.timeUnixNano),
    observedTimeUnixNano: nanosOf(r.observedTimeUnixNano),
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: anyValueOf(r.body),
    attributes: attributesOf(r.attributes),
    traceId: idHex(r.traceId, 16, 'logRecord.traceId'),
    spanId: idHex(r.spanId, 8, 'logRecord.spanId'),
    eventName: r.eventName,
  };
}

export function resourceLogsOf(req: PbLogsRequest): ResourceLogs[] {
  return req.resourceLogs.map((rl) => ({
    resource: attributesOf(rl.resource?.attributes ?? []),
    scopeLogs: rl.scopeLogs.map((sl) => ({ scope: scopeOf(sl.scope), logRecords: sl.logRecords.map(logRecordOf) })),
  }));
}
