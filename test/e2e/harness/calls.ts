/**
 * The Claude (and one OpenAI) calls sent through LiteLLM: every route × streaming × cache case
 * (× final message_delta form for Anthropic-event streams), each with a unique `[[mock …]]`
 * directive so its usage and its attempts are known exactly.
 */
import { directiveText, type FinalDelta, type MockError, type MockUsage } from '../mock-upstream/server.js';
import { MODELS, TIMEOUT_ALIAS, type ModelKey } from './litellm-config.js';

export type RouteName = 'openai_chat' | 'anthropic_messages' | 'anthropic_passthrough' | 'bedrock_passthrough';

export interface CallSpec {
  id: string;
  /** The client-facing route, in LlmCall.route vocabulary of the entry point. */
  route: RouteName;
  /** Which deployment (model_list entry) or upstream API serves it. */
  target: ModelKey | 'anthropicTimeout' | 'bedrockConversePassthrough' | 'bedrockInvokePassthrough';
  stream: boolean;
  cache: CacheCase;
  /** Anthropic-event streams only: what the upstream's final message_delta carries. */
  finalDelta?: FinalDelta;
  usage: MockUsage;
  headers: Record<string, string>;
  error?: { kind: MockError; times?: number };
  /** The client sends the same call again this many times after an error answer. */
  clientRetries?: number;
}

/** Which cache counts a call reports: none, one kind alone, or reads with both write TTLs. */
export type CacheCase = 'none' | 'read' | 'write5m' | 'write1h' | 'mixed';
const CACHE_CASES: readonly CacheCase[] = ['none', 'read', 'write5m', 'write1h', 'mixed'];

export interface SentCall {
  spec: CallSpec;
  status: number;
  litellmCallId: string;
  responseCost: string;
  body: string;
  ms: number;
}

export const SYSTEM_PROMPT = 'You are the tokenledger end-to-end test assistant. '.repeat(8);

interface RouteTarget {
  route: RouteName;
  target: CallSpec['target'];
}

export const ROUTE_TARGETS: RouteTarget[] = [
  { route: 'openai_chat', target: 'anthropic' },
  { route: 'openai_chat', target: 'bedrockConverse' },
  { route: 'openai_chat', target: 'bedrockInvoke' },
  { route: 'openai_chat', target: 'vertex' },
  { route: 'openai_chat', target: 'openai' },
  { route: 'anthropic_messages', target: 'anthropic' },
  { route: 'anthropic_messages', target: 'bedrockConverse' },
  { route: 'anthropic_messages', target: 'vertex' },
  { route: 'anthropic_passthrough', target: 'anthropic' },
  { route: 'bedrock_passthrough', target: 'bedrockConversePassthrough' },
  { route: 'bedrock_passthrough', target: 'bedrockInvokePassthrough' },
];

