import { emptyCall } from '../../core/llm-call.js';
import type { Attributes, Span } from '../../core/telemetry.js';
import { bool, durationMs, msToIso, nanosToMs, num, str, tokenCount } from './attrs.js';
import { CLAUDE_CODE_SCOPE, fillClaudeCodeBasics } from './claude-code-basics.js';
import { requestKey, spanKey } from './join-keys.js';
import type { ModelProviders } from './providers.js';
import type { SpanReader } from './reader.js';
import { applyUsage } from './tokens.js';
import type { Extracted } from './types.js';

/**
 * Claude Code beta traces (scope `com.anthropic.claude_code.tracing`, 2.1.330): one
 * `claude_code.llm_request` span per API call, carrying the same usage as the `api_request` event
 * but no 5m/1h cache split. Its span id is the `traceparent` Claude Code sends upstream
 * (CLAUDE_CODE_PROPAGATE_TRACEPARENT=1), which is how a gateway's report of the call joins it.
 * The interaction and tool spans also carry gen_ai.* keys; they are not model calls.
 */
export function isClaudeCodeLlmSpan(span: Span): boolean {
  return span.name === 'claude_code.llm_request';
}

export function extractClaudeCodeSpan(resource: Attributes, span: Span, providers: ModelProviders): Extracted {
  const a = span.attributes;
  const call = emptyCall();
  fillClaudeCodeBasics(call, resource, a, str(a, 'model') || str(a, 'gen_ai.request.model'), providers);
  const startMs = nanosToMs(span.startTimeUnixNano);
  call.timestamp = msToIso(startMs);
  call.duration_ms = durationMs(num(a['duration_ms']) ?? nanosToMs(span.endTimeUnixNano) - startMs);
  call.ttft_ms = num(a['ttft_ms']) ?? null;
  call.trace_id = span.traceId;
  call.span_id = span.spanId;
  call.streaming = true;
  const requestId = str(a, 'request_id') || str(a, 'gen_ai.response.id');
  call.call_id = requestId || `${span.traceId}:${span.spanId}`;
  if (bool(a['success']) === false || span.status.code === 2) {
    call.status = 'error';
    call.error_type = str(a, 'error.type') || str(a, 'status_code') || 'api_error';
  }
  const tokenIssue = applyUsage(call, {
    input: tokenCount(num(a['input_tokens'])),
    output: tokenCount(num(a['output_tokens'])),
    cacheRead: tokenCount(num(a['cache_read_tokens'])),
    cacheWrite: tokenCount(num(a['cache_creation_tokens'])),
    inputIncludes: 'none',
  });
  const keys = [spanKey(span.traceId, span.spanId)];
  if (requestId) keys.push(requestKey(requestId));
  return {
    call, shape: 'claude_code_trace', keys, tokenIssue,
    view: { resource, attrs: a, metadataPrefix: '', litellm: null, headers: null },
  };
}

/** Claude Code's spans: its llm_request span links the call (the api_request event bills it); its other spans are not calls. */
export const claudeCodeSpans: SpanReader = {
  family: 'claude_code',
  detect: (span, site) => isClaudeCodeLlmSpan(span) || site.scope.name.startsWith(CLAUDE_CODE_SCOPE),
  read: (span, site, opts) => {
    // The api_request event bills the call; the span only links it (to LiteLLM through traceparent).
    if (!isClaudeCodeLlmSpan(span) || opts.usageFromMetrics) return null;
    return { x: { ...extractClaudeCodeSpan(site.resource, span, opts.providers), linkOnly: true } };
  },
};
