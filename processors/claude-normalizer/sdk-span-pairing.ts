import type { Attributes, Span } from '../../core/telemetry.js';
import { firstNum, firstStr, nanosToMs, str } from './attrs.js';
import { boundString, MAX_STRING_LENGTH } from './bounded-strings.js';
import { classifyGenAI } from './genai-semconv.js';
import { spanKey } from './join-keys.js';
import { isOpenInferenceLlm } from './openinference.js';
import type { Extracted } from './types.js';

/**
 * The Anthropic SDK's own tracing (genai-dialects.ts, ANTHROPIC_SDK) reports every call that an
 * instrumentation library wrapping the SDK reports too. A non-streamed call's SDK span is the
 * child of the library's span (joined by the parent key), but often they share no id: a streamed
 * call's SDK span lands in another trace (OpenInference starts `messages.stream` without making
 * it current), and OpenLLMetry's span of a failed call carries no request id. What still ties
 * them, in every library's captures: the same process (resource), spans that overlap in time, the
 * same model and the same output count (or both failed). Overlap, not nesting: the SDK span usually
 * starts while the library's runs, but OpenInference's npm span of a streamed call starts after
 * the SDK's (4 ms after, on a loaded machine: test/fixtures/sources/openinference-js/0.2.8-loaded)
 * and ends on the stream's final message, before the SDK's, which ends when the stream closes.
 *
 * The two spans usually come in one export, but an export may fall between their ends: spans of
 * the last WINDOW_MS are remembered (at most MAX_REMEMBERED, per process: replicas behind a load
 * balancer that splits one app's exports do not pair across replicas). Each SDK span pairs with
 * one library span, closest start first, so concurrent identical calls still pair one to one; a
 * pair once made is remembered, so a re-sent export pairs the same way.
 */
const SDK_SCOPE = 'com.anthropic.sdk';
const MODEL_KEYS = ['gen_ai.response.model', 'gen_ai.request.model'];
const WRAPPER_MODEL_KEYS = ['llm.model_name', 'gen_ai.response.model', 'gen_ai.request.model'];
const OUTPUT_KEYS = ['llm.token_count.completion', 'gen_ai.usage.output_tokens'];
const WINDOW_MS = 60_000;
const MAX_REMEMBERED = 4096;

interface Seen {
  key: string;
  /** `span:trace:parent`, '' for a root span. */
  parentKey: string;
  startMs: number;
  endMs: number;
  sdk: boolean;
  /** Resource, model and output (or failure): only spans with the same match can pair. */
  match: string;
  seenAt: number;
}

/** A span the generic readers may bill (OpenInference LLM or semconv model call). */
export function isGenericCallSpan(span: Span): boolean {
  return isOpenInferenceLlm(span.attributes) || classifyGenAI(span.attributes) !== 'none';
}

/** The report of a span, also known by the key of the span it pairs with. */
export function withSdkPair(x: Extracted, key: string | undefined): Extracted {
  if (key !== undefined) x.keys.push(key);
  return x;
}

export class SdkSpanPairing {
  private readonly seen = new Map<string, Seen[]>();
  private readonly order: Seen[] = [];
  /** Pairs made: each span's key → the key of the span it paired with, both ways. */
  private readonly pairs = new Map<string, string>();

  /**
   * For each of `spans` (one resource's spans the generic readers read, with their scope names)
   * that pairs with an SDK or library span (of this export or a recent one), the other's key.
   */
  pair(resourceAttrs: Attributes, spans: readonly { span: Span; scope: string }[], now: number): Map<Span, string> {
    this.expire(now);
    const out = new Map<Span, string>();
    const resource = resourceKey(resourceAttrs);
    const fresh: { span: Span; s: Seen }[] = [];
    for (const { span, scope } of spans) {
      if (!isGenericCallSpan(span)) continue;
      const s = seenOf(span, scope.startsWith(SDK_SCOPE), resource, now);
      const known = this.pairs.get(s.key);
      if (known !== undefined) out.set(span, known);
      else fresh.push({ span, s });
    }
    for (const { s } of fresh) this.remember(s);
    // SDK spans against library spans: each takes the overlapping span of the other kind that closest() ranks first.
    for (const { span, s } of fresh) {
      if (this.pairs.has(s.key)) continue;
      const other = this.closest(s);
      if (other === undefined) continue;
      this.pairs.set(s.key, other.key);
      this.pairs.set(other.key, s.key);
      out.set(span, other.key);
    }
    return out;
  }

