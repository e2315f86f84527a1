import type { ResourceSpans, Span } from '../../core/telemetry.js';
import { firstNum, firstStr, nanosToMs } from './attrs.js';
import { classifyGenAI } from './genai-semconv.js';
import { isOpenInferenceLlm } from './openinference.js';
import type { Extracted } from './types.js';

/**
 * The Anthropic SDK's own tracing (genai-dialects.ts, ANTHROPIC_SDK) reports every call that an
 * instrumentation library wrapping the SDK reports too. A non-streamed call's SDK span is the
 * child of the library's span (joined by the parent key), but a streamed call's is not: OpenInference
 * starts its `messages.stream` span without making it current, so the SDK span lands in another
 * trace with no id in common. What still ties them, in the captures of every library: the same
 * process (one resource), the SDK span lying within the library's span in time, the same model and
 * the same output count (or both failed). Each library span gets the key of the closest such SDK
 * span, each SDK span used once, so concurrent identical calls still pair one to one.
 */
const SDK_SCOPE = 'com.anthropic.sdk';
const MODEL_KEYS = ['gen_ai.response.model', 'gen_ai.request.model'];
const WRAPPER_MODEL_KEYS = ['llm.model_name', 'gen_ai.response.model', 'gen_ai.request.model'];
const OUTPUT_KEYS = ['llm.token_count.completion', 'gen_ai.usage.output_tokens'];

/** The join key (`span:trace:span` of the SDK span) for each library span that wraps an SDK span of another trace. */
export function pairSdkSpans(rs: ResourceSpans, isCall: (span: Span) => boolean): Map<Span, string> {
  const paired = new Map<Span, string>();
  const sdk: Span[] = [];
  for (const ss of rs.scopeSpans) if (ss.scope.name.startsWith(SDK_SCOPE)) sdk.push(...ss.spans);
  if (sdk.length === 0) return paired;
  const used = new Set<Span>();
  for (const ss of rs.scopeSpans) {
    if (ss.scope.name.startsWith(SDK_SCOPE)) continue;
    for (const w of ss.spans) {
      if (!isCall(w)) continue;
      let best: Span | undefined;
      let bestGap = Infinity;
      for (const s of sdk) {
        if (used.has(s) || s.traceId === w.traceId || !sameCall(w, s)) continue;
        const gap = nanosToMs(s.startTimeUnixNano) - nanosToMs(w.startTimeUnixNano);
        if (gap < bestGap) { best = s; bestGap = gap; }
      }
      if (best === undefined) continue;
      used.add(best);
      paired.set(w, `span:${best.traceId}:${best.spanId}`);
    }
  }
  return paired;
}

function sameCall(w: Span, s: Span): boolean {
  if (nanosToMs(s.startTimeUnixNano) < nanosToMs(w.startTimeUnixNano) || nanosToMs(s.endTimeUnixNano) > nanosToMs(w.endTimeUnixNano)) return false;
  const model = firstStr(s.attributes, MODEL_KEYS);
  if (model === '' || model !== firstStr(w.attributes, WRAPPER_MODEL_KEYS)) return false;
  const out = firstNum(s.attributes, OUTPUT_KEYS);
  if (out !== undefined) return out === firstNum(w.attributes, OUTPUT_KEYS);
  return s.status.code === 2 && w.status.code === 2;
}

/** A span the generic readers may bill (OpenInference LLM or semconv model call). */
export function isGenericCallSpan(span: Span): boolean {
  return isOpenInferenceLlm(span.attributes) || classifyGenAI(span.attributes) !== 'none';
}

/** The report of a library span, also known by the key of the SDK span it wraps. */
export function withSdkPair(x: Extracted, key: string | undefined): Extracted {
  if (key !== undefined) x.keys.push(key);
  return x;
}
