import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import type { Attributes, Span } from '../../../core/telemetry.js';
import { batchOf, metricValue } from '../../helpers/context.js';
import { finalRecords, FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';

/**
 * Exactly-once between Claude Code and LiteLLM, in the shapes the Claude Code → LiteLLM e2e
 * captured (test/fixtures/claude-code-via-litellm/), cut down to what each case needs.
 */
const SESSION = '5bf46ebe-91e3-4794-9a43-d0dd82667da3';
const T0 = 1795545564000;
const nanos = (ms: number) => `${ms}000000`;

/** Claude Code 2.1.330's api_request event; no request id, as through LiteLLM's /v1/messages. */
function ccEvent(o: { startMs: number; seq: number; input?: number; split?: [number, number]; traceId?: string; spanId?: string; session?: string }): Batch {
  const [m5, h1] = o.split ?? [1200, 300];
  const attributes: Attributes = {
    'event.name': 'api_request', 'event.sequence': o.seq, 'session.id': o.session ?? SESSION, model: 'claude-sonnet-4-5-20250929',
    input_tokens: o.input ?? 230, output_tokens: 63, cache_read_tokens: 9800, cache_creation_tokens: m5 + h1,
    cache_creation_5m_tokens: m5, cache_creation_1h_tokens: h1, cost_usd: 0.010875, duration_ms: 900,
  };
  return batchOf({ resourceLogs: [{ resource: { 'service.name': 'claude-code', 'team.id': 'platform' }, scopeLogs: [{
    scope: { name: 'com.anthropic.claude_code.events', version: '2.1.330', attributes: {} },
    logRecords: [{ timeUnixNano: nanos(o.startMs + 900), observedTimeUnixNano: '0', severityNumber: 9, severityText: '', body: 'claude_code.api_request', attributes, traceId: o.traceId ?? '', spanId: o.spanId ?? '', eventName: '' }],
  }] }] });
}

/** Claude Code's beta llm_request span of the same call (no 5m/1h split, no request id). */
function ccSpan(o: { startMs: number; traceId: string; spanId: string; parentSpanId: string }): Batch {
  const span: Span = {
    traceId: o.traceId, spanId: o.spanId, parentSpanId: o.parentSpanId, name: 'claude_code.llm_request', kind: 1,
    startTimeUnixNano: nanos(o.startMs), endTimeUnixNano: nanos(o.startMs + 900), status: { code: 0, message: '' }, events: [],
    attributes: { 'session.id': SESSION, model: 'claude-sonnet-4-5-20250929', input_tokens: 230, output_tokens: 63, cache_read_tokens: 9800, cache_creation_tokens: 1500, duration_ms: 900 },
  };
  return batchOf({ resourceSpans: [{ resource: { 'service.name': 'claude-code', 'team.id': 'platform' }, scopeSpans: [{ scope: { name: 'com.anthropic.claude_code.tracing', version: '2.1.330', attributes: {} }, spans: [span] }] }] });
}

/**
 * LiteLLM 1.80.11's root `litellm_request` span: /v1/messages with usage (cache writes as one
 * number, or with a 5m/1h split that says 1h = 0), or streamed /anthropic with zero usage, model
 * `unknown` and no id.
 */
function litellmSpan(o: { startMs: number; route: '/v1/messages' | '/anthropic/v1/messages'; split?: boolean; session?: string; customer?: string }): Batch {
  const usage = o.route === '/v1/messages'
    ? `{'completion_tokens': 63, 'prompt_tokens': 11530, 'total_tokens': 11593, 'prompt_tokens_details': {'cached_tokens': 9800, 'text_tokens': None, 'cache_creation_tokens': 1500${o.split ? ", 'cache_creation_token_details': {'ephemeral_5m_input_tokens': 1500, 'ephemeral_1h_input_tokens': 0}" : ''}}, 'cache_creation_input_tokens': 1500, 'cache_read_input_tokens': 9800}`
    : "{'completion_tokens': 0, 'prompt_tokens': 0, 'total_tokens': 0, 'completion_tokens_details': None, 'prompt_tokens_details': None}";
  const headers = `{'x-litellm-customer-id': '${o.customer ?? 'cust-1'}', 'x-litellm-tags': 'project:acme'}`;
  const span: Span = {
    traceId: 'f29f0c2d000000000000000000000001', spanId: `60${String(o.startMs).slice(-14)}`, parentSpanId: '', name: 'litellm_request', kind: 1,
    startTimeUnixNano: nanos(o.startMs + 5), endTimeUnixNano: nanos(o.startMs + 890), status: { code: 0, message: '' }, events: [],
    attributes: {
      'metadata.user_api_key_end_user_id': `{"device_id":"d1","account_uuid":"","session_id":"${o.session ?? SESSION}"}`,
      'metadata.user_api_key_request_route': o.route, 'metadata.usage_object': usage, 'metadata.requester_custom_headers': headers,
      'metadata.user_api_key_hash': 'b3d9', 'metadata.user_api_key_alias': 'gateway-key', 'metadata.user_api_key_team_alias': 'gateway-team',
      hidden_params: '{"model_id": null, "api_base": null, "response_cost": null, "additional_headers": null, "usage_object": null}',
      'gen_ai.system': '', 'llm.request.type': o.route === '/v1/messages' ? 'anthropic_messages' : 'pass_through_endpoint', 'llm.is_streaming': o.route === '/v1/messages' ? 'True' : 'False',
      ...(o.route === '/v1/messages'
        ? { 'gen_ai.request.model': 'claude-sonnet-4-5-20250929', 'gen_ai.response.id': `rid-${o.startMs}`, 'gen_ai.usage.prompt_tokens': '11530', 'gen_ai.usage.completion_tokens': '63', 'llm.usage.total_tokens': '11593' }
        : { 'gen_ai.request.model': 'unknown' }),
    },
  };
  return batchOf({ resourceSpans: [{ resource: { 'service.name': 'litellm' }, scopeSpans: [{ scope: { name: 'litellm', version: '', attributes: {} }, spans: [span] }] }] });
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

describe('exactly once between Claude Code and LiteLLM', () => {
  it('LiteLLM 1.80 /v1/messages says 1500/0 (even as a "known" split), Claude Code 1200/300: the row gets 1200/300 in either order', () => {
    for (const split of [false, true]) {
      for (const order of permutations([litellmSpan({ startMs: T0, route: '/v1/messages', split }), ccEvent({ startMs: T0, seq: 5 })])) {
        const { n } = normalizer();
        const out = order.map((b) => n.process(b));
        expect(out.flatMap((b) => b.calls)).toHaveLength(1);
        expect(finalRecords(out).map((r) => [r.cache_write_5m_tokens, r.cache_write_1h_tokens, r.route, r.customer])).toEqual([[1200, 300, 'anthropic_messages', 'cust-1']]);
      }
    }
  });

  it('Claude Code\'s event and its llm_request span, neither with a request id, join by fingerprint within their trace; LiteLLM joins them once', () => {
    const trace = '53cb4a99000000000000000000000001';
    const reports = [ccSpan({ startMs: T0, traceId: trace, spanId: '74f4133761e40170', parentSpanId: '9b151cba13747054' }), ccEvent({ startMs: T0, seq: 5, traceId: trace, spanId: '9b151cba13747054' }), litellmSpan({ startMs: T0, route: '/v1/messages' })];
    for (const order of permutations(reports)) {
      const { n } = normalizer();
      const out = order.map((b) => n.process(b));
      expect(out.flatMap((b) => b.calls)).toHaveLength(1);
      expect(finalRecords(out)).toMatchObject([{ cache_write_5m_tokens: 1200, cache_write_1h_tokens: 300, route: 'anthropic_messages', customer: 'cust-1', session_id: SESSION }]);
    }
  });

  it('two api_request events of one trace with the same tokens are two calls, not a re-send', () => {
    const { n } = normalizer();
    const trace = '53cb4a99000000000000000000000002';
    const out = [ccEvent({ startMs: T0, seq: 5, traceId: trace, spanId: 'aa' }), ccEvent({ startMs: T0 + 2000, seq: 9, traceId: trace, spanId: 'aa' })].map((b) => n.process(b));
    expect(out.flatMap((b) => b.calls)).toHaveLength(2);
  });

  it('a LiteLLM span without usage carries customer, tags and route to the client\'s call of its session, in either order, and is never billed', async () => {
    for (const order of permutations([litellmSpan({ startMs: T0, route: '/anthropic/v1/messages' }), ccEvent({ startMs: T0, seq: 5 })])) {
      const { n, ctx } = normalizer();
      const out = order.map((b) => n.process(b));
      expect(out.flatMap((b) => b.calls).map((c) => c.source)).toEqual(['claude_code']);
      const [row] = finalRecords(out);
      expect(row).toMatchObject({ source: 'claude_code', route: 'anthropic_passthrough', customer: 'cust-1', tags: ['project:acme'], team: 'gateway-team', key_alias: 'gateway-key', model: 'claude-sonnet-4-5', input_tokens: 230, cache_write_1h_tokens: 300 });
      expect(await metricValue(ctx.registry, 'tokenledger_normalizer_join_token_mismatch_total')).toBe(0);
    }
  });

  it('the usage-less span joins the call of its session that started closest to it, within 60 s; other sessions never', () => {
    const { n } = normalizer();
    const out = [
      ccEvent({ startMs: T0, seq: 1, input: 100 }), ccEvent({ startMs: T0 + 10_000, seq: 2, input: 200 }), ccEvent({ startMs: T0 + 10_000, seq: 3, input: 300, session: 'other-session' }),
      litellmSpan({ startMs: T0 + 9_000, route: '/anthropic/v1/messages', customer: 'cust-2' }),
      litellmSpan({ startMs: T0 + 200_000, route: '/anthropic/v1/messages', customer: 'cust-late' }),
    ].map((b) => n.process(b));
    expect(out.flatMap((b) => b.calls)).toHaveLength(3);
    expect(finalRecords(out).map((r) => [r.input_tokens, r.customer]).sort()).toEqual([[100, ''], [200, 'cust-2'], [300, '']]);
  });

  it('a usage-less span no client report joins is counted and logged when it leaves the index, never billed', async () => {
    let now = T0;
    const { n, ctx } = normalizer({}, () => now);
    expect(n.process(litellmSpan({ startMs: T0, route: '/anthropic/v1/messages' })).calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_unjoined_links_total', { source: 'litellm' })).toBe(0);
    now += 901_000;
    expect(n.process(batchOf({})).calls).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_unjoined_links_total', { source: 'litellm', shape: 'litellm_legacy' })).toBe(1);
    expect(ctx.logs.some((l) => l['msg'] === 'link-only report joined no billable report')).toBe(true);
  });
});

/** The batch with its one span changed by `edit` (a copy: the helpers' batches stay as built). */
function editSpan(b: Batch, edit: (s: Span) => void): Batch {
  const copy = structuredClone(b);
  edit(copy.resourceSpans[0].scopeSpans[0].spans[0]);
  return copy;
}

describe('a re-sent report is billed once, whatever ids it carries', () => {
  /** LiteLLM's report of a failed upstream call: no provider request or response id, no call id. */
  const errorSpan = (spanId: string) => editSpan(litellmSpan({ startMs: T0, route: '/anthropic/v1/messages' }), (s) => {
    s.spanId = spanId;
    s.status = { code: 2, message: 'overloaded' };
    s.attributes['error.code'] = '529';
  });

  it('a span, an event and a link-only span with no id, each re-sent in any order, give the records of one sending', async () => {
    const reports = [errorSpan('e100000000000001'), ccEvent({ startMs: T0 + 60_000, seq: 7, session: 'no-gateway' }), litellmSpan({ startMs: T0 + 120_000, route: '/anthropic/v1/messages', session: 'no-client' })];
    const once = normalizer();
    const expected = reports.map((b) => once.n.process(b)).flatMap((b) => b.calls);
    expect(expected.map((c) => [c.source, c.status])).toEqual([['litellm', 'error'], ['claude_code', 'ok']]);
    for (const order of permutations([...reports, ...reports])) {
      const { n, ctx } = normalizer();
      const out = order.map((b) => n.process(b));
      expect(out.flatMap((b) => b.calls).map((c) => c.call_id).sort()).toEqual(expected.map((c) => c.call_id).sort());
      expect(out.flatMap((b) => b.updates)).toEqual([]);
      expect(await metricValue(ctx.registry, 'tokenledger_normalizer_duplicates_total', { source: 'litellm' })).toBe(2);
      expect(await metricValue(ctx.registry, 'tokenledger_normalizer_duplicates_total', { source: 'claude_code' })).toBe(1);
    }
  });

  it('two spans alike in everything but their span id are two calls', () => {
    const { n } = normalizer();
    const calls = [errorSpan('e100000000000001'), errorSpan('e100000000000002')].flatMap((b) => n.process(b).calls);
    expect(calls).toHaveLength(2);
  });

  it('two log records alike but for their time are two calls', () => {
    const { n } = normalizer();
    const calls = [ccEvent({ startMs: T0, seq: 7, session: 'alone' }), ccEvent({ startMs: T0 + 1, seq: 7, session: 'alone' })].flatMap((b) => n.process(b).calls);
    expect(calls).toHaveLength(2);
  });
});

describe('re-sent Claude Code exports do not move its token counters', () => {
  const scenario = () => loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export'));
  const counters = async (registry: Registry) => {
    const out: Record<string, number> = {};
    for (const from of ['events', 'metrics']) for (const type of ['input', 'output', 'cache_read', 'cache_write_5m']) {
      out[`${from}/${type}`] = await metricValue(registry, 'tokenledger_normalizer_claude_code_tokens_total', { from, type });
    }
    out.drift = await metricValue(registry, 'tokenledger_normalizer_claude_code_drift_tokens', { type: 'input' });
    return out;
  };

  it.each(['events', 'metrics'] as const)('usage from %s: events and metrics counted once, no drift', async (usageFrom) => {
    const once = normalizer({ claude_code: { usage_from: usageFrom } });
    runAll(once.n, scenario());
    const expected = await counters(once.ctx.registry);
    expect(expected['events/input']).toBeGreaterThan(0);
    expect(expected['metrics/input']).toBe(expected['events/input']);
    const twice = normalizer({ claude_code: { usage_from: usageFrom } });
    runAll(twice.n, [...scenario(), ...scenario()]);
    expect(await counters(twice.ctx.registry)).toEqual(expected);
  });
});
