import { emptyBatch } from '../../core/batch.js';
import type { ReceiverContext } from '../../core/component.js';
import { PermanentError, isRetryable } from '../../core/errors.js';
import type { Attributes } from '../../core/telemetry.js';
import { countItems, decodeExportRequest, encodeExportResponse, GrpcCode, OtlpDecodeError, type DecodedExport, type Encoding, type Signal, type TelemetryPart } from './codec/codec.js';
import type { Admission } from './admission.js';
import type { ReceiverMetrics, RefusalReason, Transport } from './metrics.js';
import type { ThrottledLog } from './throttled-log.js';

/** What a transport answers: the encoded Export response, or an error it maps to its own status. */
export type ExportOutcome =
  | { ok: true; body: Uint8Array }
  | { ok: false; error: ExportFailure };

export interface ExportFailure {
  code: GrpcCode;
  httpStatus: number;
  message: string;
  reason: RefusalReason;
  retryAfterSeconds?: number;
}

/** Who sent a request and when, for admission: `arrivedMs` and `deadlineMs` on performance.now()'s clock. */
export interface RequestInfo {
  client: string;
  arrivedMs: number;
  /** The client's own deadline (gRPC), when it set one. */
  deadlineMs?: number;
  /** Whether the client went away (nothing to answer, no point in processing). */
  gone: () => boolean;
}

export function failure(reason: RefusalReason, code: GrpcCode, httpStatus: number, message: string, retryAfterSeconds?: number): ExportFailure {
  return retryAfterSeconds === undefined ? { reason, code, httpStatus, message } : { reason, code, httpStatus, message, retryAfterSeconds };
}

/**
 * Decode → batch → pipeline → answer, shared by gRPC and HTTP. The answer is success only once
 * `ctx.next.consume` resolved, i.e. every exporter of every pipeline took the data.
 * Pipeline errors map like the collector's OTLP receiver: RetryableError → UNAVAILABLE / 503 with
 * the delay it names; PermanentError → INVALID_ARGUMENT / 400; anything else → UNAVAILABLE / 503
 * too, since a non-retryable answer would make the client drop data over what may be transient.
 */
export class ExportHandler {
  constructor(
    private readonly ctx: ReceiverContext,
    private readonly metrics: ReceiverMetrics,
    private readonly headerAttributes: ReadonlyArray<readonly [header: string, attribute: string]>,
    private readonly retryAfterSeconds: number,
    private readonly admission: Admission,
    private readonly maxQueueWaitMs: number,
    private readonly throttled: ThrottledLog,
  ) {}

  /** Waits for admission to the pipeline (refusing early when it cannot come in time), then processes the request. */
  async handle(transport: Transport, signal: Signal, body: Uint8Array, encoding: Encoding, header: (name: string) => string | undefined, request: RequestInfo): Promise<ExportOutcome> {
    const waitMs = Math.min(request.arrivedMs + this.maxQueueWaitMs, request.deadlineMs ?? Infinity) - performance.now();
    const slot = await this.admission.enter(request.client, waitMs);
    if (slot === 'queue_full' || slot === 'queue_timeout') {
      const message = slot === 'queue_full'
        ? 'too many requests waiting for the pipeline, retry later'
        : `request not admitted to the pipeline within ${this.maxQueueWaitMs} ms, retry later`;
      return { ok: false, error: this.refuse(transport, signal, failure(slot, GrpcCode.UNAVAILABLE, 503, message, this.retryAfterSeconds)) };
    }
    try {
      if (request.gone()) return { ok: false, error: this.refuse(transport, signal, failure('client_gone', GrpcCode.CANCELLED, 499, 'client went away before its request was processed')) };
      return await this.process(transport, signal, body, encoding, header);
    } finally {
      slot();
    }
  }

