import type { Attributes, Span } from '../../core/telemetry.js';
import { str } from './attrs.js';

/** Spans kept: a parent is exported at most a few export intervals before its children, a few thousand requests' spans. */
export const REQUEST_SPANS_MAX = 20_000;
/** How long a model request's server span waits for an LLM span below it before its call counts as lost. */
export const UNREPORTED_AFTER_MS = 300_000;

export const SPAN_KIND_SERVER = 2;
/** Upstream API actions that are one model call each (the request's `url.path` ends with one). */
const MODEL_CALL_PATHS = [
  '/chat/completions', '/completions', '/messages', '/embeddings', '/responses',
  '/converse', '/converse-stream', '/invoke', '/invoke-with-response-stream',
  ':rawPredict', ':streamRawPredict', ':generateContent', ':streamGenerateContent',
];

interface Bare { parent: string; route: string }

/**
 * What the normalizer knows of LiteLLM's request spans beyond the LLM spans themselves (LiteLLM
 * 1.108 exports the FastAPI spans of each request too):
 * - spans seen without LLM attributes (span id → parent and `http.route`), so that a
 *   `raw_gen_ai_request` span can tell that its parent went out without them;
 * - successful `POST` server spans of model routes, from a LiteLLM resource, that no LLM or raw
 *   span has appeared below yet. In every release captured, each such request has one; one still without it after
 *   UNREPORTED_AFTER_MS is a call LiteLLM sent no usage for (its attributes set on an ended span
 *   with content capture off, so not even a raw span is left).
 * All three are bounded, oldest first out, and keyed by span id alone: random 64-bit ids, whose
 * strings the decoder already made (and V8 hashes once), where `trace:span` keys cost an allocation a span.
 */
export class RequestSpans {
  private readonly bare = new Map<string, Bare>();
  /** Spans an LLM or raw span was seen below. */
  private readonly covered = new Set<string>();
  /** Model requests awaiting their LLM span, with when they were seen. */
  private readonly pending = new Map<string, number>();
  /** Pending requests dropped unjudged because the bound was reached. */
  unverified = 0;

  constructor(private readonly max = REQUEST_SPANS_MAX) {}

  /** A span without LLM attributes; `fromLiteLLM`: its resource is a LiteLLM proxy's (isLiteLLMResource). */
  noteBare(span: Span, now: number, fromLiteLLM: boolean): void {
    const id = span.spanId;
    bounded(this.bare, this.max);
    this.bare.set(id, { parent: span.parentSpanId, route: str(span.attributes, 'http.route') });
    // Its LLM span came first: what is above it is covered too.
    if (this.covered.has(id)) this.cover(span.parentSpanId);
    else if (fromLiteLLM && isModelRequest(span)) {
      if (this.pending.size >= this.max) {
        this.pending.delete(this.pending.keys().next().value as string);
        this.unverified++;
      }
      this.pending.set(id, now);
    }
  }

  /** An LLM span or a raw span: every span above it reported its call. */
  noteReported(span: Span): void {
    this.cover(span.parentSpanId);
  }

  /**
   * When the raw span's parent is a bare span: the `http.route` of it or of its nearest remembered
   * ancestor ('' when none has one). Undefined when the parent is unknown or was an LLM span.
   */
  bareParentRoute(raw: Span): string | undefined {
    let s = this.bare.get(raw.parentSpanId);
    if (s === undefined) return undefined;
    for (let depth = 0; depth < 4 && s.route === '' && s.parent !== ''; depth++) {
      const up = this.bare.get(s.parent);
      if (up === undefined) break;
      s = up;
    }
    return s.route;
  }

  /** Removes and counts the model requests that waited longer than `afterMs` for an LLM span. */
  expire(now: number, afterMs = UNREPORTED_AFTER_MS): number {
    let n = 0;
    for (const [id, at] of this.pending) {
      if (now - at < afterMs) break; // insertion order is arrival order
      this.pending.delete(id);
      n++;
    }
    return n;
  }

  private cover(spanId: string): void {
    for (let depth = 0; depth < 8 && spanId !== ''; depth++) {
      bounded(this.covered, this.max);
      this.covered.add(spanId);
      this.pending.delete(spanId);
      spanId = this.bare.get(spanId)?.parent ?? '';
    }
  }
}

/**
 * LiteLLM's OTel resource always has `model_id` (its OTEL_MODEL_ID, else the service name): other
 * OpenAI-compatible servers' request spans are not judged by what LiteLLM should have sent.
 */
export function isLiteLLMResource(resource: Attributes): boolean {
  return str(resource, 'model_id') !== '';
}

function bounded(m: Map<string, unknown> | Set<string>, max: number): void {
  if (m.size >= max) m.delete(m.keys().next().value as string);
}

/** A successful POST to one of LiteLLM's model-call routes, as its FastAPI instrumentation reports it. */
function isModelRequest(span: Span): boolean {
  const a = span.attributes;
  if (span.kind !== SPAN_KIND_SERVER || str(a, 'http.request.method') !== 'POST') return false;
  const status = Number(a['http.response.status_code']);
  if (!(status >= 200 && status < 300)) return false;
  const path = str(a, 'url.path');
  return MODEL_CALL_PATHS.some((p) => path.endsWith(p));
}
