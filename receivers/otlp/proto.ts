import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * The OTLP message types, loaded once from schemas/otlp/*.proto with protobufjs reflection
 * (which generates the decode functions at load time). The schemas folder is found by walking up
 * from this file, so the same code works from the sources (tests) and from dist/.
 */
function schemasDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'schemas', 'otlp');
    if (existsSync(join(candidate, 'common.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`schemas/otlp/*.proto not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function loadRoot(): protobuf.Root {
  const dir = schemasDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync(['trace.proto', 'metrics.proto', 'logs.proto', 'status.proto'], { keepCase: false });
  root.resolveAll();
  return root;
}

const root = loadRoot();
const type = (name: string): protobuf.Type => root.lookupType(name);

export const messages = {
  traceRequest: type('opentelemetry.proto.trace.v1.ExportTraceServiceRequest'),
  metricsRequest: type('opentelemetry.proto.metrics.v1.ExportMetricsServiceRequest'),
  logsRequest: type('opentelemetry.proto.logs.v1.ExportLogsServiceRequest'),
  traceResponse: type('opentelemetry.proto.trace.v1.ExportTraceServiceResponse'),
  metricsResponse: type('opentelemetry.proto.metrics.v1.ExportMetricsServiceResponse'),
  logsResponse: type('opentelemetry.proto.logs.v1.ExportLogsServiceResponse'),
  status: type('google.rpc.Status'),
  retryInfo: type('google.rpc.RetryInfo'),
} as const;

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
