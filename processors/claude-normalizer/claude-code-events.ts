import { emptyCall } from '../../core/llm-call.js';
import type { Attributes, LogRecord } from '../../core/telemetry.js';
import { durationMs, firstNum, msToIso, nanosToMs, num, str, tokenCount } from './attrs.js';
import { CLAUDE_CODE_SCOPE, fillClaudeCodeBasics } from './claude-code-basics.js';
import type { ModelProviders } from './providers.js';
import type { LogReader } from './reader.js';
import { requestKey } from './join-keys.js';
import { applyUsage } from './tokens.js';
import type { Extracted } from './types.js';

/**
 * Claude Code `api_request` / `api_error` events (OTLP log records, scope
 * `com.anthropic.claude_code.events`, captured from 2.1.197 and 2.1.330). Tokens are Anthropic's own
 * usage fields, so input already excludes cache; `cache_creation_5m/1h_tokens` exist from ~2.1.2xx on.
 * The record's time is when the response finished: the call started `duration_ms` earlier.
 */
export function isClaudeCodeEvent(scopeName: string, rec: LogRecord): 'api_request' | 'api_error' | '' {
  const name = str(rec.attributes, 'event.name');
  if (name !== 'api_request' && name !== 'api_error') return '';
  if (scopeName.startsWith(CLAUDE_CODE_SCOPE)) return name;
  const body = typeof rec.body === 'string' ? rec.body : '';
  return body === 'claude_code.' + name ? name : '';
}

export function extractClaudeCodeEvent(kind: 'api_request' | 'api_error', resource: Attributes, rec: LogRecord, providers: ModelProviders): Extracted {
  const a = rec.attributes;
  const call = emptyCall();
  fillClaudeCodeBasics(call, resource, a, str(a, 'model'), providers);
  const endMs = nanosToMs(rec.timeUnixNano || rec.observedTimeUnixNano);
  const duration = durationMs(num(a['duration_ms']));
  call.timestamp = msToIso(endMs - duration);
  call.duration_ms = duration;
  call.ttft_ms = num(a['ttft_ms']) ?? null;
  call.trace_id = rec.traceId;
  call.span_id = rec.spanId;
  // Claude Code streams every request (SSE); its rare non-streaming fallback is not marked on the event.
  call.streaming = true;
  const requestId = str(a, 'request_id');
  call.call_id = requestId || `claude_code:${str(a, 'session.id')}:${str(a, 'event.sequence')}`;

  let tokenIssue = '';
  if (kind === 'api_request') {
    tokenIssue = applyUsage(call, {
      input: tokenCount(num(a['input_tokens'])),
      output: tokenCount(num(a['output_tokens'])),
      cacheRead: tokenCount(num(a['cache_read_tokens'])),
      cacheWrite: tokenCount(num(a['cache_creation_tokens'])),
      cacheWrite5m: tokenCount(num(a['cache_creation_5m_tokens'])),
      cacheWrite1h: tokenCount(num(a['cache_creation_1h_tokens'])),
      inputIncludes: 'none',
    });
    const cost = num(a['cost_usd']);
    const micros = num(a['cost_usd_micros']);
    call.reported_cost_usd = cost ?? (micros !== undefined ? micros / 1e6 : null);
  } else {
    call.status = 'error';
    const code = firstNum(a, ['status_code']);
    call.error_type = code !== undefined ? `http_${code}` : 'api_error';
  }
  const keys = requestId ? [requestKey(requestId)] : [];
  return {
    call, shape: 'claude_code_event', keys, tokenIssue, cacheSplitKnown: 'cache_creation_5m_tokens' in a || 'cache_creation_1h_tokens' in a,
    view: { resource, attrs: a, metadataPrefix: '', litellm: null, headers: null },
  };
}

/** `api_request` feeds the Claude Code token totals; with `usage_from: metrics` the events are only counted. */
export const claudeCodeEvents: LogReader = {
  detect: (rec, site) => isClaudeCodeEvent(site.scope.name, rec) !== '',
  read: (rec, site, opts) => {
    const kind = isClaudeCodeEvent(site.scope.name, rec);
    if (kind === '') return null;
    const x = extractClaudeCodeEvent(kind, site.resource, rec, opts.providers);
    return { x, count: kind === 'api_request' ? 'events' : undefined, countOnly: opts.usageFromMetrics };
  },
};
