import type { Span } from '../../core/telemetry.js';
import { extractLiteLLM } from './litellm-extract.js';
import type { LiteLLMLayout } from './litellm-layout.js';
import { SPAN_KIND_SERVER } from './litellm-request-spans.js';
import type { SpanReader, SpanSite } from './reader.js';
import { hasTokens } from './tokens.js';

/** The reader of one of LiteLLM's span layouts (litellm-legacy.ts, litellm-semconv.ts, litellm-v2.ts). */
export function litellmReader(layout: LiteLLMLayout): SpanReader {
  return {
    family: 'litellm',
    detect: (span) => layout.detect(span.attributes),
    read: (span, site, opts) => {
      const x = extractLiteLLM(layout, site.resource, site.scope.version, span, clientSpanOf(span, site), opts.litellm);
      // A successful call logged without usage (streamed pass-through before 1.108) bills nothing:
      // flagged, kept only as a link, so a client's report of the call is still one record.
      if (x.call.status === 'ok' && !hasTokens(x.call)) {
        x.tokenIssue ||= 'missing_usage';
        x.linkOnly = true;
      }
      return { x };
    },
  };
}

/**
 * The span id of the client's span that called LiteLLM, when the client propagated `traceparent`:
 * the parent of LiteLLM's SERVER root span — the LLM span itself from 1.81 on, its parent
 * `Received Proxy Server Request` (`litellm_request` child), or a few levels up in V2
 * (`chat …` → `fastapi.dependencies` → `POST /…`). '' when that chain is not in the batch.
 */
function clientSpanOf(span: Span, site: SpanSite): string {
  let s: Span | undefined = span;
  for (let depth = 0; depth < 8 && s !== undefined && s.parentSpanId !== ''; depth++) {
    if (s.kind === SPAN_KIND_SERVER || s.name === 'Received Proxy Server Request') return s.parentSpanId;
    s = site.spanById(s.parentSpanId);
  }
  return '';
}
