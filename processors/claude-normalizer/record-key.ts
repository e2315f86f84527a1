import { createHash } from 'node:crypto';
import type { LogRecord, Span } from '../../core/telemetry.js';

/**
 * The identity of the telemetry record a report was read from (`rec:` keys), whatever ids the
 * provider gave: an OTLP exporter that re-sends an unacknowledged request re-sends the same span
 * (same trace and span id) or log record (same bytes), so a second report carrying a `rec:` key
 * already indexed is that record again, never another call. Usage-interval data points have theirs
 * in `uiv:` (series and end time).
 */
export function spanRecordKey(span: Span): string {
  if (span.traceId !== '' && span.spanId !== '') return `rec:span:${span.traceId}:${span.spanId}`;
  return `rec:span:${digest([span.name, span.startTimeUnixNano, span.endTimeUnixNano, span.attributes])}`;
}

/** Whether `key` is a record key (the identity of a telemetry record read), not a join key of the call. */
export function isRecordKey(key: string): boolean {
  return key.startsWith('rec:') || key.startsWith('uiv:');
}

/** OTLP log records have no id: their time, trace context, name, body and attributes are the record. */
export function logRecordKey(rec: LogRecord): string {
  return `rec:log:${digest([rec.timeUnixNano, rec.observedTimeUnixNano, rec.traceId, rec.spanId, rec.eventName, rec.severityNumber, rec.body, rec.attributes])}`;
}

/** 128 bits of SHA-256: collisions between distinct records are out of reach (a 32-bit hash is not, at 50 000 entries). */
function digest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}
