import { OtlpDecodeError } from './errors.js';
import type { Rejections } from './rejections.js';
import { logsRequest } from './wire-logs.js';
import { metricsRequest } from './wire-metrics.js';
import { wireOf } from './wire-reader.js';
import { traceRequest } from './wire-traces.js';
import type { Signal, TelemetryPart } from './telemetry-part.js';

/**
 * OTLP protobuf Export requests read straight from the wire into core/telemetry.ts objects, in one
 * pass (wire-*.ts, one file per .proto of schemas/otlp/): no intermediate protobufjs message
 * objects, no Long per 64-bit value, ids hex-encoded from the request bytes. It reads the same
 * bytes, with the same checks and errors, as protobufjs's generated decoders for those .proto
 * files: unknown fields skipped, packed and unpacked repeated scalars, a repeated singular field
 * keeps its last value, nesting limited to protobufjs's Reader.recursionLimit.
 */

const REQUEST_NAMES = { traces: 'ExportTraceServiceRequest', metrics: 'ExportMetricsServiceRequest', logs: 'ExportLogsServiceRequest' } as const;

/** Decodes one Export*ServiceRequest body into the signal's part. Throws OtlpDecodeError. */
export function decodeProtobufRequest(signal: Signal, body: Buffer, rejections: Rejections): TelemetryPart {
  const w = wireOf(body);
  const part: TelemetryPart = { resourceSpans: [], resourceMetrics: [], resourceLogs: [] };
  try {
    if (signal === 'traces') part.resourceSpans = traceRequest(w);
    else if (signal === 'metrics') part.resourceMetrics = metricsRequest(w, rejections);
    else part.resourceLogs = logsRequest(w);
  } catch (err) {
    throw new OtlpDecodeError(`invalid protobuf ${REQUEST_NAMES[signal]}: ${(err as Error).message}`);
  }
  if (w.idError !== null) throw w.idError;
  return part;
}
