import { OtlpDecodeError } from './errors.js';
import { jsonResourceLogs, jsonResourceMetrics, jsonResourceSpans, parseJsonRequest } from './from-json.js';
import { decodeProtobufRequest } from './from-wire.js';
import { messages } from './proto.js';
import { Rejections } from './rejections.js';
import type { Encoding, Signal, TelemetryPart } from './telemetry-part.js';

/**
 * OTLP Export requests and responses, in protobuf and JSON, for every signal. Used by the OTLP
 * receiver, `tokenledger process` and the benchmark: nothing here starts a server.
 */

export { OtlpDecodeError } from './errors.js';

export type { Encoding, Signal, TelemetryPart } from './telemetry-part.js';

export interface DecodedExport {
  part: TelemetryPart;
  /** Items decoded but left out (exponential histogram and summary points): OTLP partial success. */
  rejected: number;
  rejectedMessage: string;
}

const RESPONSE_TYPES = { traces: messages.traceResponse, metrics: messages.metricsResponse, logs: messages.logsResponse } as const;
const REJECTED_FIELD = { traces: 'rejectedSpans', metrics: 'rejectedDataPoints', logs: 'rejectedLogRecords' } as const;

function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function decodeJson(signal: Signal, body: Uint8Array, rejections: Rejections): TelemetryPart {
  const part: TelemetryPart = { resourceSpans: [], resourceMetrics: [], resourceLogs: [] };
  try {
    const req = parseJsonRequest(body);
    if (signal === 'traces') part.resourceSpans = jsonResourceSpans(req);
    else if (signal === 'metrics') part.resourceMetrics = jsonResourceMetrics(req, rejections);
    else part.resourceLogs = jsonResourceLogs(req);
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err;
    // e.g. RangeError from absurdly deep AnyValue nesting: still the client's bad input.
    throw new OtlpDecodeError(`undecodable ${signal} request: ${(err as Error).message}`);
  }
  return part;
}

/** Decodes one Export*ServiceRequest body (already decompressed) into core/telemetry.ts form. */
export function decodeExportRequest(signal: Signal, body: Uint8Array, encoding: Encoding): DecodedExport {
  const rejections = new Rejections();
  const part = encoding === 'protobuf'
    // A Buffer, so that strings decode natively and ids hex-encode straight from the body.
    ? decodeProtobufRequest(signal, asBuffer(body), rejections)
    : decodeJson(signal, body, rejections);
  return { part, rejected: rejections.count, rejectedMessage: rejections.message };
}

/** Decodes one Export*ServiceRequest body; only the signal's array is non-empty. Throws OtlpDecodeError. */
export function decodeExport(signal: Signal, body: Uint8Array, encoding: Encoding): TelemetryPart {
  return decodeExportRequest(signal, body, encoding).part;
}

export interface PartialSuccess { rejected: number; errorMessage: string }

/** The Export*ServiceResponse body; `partial_success` only when something was rejected or said. */
export function encodeExportResponse(signal: Signal, encoding: Encoding, partialSuccess?: PartialSuccess): Uint8Array {
  const hasPartial = partialSuccess !== undefined && (partialSuccess.rejected > 0 || partialSuccess.errorMessage !== '');
  if (!hasPartial) return encoding === 'json' ? Buffer.from('{}') : new Uint8Array(0);
  // Default values are left out, as proto3 does; JSON writes int64 as a string.
  const partial: Record<string, string | number> = {};
  if (partialSuccess.rejected > 0) partial[REJECTED_FIELD[signal]] = encoding === 'json' ? String(partialSuccess.rejected) : partialSuccess.rejected;
  if (partialSuccess.errorMessage !== '') partial.errorMessage = partialSuccess.errorMessage;
  if (encoding === 'json') return Buffer.from(JSON.stringify({ partialSuccess: partial }));
  return RESPONSE_TYPES[signal].encode({ partialSuccess: partial }).finish();
}

/** gRPC status codes (also google.rpc.Code). */
export const GrpcCode = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * A google.rpc.Status: the OTLP/HTTP error body, and (protobuf) the gRPC `grpc-status-details-bin`
 * trailer. With `retryAfterSeconds`, it carries a google.rpc.RetryInfo detail, which OTLP clients
 * honour as the delay before retrying.
 */
export function encodeStatus(encoding: Encoding, code: GrpcCode, message: string, retryAfterSeconds?: number): Uint8Array {
  if (encoding === 'json') {
    const details = retryAfterSeconds === undefined ? [] : [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${retryAfterSeconds}s` }];
    return Buffer.from(JSON.stringify({ code, message, details }));
  }
  const details = retryAfterSeconds === undefined ? [] : [{
    typeUrl: RETRY_INFO_TYPE_URL,
    value: messages.retryInfo.encode({ retryDelay: { seconds: Math.max(0, Math.ceil(retryAfterSeconds)) } }).finish(),
  }];
  return messages.status.encode({ code, message, details }).finish();
}

/** Spans, metric data points or log records in a decoded part: the unit OTLP counts in. */
export function countItems(part: TelemetryPart): number {
  let n = 0;
  for (const rs of part.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  for (const rm of part.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) n += (m.gauge ?? m.sum ?? m.histogram)?.dataPoints.length ?? 0;
    }
  }
  for (const rl of part.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}
