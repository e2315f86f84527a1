import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { UNREPORTED_AFTER_MS } from '../../../processors/claude-normalizer/litellm-request-spans.js';
import { batchOf, metricValue } from '../../helpers/context.js';
import { finalRecords, FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';

/**
 * Every real LiteLLM capture under test/fixtures/litellm/<version>/<setting>/ (see its README), checked
 * against the manifest of what the mock upstream returned: one record per billable call with exactly
 * the upstream's tokens in Anthropic meaning, the route, provider, model, streaming flag, customer,
 * tags and LiteLLM's own cost; and the sum over the capture equal to the mock's totals, less what
 * LiteLLM itself failed to report (listed below, each one a LiteLLM defect seen in the capture).
 */
interface Usage { input: number; output: number; cacheRead: number; cacheWrite5m: number; cacheWrite1h: number }
/** What the custom_auth hook returned for the call's virtual key (test/e2e/harness/custom-auth.ts); null with the master key. */
interface KeyIdentity { key_alias: string; team_id: string; team_alias: string | null; user_id: string; user_email: string | null; org_id: string }
interface ManifestCall {
  id: string; route: string; target: string; stream: boolean; http_status: number; injected_error: unknown; key_identity?: KeyIdentity | null;
  request_headers: Record<string, string>; x_litellm_response_cost: string; billable_upstream_calls: number;
  upstream_attempts: { status: number; usage: Usage | null; model: string; request_id: string; final_delta?: string }[];
}
interface Manifest { litellm_version: string; setting: string; calls: ManifestCall[]; mock_totals: Record<string, number>; models: Record<string, { upstream: string }> }

const ROOT = join(FIXTURES, 'litellm');
/** The manifest's upstream targets (anthropic, bedrockConverse, bedrockInvokePassthrough, vertex …) → provider. */
const providerOf = (target: string) =>
  target.startsWith('bedrock') ? 'aws.bedrock' : target.startsWith('vertex') ? 'gcp.vertex_ai' : target.startsWith('openai') ? 'openai' : target.startsWith('anthropic') ? 'anthropic' : target;
const MODEL: Record<string, string> = {
  'claude-sonnet-4-5-20250929': 'claude-sonnet-4-5', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0': 'claude-sonnet-4-5',
  'us.anthropic.claude-haiku-4-5-20251001-v1:0': 'claude-haiku-4-5', 'claude-sonnet-4-5@20250929': 'claude-sonnet-4-5', 'gpt-4o-mini': 'gpt-4o-mini',
};

/**
 * What a LiteLLM release loses, as observed in its captures: the normalizer cannot restore it.
 * `identity`: no key, team, user or org. `ended_span`: the LLM attributes went to an already ended
 * span; the call is recovered from the provider usage on its raw_gen_ai_request span (tokens,
 * model, route and team; no key, user, org, client headers or LiteLLM cost), or, `ended_span_lost`,
 * is not recoverable exactly (no usage on a streamed call's raw span, no model in a Converse response).
 * `span`: no span at all; `cache`: no cache count (input includes the cache); `route`: no route.
 */
interface Loss {
  setting?: string; route?: string; target?: string; stream?: boolean;
  what: 'usage' | 'span' | 'cache' | 'cache_split' | 'headers' | 'streaming' | 'route' | 'identity' | 'ended_span' | 'ended_span_lost' | 'ended_span_race';
}
/** Bedrock Converse (behind /chat/completions and the Bedrock pass-through) has one cache-write number, no 5m/1h split. */
const CONVERSE_SPLIT: Loss[] = [
  { target: 'bedrockConverse', route: 'openai_chat', what: 'cache_split' },
  { target: 'bedrockConversePassthrough', what: 'cache_split' },
];
const BEFORE_1_108: Loss[] = [
  // Streaming pass-through is logged with model "unknown" and no usage at all.
  { route: 'anthropic_passthrough', stream: true, what: 'usage' },
  // Streamed usage lacks cache_creation_token_details: 5m and 1h writes arrive as one number.
  { stream: true, what: 'cache_split' },
  ...CONVERSE_SPLIT,
];
/** As 1.81.3, but /v1/messages to Bedrock (InvokeModel) keeps the 5m/1h split of a stream. */
const FROM_1_84: Loss[] = [
  ...['openai_chat', 'bedrock_passthrough'].map((route): Loss => ({ route, stream: true, what: 'cache_split' })),
  { route: 'anthropic_messages', target: 'anthropic', stream: true, what: 'cache_split' },
  ...CONVERSE_SPLIT,
  { route: 'anthropic_passthrough', stream: true, what: 'usage' },
];
/**
 * 1.108.7 with custom_auth (the `custom-auth` capture): LiteLLM takes the FastAPI span as its request
 * span, and that span ends with the response. A non-streamed call's attributes always come too
 * late; a streamed call's come in time when the stream outlives the span, a race (`ended_span_race`:
 * a full record or a lost one). Streamed /chat/completions won it on every call captured.
 * USE_OTEL_LITELLM_REQUEST_SPAN=true (`custom-auth-request-span`) avoids it all.
 */
const ENDED_SPAN_1_108: Loss[] = [
  ...['openai_chat', 'anthropic_messages', 'anthropic_passthrough', 'bedrock_passthrough'].map((route): Loss => ({ setting: 'custom-auth', route, stream: false, what: 'ended_span' })),
  ...['anthropic_messages', 'anthropic_passthrough', 'bedrock_passthrough'].map((route): Loss => ({ setting: 'custom-auth', route, stream: true, what: 'ended_span_race' })),
  // A Converse response names no model: its raw usage cannot be priced.
  { setting: 'custom-auth', route: 'openai_chat', target: 'bedrockConverse', stream: false, what: 'ended_span_lost' },
  { setting: 'custom-auth', target: 'bedrockConversePassthrough', stream: false, what: 'ended_span_lost' },
];
/**
 * The same with content capture off: no raw_gen_ai_request span either, so nothing is recovered;
 * the requests' FastAPI spans, which no LLM span comes below, are counted as lost.
 */
const ENDED_SPAN_1_108_CONTENT_OFF: Loss[] = [
  ...['openai_chat', 'anthropic_messages', 'anthropic_passthrough', 'bedrock_passthrough'].map((route): Loss => ({ setting: 'custom-auth-content-off', route, stream: false, what: 'ended_span_lost' })),
  ...['anthropic_messages', 'anthropic_passthrough', 'bedrock_passthrough'].map((route): Loss => ({ setting: 'custom-auth-content-off', route, stream: true, what: 'ended_span_race' })),
];
const KNOWN_LOSSES: Record<string, Loss[]> = {
  // The Bedrock pass-through span has llm.is_streaming=False and an empty request route: nothing tells a stream.
  // Nor does it carry the key's identity: every metadata.user_api_key_* is empty.
  '1.80.11': [...BEFORE_1_108, { route: 'bedrock_passthrough', stream: true, what: 'streaming' }, { route: 'bedrock_passthrough', what: 'identity' }],
  '1.81.3': BEFORE_1_108,
  '1.84.10': FROM_1_84,
  '1.88.6': [
    // Streamed /anthropic pass-through: a span without usage, but in V2 (below) no span at all.
    ...FROM_1_84.filter((l) => l.what !== 'usage'),
    ...['default', 'content-off', 'semconv'].map((setting): Loss => ({ setting, route: 'anthropic_passthrough', stream: true, what: 'usage' })),
    // The early V2 integration (no litellm.call_type yet, so read as the semconv layout): prompt tokens
    // (cache included) without any cache count, no route (every call reads as chat), no client x-
    // headers, streamed Bedrock pass-through marked not streaming, streamed /anthropic pass-through not exported.
    { setting: 'v2', route: 'anthropic_passthrough', stream: true, what: 'span' },
    { setting: 'v2', what: 'cache' },
    { setting: 'v2', what: 'route' },
    { setting: 'v2', what: 'headers' },
    { setting: 'v2', route: 'bedrock_passthrough', stream: true, what: 'streaming' },
  ],
  // Keeps the 5m/1h split of streams; still no usage on a streamed /anthropic pass-through.
  '1.99.4': [{ route: 'anthropic_passthrough', stream: true, what: 'usage' }, ...CONVERSE_SPLIT],
  '1.105.7': [
    { route: 'anthropic_passthrough', stream: true, what: 'usage' },
    ...CONVERSE_SPLIT,
    // V2 as in 1.108.7: no 5m/1h split, no client x- headers.
    { setting: 'v2', what: 'cache_split' },
    { setting: 'v2', what: 'headers' },
  ],
  '1.108.7': [
    // The legacy callback marks streamed /anthropic pass-through calls llm.is_streaming=False, with nothing else to tell.
    ...['default', 'content-off', 'semconv', 'custom-auth-request-span'].map((setting): Loss => ({ setting, route: 'anthropic_passthrough', stream: true, what: 'streaming' })),
    ...ENDED_SPAN_1_108,
    ...ENDED_SPAN_1_108_CONTENT_OFF,
    ...CONVERSE_SPLIT,
    // V2 has only gen_ai.usage.cache_creation.input_tokens (never a 5m/1h split), and does not
    // carry the client's x- headers (tags, cost center) unless they are allowlisted as Baggage.
    { setting: 'v2', what: 'cache_split' },
    { setting: 'v2', what: 'headers' },
  ],
};

/**
 * Releases that export `prompt_tokens_details.text_tokens` 0 for a stream whose final message_delta
 * carries only `{"output_tokens": N}` (every route but /v1/messages → Bedrock InvokeModel), with
 * prompt_tokens right: the normalizer reads the input from the totals and counts the mismatch.
 */
const TEXT_TOKENS_ZERO = new Set(['1.84.10', '1.88.6', '1.99.4']);

/** Releases whose spans keep the upstream's request id (hidden_params.additional_headers): it becomes call_id. */
const KEEPS_REQUEST_ID: Record<string, string[]> = Object.fromEntries(['1.84.10', '1.88.6', '1.99.4', '1.105.7', '1.108.7'].map((v) => [v, ['default', 'content-off', 'semconv']]));

function captures(): { version: string; setting: string; dir: string }[] {
  if (!existsSync(ROOT)) return [];
  const out: { version: string; setting: string; dir: string }[] = [];
  for (const version of readdirSync(ROOT)) {
    const vdir = join(ROOT, version);
    if (!statSync(vdir).isDirectory()) continue;
    for (const setting of readdirSync(vdir)) {
      const dir = join(vdir, setting);
      if (existsSync(join(dir, 'manifest.json')) && existsSync(join(dir, 'index.jsonl'))) out.push({ version, setting, dir });
    }
  }
  return out;
}

function lossesOf(version: string, setting: string, c: ManifestCall): Set<Loss['what']> {
  const losses = new Set((KNOWN_LOSSES[version] ?? []).filter((l) => (l.setting === undefined || l.setting === setting) &&
    (l.route === undefined || l.route === c.route) && (l.target === undefined || l.target === c.target) && (l.stream === undefined || l.stream === c.stream))
    .map((l) => l.what));
  if (losses.has('ended_span_lost')) losses.delete('ended_span');
  return losses;
}

/** The attribution tokenledger's defaults give the call's key: user = email else id, team = alias else id; '' with the master key. */
function identityOf(c: ManifestCall, losses: Set<Loss['what']>): { user: string; team: string; key_alias: string; org: string } {
  const id = c.key_identity;
  if (!id || losses.has('identity')) return { user: '', team: '', key_alias: '', org: '' };
  const team = id.team_alias ?? id.team_id;
  // LiteLLM stamps only the team on the raw_gen_ai_request span.
  if (losses.has('ended_span')) return { user: '', team, key_alias: '', org: '' };
  return { user: id.user_email ?? id.user_id, team, key_alias: id.key_alias, org: id.org_id };
}

/** A call whose streamed attributes lost the race to its ended span: no record has its tokens. */
function lostRace(records: LlmCall[], c: ManifestCall, losses: Set<Loss['what']>): boolean {
  if (!losses.has('ended_span_race') || c.billable_upstream_calls === 0) return false;
  const u = upstreamUsage(c);
  return !records.some((r) => r.status === 'ok' && r.input_tokens === u.input && r.output_tokens === u.output);
}

function upstreamUsage(c: ManifestCall): Usage {
  const u: Usage = { input: 0, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
  for (const a of c.upstream_attempts) {
    if (a.status !== 200 || !a.usage) continue;
    u.input += a.usage.input; u.output += a.usage.output; u.cacheRead += a.usage.cacheRead;
    u.cacheWrite5m += a.usage.cacheWrite5m; u.cacheWrite1h += a.usage.cacheWrite1h;
  }
  return u;
}

/** What a record can hold when LiteLLM reported no cache count: the whole prompt as input. */
const cacheLost = (u: Usage): Usage => ({ input: u.input + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h, output: u.output, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 });

const list = captures();

describe('LiteLLM captures', () => {
  it('at least one capture is present', () => {
    expect(list.length).toBeGreaterThan(0);
  });

  for (const cap of list) {
    describe(`${cap.version}/${cap.setting}`, () => {
      const manifest = JSON.parse(readFileSync(join(cap.dir, 'manifest.json'), 'utf8')) as Manifest;
      const run = () => {
        let now = Date.now();
        const { n, ctx } = normalizer({ dimensions: { cost_center: ['header:x-cost-center'], org: ['litellm:org_id'] } }, () => now);
        const out = runAll(n, loadScenario(cap.dir));
        // Time passes: a request still without its LLM span is judged.
        now += UNREPORTED_AFTER_MS;
        out.push(n.process(batchOf({})));
        return { records: finalRecords(out), ctx };
      };

      it('one record per billable call, with the upstream tokens in Anthropic meaning and the call\'s route, provider, model and attribution', () => {
        const { records } = run();
        const ok = records.filter((r) => r.status === 'ok' && r.input_tokens + r.output_tokens > 0);
        const used = new Set<LlmCall>();
        for (const c of manifest.calls) {
          // Billable is what the upstream served, whatever the client saw (a client timeout still bills).
          if (c.billable_upstream_calls === 0) continue;
          const losses = lossesOf(cap.version, cap.setting, c);
          const u = losses.has('cache') ? cacheLost(upstreamUsage(c)) : upstreamUsage(c);
          const hits = ok.filter((r) => r.input_tokens === u.input && r.output_tokens === u.output);
          if (losses.has('usage') || losses.has('span') || losses.has('ended_span_lost')) { expect(hits, c.id).toHaveLength(0); continue; }
          if (losses.has('ended_span_race') && hits.length === 0) continue;
          expect(hits, `${c.id}: one record with input ${u.input}, output ${u.output}`).toHaveLength(1);
          const r = hits[0];
          used.add(r);
          const writes = losses.has('cache_split')
            ? { cache_write_5m_tokens: u.cacheWrite5m + u.cacheWrite1h, cache_write_1h_tokens: 0 }
            : { cache_write_5m_tokens: u.cacheWrite5m, cache_write_1h_tokens: u.cacheWrite1h };
          const headers = c.request_headers;
          const ended = losses.has('ended_span');
          const noHeaders = losses.has('headers') || ended;
          const who = identityOf(c, losses);
          expect(r, c.id).toMatchObject({
            record_type: 'call', source: 'litellm', status: 'ok', error_type: '', session_id: '', user: who.user, team: who.team, key_alias: who.key_alias,
            ...(losses.has('route') ? {} : { route: c.route }), provider: providerOf(c.target), model: MODEL[c.upstream_attempts[0].model],
            streaming: c.stream && !losses.has('streaming'), cache_read_tokens: u.cacheRead, ...writes,
            customer: ended ? '' : headers['x-litellm-customer-id'] ?? headers['x-litellm-end-user-id'] ?? '',
            tags: noHeaders ? [] : headers['x-litellm-tags'].split(','),
            dimensions: { ...(noHeaders ? {} : { cost_center: headers['x-cost-center'] }), ...(who.org === '' ? {} : { org: who.org }) },
          });
          if (ended) expect(r.reported_cost_usd, c.id).toBeNull();
          else if (c.x_litellm_response_cost !== '') expect(r.reported_cost_usd, c.id).toBeCloseTo(Number(c.x_litellm_response_cost), 12);
          expect(r.trace_id, c.id).toMatch(/^[0-9a-f]{32}$/);
          // Pricing reads the service tier; only 1.108's non-streamed usage object carries it.
          if (cap.version === '1.108.7' && cap.setting !== 'v2' && c.target === 'anthropic' && !c.stream) expect(r.attributes['service_tier'], c.id).toBe('standard');
          if (KEEPS_REQUEST_ID[cap.version]?.includes(cap.setting) && !c.stream && c.target === 'anthropic') {
            expect(r.call_id, c.id).toBe(c.upstream_attempts.find((a) => a.status === 200)?.request_id);
          }
        }
        // Nothing billable beyond the manifest's calls.
        expect(ok.filter((r) => !used.has(r))).toEqual([]);
      });

      it('token sums equal what the mock returned, less what LiteLLM did not report', () => {
        const { records } = run();
        const expected = { input: 0, output: 0, cache_read: 0, cache_write: 0 };
        const add = (u: Usage, sign: number) => {
          expected.input += sign * u.input; expected.output += sign * u.output; expected.cache_read += sign * u.cacheRead;
          expected.cache_write += sign * (u.cacheWrite5m + u.cacheWrite1h);
        };
        const t = manifest.mock_totals;
        add({ input: t.input, output: t.output, cacheRead: t.cache_read, cacheWrite5m: t.cache_write_5m, cacheWrite1h: t.cache_write_1h }, 1);
        for (const c of manifest.calls) {
          if (c.billable_upstream_calls === 0) continue;
          const losses = lossesOf(cap.version, cap.setting, c);
          if (losses.has('usage') || losses.has('span') || losses.has('ended_span_lost') || lostRace(records, c, losses)) add(upstreamUsage(c), -1);
          else if (losses.has('cache')) { add(upstreamUsage(c), -1); add(cacheLost(upstreamUsage(c)), 1); }
        }
        const got = records.reduce((s, r) => ({
          input: s.input + r.input_tokens, output: s.output + r.output_tokens, cache_read: s.cache_read + r.cache_read_tokens,
          cache_write: s.cache_write + r.cache_write_5m_tokens + r.cache_write_1h_tokens,
        }), { input: 0, output: 0, cache_read: 0, cache_write: 0 });
        expect(got).toEqual(expected);
      });

      it('failed calls are error records without tokens; calls LiteLLM logged without usage are flagged', async () => {
        const { records, ctx } = run();
        const errors = records.filter((r) => r.status === 'error');
        const failed = manifest.calls.filter((c) => c.http_status !== 200);
        if (failed.length > 0) expect(errors.length).toBeGreaterThanOrEqual(1);
        for (const e of errors) expect([e.input_tokens, e.output_tokens, e.cache_read_tokens, e.error_type !== '']).toEqual([0, 0, 0, true]);
        const billed = manifest.calls.filter((c) => c.billable_upstream_calls > 0);
        const count = (what: Loss['what']) => billed.filter((c) => lossesOf(cap.version, cap.setting, c).has(what)).length;
        expect(await metricValue(ctx.registry, 'tokenledger_normalizer_inconsistent_tokens_total', { source: 'litellm', reason: 'missing_usage' })).toBe(count('usage'));
        // Spans whose LLM attributes LiteLLM set after they ended: each recovered or lost call counted, never silent.
        const endedMetric = 'tokenledger_normalizer_litellm_spans_without_usage_total';
        expect(await metricValue(ctx.registry, endedMetric, { outcome: 'recovered' })).toBe(count('ended_span'));
        const racesLost = billed.filter((c) => lostRace(records, c, lossesOf(cap.version, cap.setting, c))).length;
        expect(await metricValue(ctx.registry, endedMetric, { outcome: 'lost' })).toBe(count('ended_span_lost') + racesLost);
        const warned = ctx.logs.filter((l) => l.level === 'warn' && String(l.msg).includes('USE_OTEL_LITELLM_REQUEST_SPAN=true'));
        expect(warned.length).toBe(count('ended_span') + count('ended_span_lost') + racesLost > 0 ? 1 : 0);
        // A span without any cache count is said loudly, and only where the release lost them.
        const uncached = manifest.calls.filter((c) => {
          const losses = lossesOf(cap.version, cap.setting, c);
          return c.billable_upstream_calls > 0 && losses.has('cache') && !losses.has('span');
        }).length;
        expect(await metricValue(ctx.registry, 'tokenledger_normalizer_inconsistent_tokens_total', { source: 'litellm', reason: 'cache_unreported' })).toBe(uncached);
        const zeroText = !TEXT_TOKENS_ZERO.has(cap.version) || cap.setting === 'v2' ? 0 : manifest.calls.filter((c) => {
          const losses = lossesOf(cap.version, cap.setting, c);
          return c.billable_upstream_calls > 0 && !losses.has('usage') && !losses.has('span') && !(c.route === 'anthropic_messages' && c.target === 'bedrockConverse')
            && c.upstream_attempts.some((a) => a.status === 200 && a.final_delta === 'output');
        }).length;
        expect(await metricValue(ctx.registry, 'tokenledger_normalizer_inconsistent_tokens_total', { source: 'litellm', reason: 'text_tokens_mismatch' })).toBe(zeroText);
        expect(await metricValue(ctx.registry, 'tokenledger_normalizer_inconsistent_tokens_total', { source: 'litellm', reason: 'cache_split_mismatch' })).toBe(0);
        // Real captures never need clamping: every reading that was used adds up.
        for (const reason of ['negative_input', 'total_mismatch']) expect(await metricValue(ctx.registry, 'tokenledger_normalizer_inconsistent_tokens_total', { source: 'litellm', reason }), reason).toBe(0);
        // Every span of a real capture is understood: a call, or known not to be one.
        expect(await metricValue(ctx.registry, 'tokenledger_normalizer_unknown_shapes_total')).toBe(0);
      });

      it('no prompt or response content in any record', () => {
        const { records } = run();
        const text = JSON.stringify(records);
        for (const needle of ['Mock reply', 'Say hello', 'mock id=', 'end-to-end test assistant', 'sk-tokenledger', 'sk-tl-e2e']) expect(text).not.toContain(needle);
      });
    });
  }
});
