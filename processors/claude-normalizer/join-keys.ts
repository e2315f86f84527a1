import { createHash } from 'node:crypto';
import type { LlmCall } from '../../core/llm-call.js';
import type { LogRecord, Span } from '../../core/telemetry.js';

/**
 * Every key the join index knows a report by, built and read here only. Join keys name the call:
 * any two reports sharing one are the same call (`req:` provider request id, `rid:` provider response
 * id, `lcid:` LiteLLM call id, `span:` the client span that made the call, `raw:` a raw LiteLLM
 * span, `fp:` session, model and tokens). Record keys name the telemetry record a report was read
 * from (`rec:` span or log record, `uiv:` usage interval): a record seen before is a re-send.
 */

export function requestKey(providerRequestId: string): string {
  return `req:${providerRequestId}`;
}

export function responseKey(responseId: string): string {
  return `rid:${responseId}`;
}

export function litellmCallKey(callId: string): string {
  return `lcid:${callId}`;
}

/** The span that made the call: a client's own span, or the span a gateway saw in `traceparent`. */
export function spanKey(traceId: string, spanId: string): string {
  return `span:${traceId}:${spanId}`;
}

/** A raw_gen_ai_request span without a response id (litellm-ended-span.ts). */
export function rawSpanKey(traceId: string, spanId: string): string {
  return `raw:${traceId}:${spanId}`;
}

/**
 * Session, model and exact tokens: the key that joins a gateway's and a client's report of one call
 * when they share no id (LiteLLM 1.81 keeps neither the upstream request id nor the client's
 * traceparent on /v1/messages). Write tokens are summed: one side may have lost the 5m/1h split.
 */
export function fingerprintKey(c: LlmCall): string {
  return `fp:${c.session_id}:${c.model}:${c.input_tokens}:${c.output_tokens}:${c.cache_read_tokens}:${c.cache_write_5m_tokens + c.cache_write_1h_tokens}`;
}

export function isFingerprintKey(key: string): boolean {
  return key.startsWith('fp:');
}

/**
 * The identity of the telemetry record a report was read from (`rec:` keys), whatever ids the
 * provider gave: an OTLP exporter that re-sends an unacknowledged request re-sends the same span
 * (same trace and span id) or log record (same bytes), so a second report carrying a `rec:` key
 * already indexed is that record again, never another call.
 */
export function spanRecordKey(span: Span): string {
  if (span.traceId !== '' && span.spanId !== '') return `rec:span:${span.traceId}:${span.spanId}`;
  return `rec:span:${digest([span.name, span.startTimeUnixNano, span.endTimeUnixNano, span.attributes])}`;
}

/** OTLP log records have no id: their time, trace context, name, body and attributes are the record. */
export function logRecordKey(rec: LogRecord): string {
  return `rec:log:${digest([rec.timeUnixNano, rec.observedTimeUnixNano, rec.traceId, rec.spanId, rec.eventName, rec.severityNumber, rec.body, rec.attributes])}`;
}

/** A usage-interval data point's record key: its call id names the series and the interval's end. */
export function usageIntervalKey(callId: string): string {
  return `uiv:${callId}`;
}

/** The prefixes of record keys; the Redis store's RESOLVE script is written with them (join-store-scripts.ts). */
export const RECORD_KEY_PREFIXES = ['rec:', 'uiv:'] as const;

/** Whether `key` is a record key (the identity of a telemetry record read), not a join key of the call. */
export function isRecordKey(key: string): boolean {
  return RECORD_KEY_PREFIXES.some((p) => key.startsWith(p));
}

/** Two reports carry the same kind of id (request, response, LiteLLM call id) with different values. */
export function idsConflict(a: readonly string[], b: readonly string[]): boolean {
  for (const ka of a) {
    const kind = ka.slice(0, ka.indexOf(':') + 1);
    if (kind === 'fp:' || kind === 'span:' || kind === 'rec:') continue;
    for (const kb of b) if (kb.startsWith(kind) && kb !== ka) return true;
  }
  return false;
}

/** 128 bits of SHA-256: collisions between distinct records are out of reach (a 32-bit hash is not, at 50 000 entries). */
function digest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}
