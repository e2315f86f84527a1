/**
 * Decoded OTLP, as receivers hand it to processors: the OTLP structure with attributes as plain
 * JS values (KeyValue lists become objects). Timestamps stay decimal nanosecond strings, since
 * nanoseconds since 1970 do not fit a double.
 */
export type AnyValue = string | number | boolean | null | Uint8Array | AnyValue[] | { [key: string]: AnyValue };
export type Attributes = Record<string, AnyValue>;

export interface Scope { name: string; version: string; attributes: Attributes }

export interface SpanEvent { timeUnixNano: string; name: string; attributes: Attributes }

export interface Span {
  traceId: string; // lowercase hex, '' when absent
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  events: SpanEvent[];
  status: { code: number; message: string };
}

export interface ResourceSpans { resource: Attributes; scopeSpans: { scope: Scope; spans: Span[] }[] }

export interface NumberDataPoint {
  attributes: Attributes;
  startTimeUnixNano: string;
  timeUnixNano: string;
  value: number;
}

export interface HistogramDataPoint {
  attributes: Attributes;
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: number;
  sum: number | null;
  bucketCounts: number[];
  explicitBounds: number[];
}

/** OTLP AggregationTemporality: 1 delta, 2 cumulative. */
export interface Metric {
  name: string;
  description: string;
  unit: string;
  gauge?: { dataPoints: NumberDataPoint[] };
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean };
  histogram?: { dataPoints: HistogramDataPoint[]; aggregationTemporality: number };
}

export interface ResourceMetrics { resource: Attributes; scopeMetrics: { scope: Scope; metrics: Metric[] }[] }

export interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: Attributes;
  traceId: string;
  spanId: string;
  eventName: string;
}

export interface ResourceLogs { resource: Attributes; scopeLogs: { scope: Scope; logRecords: LogRecord[] }[] }