  private async process(transport: Transport, signal: Signal, body: Uint8Array, encoding: Encoding, header: (name: string) => string | undefined): Promise<ExportOutcome> {
    const labels = { receiver: this.ctx.id, transport, signal };
    // Only counts cross the await below: the decoded telemetry stays in deliver()'s synchronous
    // frame, so that it can die young while the exporters' acknowledgement is awaited.
    const started = this.deliver(transport, signal, body, encoding, header);
    if ('reason' in started) return { ok: false, error: this.refuse(transport, signal, started) };
    const { items, rejected, rejectedMessage, consumed } = started;
    try {
      await consumed;
    } catch (err) {
      const f = pipelineFailure(err, this.retryAfterSeconds);
      this.metrics.refusedItems.inc({ ...labels, reason: f.reason }, items);
      return { ok: false, error: this.refuse(transport, signal, f, err) };
    }
    this.metrics.accepted.inc(labels, items);
    if (rejected > 0) {
      this.metrics.refusedItems.inc({ ...labels, reason: 'unsupported_metric_type' }, rejected);
      this.metrics.refusedRequests.inc({ ...labels, reason: 'unsupported_metric_type' });
      this.ctx.logger.warn('partial success: items rejected', { transport, signal, rejected, reason: rejectedMessage });
    }
    return { ok: true, body: encodeExportResponse(signal, encoding, { rejected, errorMessage: rejectedMessage }) };
  }

  /** Decodes the request and hands it to the pipeline; what it returns holds no telemetry. */
  private deliver(transport: Transport, signal: Signal, body: Uint8Array, encoding: Encoding, header: (name: string) => string | undefined): ExportFailure | { items: number; rejected: number; rejectedMessage: string; consumed: Promise<void> | undefined } {
    const decoded = tryDecode(signal, body, encoding);
    if ('reason' in decoded) return decoded;
    const { part, rejected, rejectedMessage } = decoded;
    this.copyHeaders(part, header);
    const items = countItems(part);
    let consumed: Promise<void> | undefined;
    if (items > 0) {
      try {
        consumed = this.ctx.next.consume({ ...emptyBatch({ receiver: this.ctx.id, transport }), ...part });
      } catch (err) {
        consumed = Promise.reject(err);
      }
    }
    return { items, rejected, rejectedMessage, consumed };
  }

  /** Counts and logs a refusal; returns it for the transport to answer with. */
  refuse(transport: Transport, signal: Signal | 'unknown', f: ExportFailure, err?: unknown): ExportFailure {
    this.metrics.refusedRequests.inc({ receiver: this.ctx.id, transport, signal, reason: f.reason });
    const fields = { transport, signal, reason: f.reason, status: f.httpStatus, grpc_code: f.code, message: f.message, ...(f.reason === 'pipeline_error' ? { err } : {}) };
    if (f.reason === 'pipeline_error') this.ctx.logger.error('request refused: pipeline failed', fields);
    else if (f.reason === 'client_gone') this.ctx.logger.debug('request dropped: client went away', fields);
    // A retryable refusal loses nothing (the client sends again) and comes in floods under back-pressure or attack.
    else if (f.retryAfterSeconds !== undefined) this.throttled.warn(f.reason, 'requests refused, clients to retry (one line per reason every 10 s)', fields);
    else this.ctx.logger.warn('request refused', fields);
    return f;
  }

  /** Copies configured request headers into every resource's attributes. */
  private copyHeaders(part: TelemetryPart, header: (name: string) => string | undefined): void {
    if (this.headerAttributes.length === 0) return;
    const found: Attributes = {};
    let any = false;
    for (const [name, attribute] of this.headerAttributes) {
      const v = header(name);
      if (v !== undefined) { found[attribute] = v; any = true; }
    }
    if (!any) return;
    for (const r of part.resourceSpans) Object.assign(r.resource, found);
    for (const r of part.resourceMetrics) Object.assign(r.resource, found);
    for (const r of part.resourceLogs) Object.assign(r.resource, found);
  }
}

function tryDecode(signal: Signal, body: Uint8Array, encoding: Encoding): DecodedExport | ExportFailure {
  try {
    return decodeExportRequest(signal, body, encoding);
  } catch (err) {
    if (!(err instanceof OtlpDecodeError)) throw err;
    return failure('bad_request', GrpcCode.INVALID_ARGUMENT, 400, err.message);
  }
}

function pipelineFailure(err: unknown, retryAfterSeconds: number): ExportFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (isRetryable(err)) return failure('pipeline_retryable', GrpcCode.UNAVAILABLE, 503, `pipeline cannot take the data now, retry later: ${message}`, err.retryAfterSeconds);
  if (err instanceof PermanentError) return failure('pipeline_permanent', GrpcCode.INVALID_ARGUMENT, 400, `pipeline rejected the data: ${message}`);
  return failure('pipeline_error', GrpcCode.UNAVAILABLE, 503, `pipeline failed, retry later: ${message}`, retryAfterSeconds);
}
