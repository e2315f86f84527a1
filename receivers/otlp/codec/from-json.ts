import type { AnyValue, Attributes, HistogramDataPoint, LogRecord, Metric, NumberDataPoint, ResourceLogs, ResourceMetrics, ResourceSpans, Scope, Span } from '../../../core/telemetry.js';
import { OtlpDecodeError } from './errors.js';
import type { Rejections } from './rejections.js';
import { jsonDouble, jsonIdHex, jsonInt, jsonNanos, setAttribute } from './scalars.js';

/**
 * Parsed OTLP/JSON → core/telemetry.ts, in one pass, validating as it goes. Keys are accepted in
 * lowerCamelCase (the spec) and snake_case (the proto names); enums as integers or their names;
 * 64-bit integers as strings or numbers; ids as hex. Unknown keys are ignored, as the collector does.
 */

type J = Record<string, unknown>;

/** The value under the camelCase key, else under the snake_case one. */
function get(o: J, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

function obj(v: unknown, field: string): J | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new OtlpDecodeError(`${field} must be an object, got ${describe(v)}`);
  return v as J;
}

function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${field} must be an array, got ${describe(v)}`);
  return v;
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new OtlpDecodeError(`${field} must be a string, got ${describe(v)}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new OtlpDecodeError(`${field} must be a boolean, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/** Enums are integers in OTLP/JSON; their proto names are accepted too. `names[i]` is value i. */
function enumOf(v: unknown, names: readonly string[], field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
  }
  throw new OtlpDecodeError(`${field} must be an enum integer or one of ${names.join(', ')}; got ${describe(v)}`);
}

const SPAN_KIND = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_CODE = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const TEMPORALITY = ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE'];
const SEVERITY = ['UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((l) => [l, `${l}2`, `${l}3`, `${l}4`])]
  .map((n) => `SEVERITY_NUMBER_${n}`);

export function jsonAnyValue(v: unknown, field: string): AnyValue {
  const o = obj(v, field);
  if (o === null) return null;
  let x: unknown;
  if ((x = get(o, 'stringValue', 'string_value')) !== undefined) return str(x, field);
  if ((x = get(o, 'intValue', 'int_value')) !== undefined) return jsonInt(x, field);
  if ((x = get(o, 'boolValue', 'bool_value')) !== undefined) return bool(x, field);
  if ((x = get(o, 'doubleValue', 'double_value')) !== undefined) return jsonDouble(x, field);
  if ((x = get(o, 'arrayValue', 'array_value')) !== undefined) {
    const values = arr(obj(x, field)?.values, field);
    const out: AnyValue[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = jsonAnyValue(values[i], field);
    return out;
  }
  if ((x = get(o, 'kvlistValue', 'kvlist_value')) !== undefined) return jsonAttributes(obj(x, field)?.values, field);
  if ((x = get(o, 'bytesValue', 'bytes_value')) !== undefined) return Uint8Array.from(Buffer.from(str(x, field), 'base64'));
  return null;
}

export function jsonAttributes(v: unknown, field: string): Attributes {
  const kvs = arr(v, field);
  const out: Attributes = {};
  for (let i = 0; i < kvs.length; i++) {
    const kv = obj(kvs[i], field);
    if (kv === null) continue;
    const key = str(kv.key, `${field}.key`);
    setAttribute(out, key, jsonAnyValue(kv.value, `${field}[${JSON.stringify(key)}]`));
  }
  return out;
}

function jsonResource(o: J, field: string): Attributes {
  return jsonAttributes(obj(o.resource, `${field}.resource`)?.attributes, `${field}.resource.attributes`);
}

function jsonScope(v: unknown, field: string): Scope {
  const s = obj(v, field);
  if (s === null) return { name: '', version: '', attributes: {} };
  return { name: str(s.name, `${field}.name`), version: str(s.version, `${field}.version`), attributes: jsonAttributes(s.attributes, `${field}.attributes`) };
}

/** `o[camel]` (or snake) as an array of objects, with `field` naming it in errors. */
function objects(o: J, camel: string, snake: string, field: string): J[] {
  const list = arr(get(o, camel, snake), `${field}.${camel}`);
  const out: J[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = obj(list[i], `${field}.${camel}[${i}]`) ?? {};
  return out;
}

function jsonSpan(s: J): Span {
  const events = arr(s.events, 'span.events').map((ev) => {
    const e = obj(ev, 'span.events[]') ?? {};
    return { timeUnixNano: jsonNanos(get(e, 'timeUnixNano', 'time_unix_nano'), 'event.timeUnixNano'), name: str(e.name, 'event.name'), attributes: jsonAttributes(e.attributes, 'event.attributes') };
  });
  const status = obj(s.status, 'span.status');
  return {
    traceId: jsonIdHex(get(s, 'traceId', 'trace_id'), 16, 'span.traceId'),
    spanId: jsonIdHex(get(s, 'spanId', 'span_id'), 8, 'span.spanId'),
    parentSpanId: jsonIdHex(get(s, 'parentSpanId', 'parent_span_id'), 8, 'span.parentSpanId'),
    name: str(s.name, 'span.name'),
    kind: enumOf(s.kind, SPAN_KIND, 'span.kind'),
    startTimeUnixNano: jsonNanos(get(s, 'startTimeUnixNano', 'start_time_unix_nano'), 'span.startTimeUnixNano'),
    endTimeUnixNano: jsonNanos(get(s, 'endTimeUnixNano', 'end_time_unix_nano'), 'span.endTimeUnixNano'),
    attributes: jsonAttributes(s.attributes, 'span.attributes'),
    events,
    status: status === null ? { code: 0, message: '' } : { code: enumOf(status.code, STATUS_CODE, 'span.status.code'), message: str(status.message, 'span.status.message') },
  };
}

export function jsonResourceSpans(req: J): ResourceSpans[] {
  return objects(req, 'resourceSpans', 'resource_spans', 'request').map((rs, i) => {
    const field = `resourceSpans[${i}]`;
    return {
      resource: jsonResource(rs, field),
      scopeSpans: objects(rs, 'scopeSpans', 'scope_spans', field).map((ss, j) => ({
        scope: jsonScope(ss.scope, `${field}.scopeSpans[${j}].scope`),
        spans: objects(ss, 'spans', 'spans', `${field}.scopeSpans[${j}]`).map(jsonSpan),
      })),
    };
  });
}

function jsonNumberPoint(p: J): NumberDataPoint {
  const asInt = get(p, 'asInt', 'as_int');
  return {
    attributes: jsonAttributes(p.attributes, 'dataPoint.attributes'),
    startTimeUnixNano: jsonNanos(get(p, 'startTimeUnixNano', 'start_time_unix_nano'), 'dataPoint.startTimeUnixNano'),
    timeUnixNano: jsonNanos(get(p, 'timeUnixNano', 'time_unix_nano'), 'dataPoint.timeUnixNano'),
    value: asInt !== undefined ? jsonInt(asInt, 'dataPoint.asInt') : jsonDouble(get(p, 'asDouble', 'as_double'), 'dataPoint.asDouble'),
  };
}

function jsonHistogramPoint(p: J): HistogramDataPoint {
  const sum = p.sum;
  return {
    attributes: jsonAttributes(p.attributes, 'dataPoint.attributes'),
    startTimeUnixNano: jsonNanos(get(p, 'startTimeUnixNano', 'start_time_unix_nano'), 'dataPoint.startTimeUnixNano'),
    timeUnixNano: jsonNanos(get(p, 'timeUnixNano', 'time_unix_nano'), 'dataPoint.timeUnixNano'),
    count: jsonInt(p.count, 'dataPoint.count'),
    sum: sum === undefined || sum === null ? null : jsonDouble(sum, 'dataPoint.sum'),
    bucketCounts: arr(get(p, 'bucketCounts', 'bucket_counts'), 'dataPoint.bucketCounts').map((c) => jsonInt(c, 'dataPoint.bucketCounts[]')),
    explicitBounds: arr(get(p, 'explicitBounds', 'explicit_bounds'), 'dataPoint.explicitBounds').map((b) => jsonDouble(b, 'dataPoint.explicitBounds[]')),
  };
}

function jsonMetric(m: J, field: string, rejections: Rejections): Metric | null {
  const base = { name: str(m.name, `${field}.name`), description: str(m.description, `${field}.description`), unit: str(m.unit, `${field}.unit`) };
  let d: J | null;
  if ((d = obj(m.gauge, `${field}.gauge`)) !== null) {
    return { ...base, gauge: { dataPoints: objects(d, 'dataPoints', 'data_points', `${field}.gauge`).map(jsonNumberPoint) } };
  }
  if ((d = obj(m.sum, `${field}.sum`)) !== null) {
    return {
      ...base,
      sum: {
        dataPoints: objects(d, 'dataPoints', 'data_points', `${field}.sum`).map(jsonNumberPoint),
        aggregationTemporality: enumOf(get(d, 'aggregationTemporality', 'aggregation_temporality'), TEMPORALITY, `${field}.sum.aggregationTemporality`),
        isMonotonic: bool(get(d, 'isMonotonic', 'is_monotonic'), `${field}.sum.isMonotonic`),
      },
    };
  }
  if ((d = obj(m.histogram, `${field}.histogram`)) !== null) {
    return {
      ...base,
      histogram: {
        dataPoints: objects(d, 'dataPoints', 'data_points', `${field}.histogram`).map(jsonHistogramPoint),
        aggregationTemporality: enumOf(get(d, 'aggregationTemporality', 'aggregation_temporality'), TEMPORALITY, `${field}.histogram.aggregationTemporality`),
      },
    };
  }
  if ((d = obj(get(m, 'exponentialHistogram', 'exponential_histogram'), `${field}.exponentialHistogram`)) !== null) {
    rejections.unsupportedMetric(base.name, 'exponential histogram', arr(get(d, 'dataPoints', 'data_points'), `${field}.exponentialHistogram.dataPoints`).length);
    return null;
  }
  if ((d = obj(m.summary, `${field}.summary`)) !== null) {
    rejections.unsupportedMetric(base.name, 'summary', arr(get(d, 'dataPoints', 'data_points'), `${field}.summary.dataPoints`).length);
    return null;
  }
  return base;
}

export function jsonResourceMetrics(req: J, rejections: Rejections): ResourceMetrics[] {
  return objects(req, 'resourceMetrics', 'resource_metrics', 'request').map((rm, i) => {
    const field = `resourceMetrics[${i}]`;
    return {
      resource: jsonResource(rm, field),
      scopeMetrics: objects(rm, 'scopeMetrics', 'scope_metrics', field).map((sm, j) => {
        const metrics: Metric[] = [];
        const list = objects(sm, 'metrics', 'metrics', `${field}.scopeMetrics[${j}]`);
        for (let k = 0; k < list.length; k++) {
          const metric = jsonMetric(list[k], `${field}.scopeMetrics[${j}].metrics[${k}]`, rejections);
          if (metric !== null) metrics.push(metric);
        }
        return { scope: jsonScope(sm.scope, `${field}.scopeMetrics[${j}].scope`), metrics };
      }),
    };
  });
}

function jsonLogRecord(r: J): LogRecord {
  return {
    timeUnixNano: jsonNanos(get(r, 'timeUnixNano', 'time_unix_nano'), 'logRecord.timeUnixNano'),
    observedTimeUnixNano: jsonNanos(get(r, 'observedTimeUnixNano', 'observed_time_unix_nano'), 'logRecord.observedTimeUnixNano'),
    severityNumber: enumOf(get(r, 'severityNumber', 'severity_number'), SEVERITY, 'logRecord.severityNumber'),
    severityText: str(get(r, 'severityText', 'severity_text'), 'logRecord.severityText'),
    body: jsonAnyValue(r.body, 'logRecord.body'),
    attributes: jsonAttributes(r.attributes, 'logRecord.attributes'),
    traceId: jsonIdHex(get(r, 'traceId', 'trace_id'), 16, 'logRecord.traceId'),
    spanId: jsonIdHex(get(r, 'spanId', 'span_id'), 8, 'logRecord.spanId'),
    eventName: str(get(r, 'eventName', 'event_name'), 'logRecord.eventName'),
  };
}

export function jsonResourceLogs(req: J): ResourceLogs[] {
  return objects(req, 'resourceLogs', 'resource_logs', 'request').map((rl, i) => {
    const field = `resourceLogs[${i}]`;
    return {
      resource: jsonResource(rl, field),
      scopeLogs: objects(rl, 'scopeLogs', 'scope_logs', field).map((sl, j) => ({
        scope: jsonScope(sl.scope, `${field}.scopeLogs[${j}].scope`),
        logRecords: objects(sl, 'logRecords', 'log_records', `${field}.scopeLogs[${j}]`).map(jsonLogRecord),
      })),
    };
  });
}

/** JSON.parse with the failure as an OtlpDecodeError; the top level must be an object. */
export function parseJsonRequest(body: Uint8Array): J {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new OtlpDecodeError(`request must be a JSON object, got ${describe(parsed)}`);
  return parsed as J;
}
