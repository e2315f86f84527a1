import type { AnyValue, Attributes, HistogramDataPoint, LogRecord, Metric, NumberDataPoint, ResourceLogs, ResourceMetrics, ResourceSpans, Scope, Span } from '../../core/telemetry.js';
import type {
  PbAnyValue, PbHistogramDataPoint, PbKeyValue, PbLogRecord, PbLogsRequest, PbMetric, PbMetricsRequest,
  PbNumberDataPoint, PbScope, PbSpan, PbTraceRequest,
} from './proto.js';
import { idHex, int64Number, nanosOf, setAttribute } from './scalars.js';
import type { Rejections } from './rejections.js';

/** protobufjs-decoded OTLP messages → core/telemetry.ts, in one pass. */

/**
 * Which member of a oneof is set. protobufjs decodes present fields as own properties (absent ones
 * read through to prototype defaults); testing them in order of likelihood is several times
 * faster than its oneof getter, which lists the object's keys on every call.
 */
const has = (o: object, field: string): boolean => Object.prototype.hasOwnProperty.call(o, field);

export function anyValueOf(v: PbAnyValue | null): AnyValue {
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

export function attributesOf(kvs: PbKeyValue[]): Attributes {
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