/** Distinct numbers per call, so that a mixed-up field or a call counted twice shows in a sum. */
function usageFor(i: number, cache: CacheCase, openai: boolean): MockUsage {
  const base = { input: 100 + i, output: 20 + i, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
  if (cache === 'none') return base;
  if (openai) return { ...base, cacheRead: 1000 + i };
  const read = cache === 'read' || cache === 'mixed' ? 3000 + i : 0;
  const w5m = cache === 'write5m' || cache === 'mixed' ? 500 + i : 0;
  const w1h = cache === 'write1h' || cache === 'mixed' ? 700 + i : 0;
  return { ...base, cacheRead: read, cacheWrite5m: w5m, cacheWrite1h: w1h };
}

/**
 * Does the upstream answer this route's stream with Anthropic events (message_start … message_delta)?
 * Not OpenAI, nor Bedrock Converse streams (their usage is one `metadata` event); `/v1/messages` to
 * a `bedrock/` deployment calls InvokeModel, so it does.
 */
function anthropicEventStream(rt: RouteTarget): boolean {
  if (rt.target === 'openai' || rt.target === 'bedrockConversePassthrough') return false;
  return !(rt.route === 'openai_chat' && rt.target === 'bedrockConverse');
}

/**
 * The cases of one route × streaming pair. Streams are where releases differ (issue 13): every cache
 * case, and for Anthropic-event streams both final message_delta forms. Non-streamed calls: no cache
 * and the full mix. OpenAI has reads only.
 */
function casesOf(rt: RouteTarget, stream: boolean): { cache: CacheCase; finalDelta?: FinalDelta }[] {
  if (!stream || rt.target === 'openai') return [{ cache: 'none' }, { cache: 'mixed' }];
  if (!anthropicEventStream(rt)) return CACHE_CASES.map((cache) => ({ cache }));
  return (['output', 'full'] as const).flatMap((finalDelta) => CACHE_CASES.map((cache) => ({ cache, finalDelta })));
}

function attributionHeaders(i: number, route: RouteName): Record<string, string> {
  const h: Record<string, string> = { 'x-litellm-tags': `e2e,${route}`, 'x-cost-center': `cc-${route}` };
  if (i % 2 === 0) h['x-litellm-customer-id'] = 'cust-even';
  else h['x-litellm-end-user-id'] = 'user-odd';
  return h;
}

/** The full matrix: routes × streaming × cases, then errors and a gateway retry. */
export function callPlan(prefix: string): CallSpec[] {
  const plan: CallSpec[] = [];
  let i = 0;
  for (const rt of ROUTE_TARGETS) {
    for (const stream of [false, true]) {
      for (const c of casesOf(rt, stream)) {
        i++;
        plan.push({ id: `${prefix}${i}`, ...rt, stream, ...c, usage: usageFor(i, c.cache, rt.target === 'openai'), headers: attributionHeaders(i, rt.route) });
      }
    }
  }
  const err = (route: RouteName, target: CallSpec['target'], stream: boolean, kind: MockError, times?: number, clientRetries?: number): void => {
    i++;
    plan.push({ id: `${prefix}${i}`, route, target, stream, cache: 'mixed', usage: usageFor(i, 'mixed', false), headers: attributionHeaders(i, route), error: { kind, times }, clientRetries });
  };
  err('openai_chat', 'anthropic', false, 429);
  err('openai_chat', 'anthropic', true, 529);
  err('anthropic_messages', 'anthropic', false, 529);
  err('anthropic_passthrough', 'anthropic', false, 529);
  err('openai_chat', 'bedrockConverse', false, 429);
  // The client retries after a 529 / 429: two upstream attempts, one billable call.
  err('anthropic_messages', 'anthropic', true, 529, 1, 1);
  err('anthropic_passthrough', 'anthropic', false, 429, 1, 1);
  // No answer upstream: the deployment's 3 s timeout ends the call.
  err('openai_chat', 'anthropicTimeout', false, 'timeout');
  return plan;
}

function directive(spec: CallSpec): string {
  const u = spec.usage;
  return directiveText({ id: spec.id, in: u.input, out: u.output, cr: u.cacheRead, cw5m: u.cacheWrite5m, cw1h: u.cacheWrite1h, ...(spec.finalDelta ? { final: spec.finalDelta } : {}), ...(spec.error ? { error: spec.error.kind, ...(spec.error.times !== undefined ? { times: spec.error.times } : {}) } : {}) });
}

function request(spec: CallSpec, proxyUrl: string, key: string): { url: string; headers: Record<string, string>; body: unknown } {
  const text = `Say hello. ${directive(spec)}`;
  const json = { 'content-type': 'application/json', ...spec.headers };
  const bearer = { ...json, authorization: `Bearer ${key}` };
  const anthropicHeaders = { ...json, 'x-api-key': key, 'anthropic-version': '2023-06-01' };
  const cached = spec.cache !== 'none';
  // A cache marker on the system prompt whenever the call reports cache use; 1h when it writes 1h.
  const ttl = cached ? { cache_control: { type: 'ephemeral', ...(spec.usage.cacheWrite1h > 0 ? { ttl: '1h' } : {}) } } : {};
  switch (spec.route) {
    case 'openai_chat': {
      const alias = spec.target === 'anthropicTimeout' ? TIMEOUT_ALIAS : MODELS[spec.target as ModelKey].alias;
      const system = spec.target === 'openai' ? SYSTEM_PROMPT : [{ type: 'text', text: SYSTEM_PROMPT, ...(cached ? { cache_control: { type: 'ephemeral' } } : {}) }];
      return {
        url: `${proxyUrl}/chat/completions`,
        headers: bearer,
        body: { model: alias, max_tokens: 64, stream: spec.stream, ...(spec.stream ? { stream_options: { include_usage: true } } : {}), messages: [{ role: 'system', content: system }, { role: 'user', content: text }] },
      };
    }
    case 'anthropic_messages':
    case 'anthropic_passthrough': {
      const m = MODELS[spec.target as ModelKey];
      const model = spec.route === 'anthropic_messages' ? m.alias : m.upstream;
      const path = spec.route === 'anthropic_messages' ? '/v1/messages' : '/anthropic/v1/messages';
      return {
        url: proxyUrl + path,
        headers: anthropicHeaders,
        body: { model, max_tokens: 64, stream: spec.stream, system: [{ type: 'text', text: SYSTEM_PROMPT, ...ttl }], messages: [{ role: 'user', content: text }] },
      };
    }
    case 'bedrock_passthrough': {
      const invoke = spec.target === 'bedrockInvokePassthrough';
      // LiteLLM 1.81 serves /bedrock/model/{id} only for a model_list name and then uses that deployment's
      // api_base; a `bedrock/invoke/…` deployment there sends `/model/invoke/…` upstream, so both use the plain one.
      const modelId = MODELS.bedrockConverse.alias;
      const action = invoke ? (spec.stream ? 'invoke-with-response-stream' : 'invoke') : spec.stream ? 'converse-stream' : 'converse';
      const body = invoke
        ? { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, system: [{ type: 'text', text: SYSTEM_PROMPT, ...ttl }], messages: [{ role: 'user', content: text }] }
        : { system: [{ text: SYSTEM_PROMPT }, ...(cached ? [{ cachePoint: { type: 'default' } }] : [])], messages: [{ role: 'user', content: [{ text }] }], inferenceConfig: { maxTokens: 64 } };
      return { url: `${proxyUrl}/bedrock/model/${encodeURIComponent(modelId)}/${action}`, headers: bearer, body };
    }
  }
}

export async function sendCall(spec: CallSpec, proxyUrl: string, key: string, timeoutMs = 90_000): Promise<SentCall> {
  let sent = await sendOnce(spec, proxyUrl, key, timeoutMs);
  for (let retry = 0; retry < (spec.clientRetries ?? 0) && sent.status !== 200; retry++) sent = await sendOnce(spec, proxyUrl, key, timeoutMs);
  return sent;
}

async function sendOnce(spec: CallSpec, proxyUrl: string, key: string, timeoutMs: number): Promise<SentCall> {
  const r = request(spec, proxyUrl, key);
  const t0 = Date.now();
  try {
    const res = await fetch(r.url, { method: 'POST', headers: r.headers, body: JSON.stringify(r.body), signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { spec, status: res.status, litellmCallId: res.headers.get('x-litellm-call-id') ?? '', responseCost: res.headers.get('x-litellm-response-cost') ?? '', body, ms: Date.now() - t0 };
  } catch (err) {
    // A client-side timeout is an outcome to record (status 0), not a harness failure.
    return { spec, status: 0, litellmCallId: '', responseCost: '', body: `client error: ${(err as Error).message}`, ms: Date.now() - t0 };
  }
}