  /**
   * The unpaired span of the other kind that `s` pairs with, among those overlapping it: the SDK
   * span starting nearest at or after the library span's start, failing that the nearest before
   * it. A parent and its child SDK span are joined by the parent key already.
   */
  private closest(s: Seen): Seen | undefined {
    if (this.linked(s)) return undefined;
    let best: Seen | undefined;
    let bestRank = Infinity;
    for (const o of this.seen.get(s.match) ?? []) {
      if (o.sdk === s.sdk || this.pairs.has(o.key) || this.linked(o)) continue;
      const [wrapper, inner] = s.sdk ? [o, s] : [s, o];
      if (inner.startMs > wrapper.endMs || wrapper.startMs > inner.endMs) continue;
      const gap = inner.startMs - wrapper.startMs;
      const rank = gap >= 0 ? gap : WINDOW_MS - gap;
      if (rank < bestRank) { best = o; bestRank = rank; }
    }
    return best;
  }

  /** Whether a span is the parent or the child of a span of the other kind seen: linked by the parent key. */
  private linked(s: Seen): boolean {
    for (const o of this.seen.get(s.match) ?? []) {
      if (o.sdk !== s.sdk && (o.parentKey === s.key || s.parentKey === o.key)) return true;
    }
    return false;
  }

  private remember(s: Seen): void {
    const list = this.seen.get(s.match);
    if (list === undefined) this.seen.set(s.match, [s]);
    else list.push(s);
    this.order.push(s);
    if (this.order.length > MAX_REMEMBERED) this.forget(this.order.shift()!);
  }

  private expire(now: number): void {
    while (this.order.length > 0 && now - this.order[0].seenAt > WINDOW_MS) this.forget(this.order.shift()!);
  }

  private forget(s: Seen): void {
    const list = this.seen.get(s.match);
    if (list !== undefined) {
      const rest = list.filter((o) => o !== s);
      if (rest.length === 0) this.seen.delete(s.match);
      else this.seen.set(s.match, rest);
    }
    const other = this.pairs.get(s.key);
    this.pairs.delete(s.key);
    if (other !== undefined) this.pairs.delete(other);
  }
}

/** Capped: remembered spans must not keep a multi-megabyte attribute alive (bounded-strings.ts). */
function resourceKey(r: Attributes): string {
  return boundString([str(r, 'service.name'), str(r, 'service.instance.id'), str(r, 'host.name'), str(r, 'process.pid')].join('|'), MAX_STRING_LENGTH);
}

function seenOf(span: Span, sdk: boolean, resource: string, now: number): Seen {
  const a = span.attributes;
  const model = boundString(firstStr(a, sdk ? MODEL_KEYS : WRAPPER_MODEL_KEYS), MAX_STRING_LENGTH);
  const out = firstNum(a, OUTPUT_KEYS);
  const outcome = out !== undefined ? `out=${out}` : span.status.code === 2 ? 'failed' : 'none';
  return {
    key: spanKey(span.traceId, span.spanId), parentKey: span.parentSpanId === '' ? '' : spanKey(span.traceId, span.parentSpanId), sdk, seenAt: now,
    startMs: nanosToMs(span.startTimeUnixNano), endMs: nanosToMs(span.endTimeUnixNano),
    // A span with neither output nor failure (a usage-less request span) never pairs: its match names its own key.
    match: outcome === 'none' || model === '' ? `${span.traceId}:${span.spanId}` : `${resource}|${model}|${outcome}`,
  };
}
