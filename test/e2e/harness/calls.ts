/**
 * The Claude (and one OpenAI) calls sent through LiteLLM: every route × streaming × cache case,
 * each with a unique `[[mock …]]` directive so its usage and its attempts are known exactly.
 */
import { directiveText, type MockError, type MockUsage } from '../mock-upstream/server.js';
import { MODELS, TIMEOUT_ALIAS, type ModelKey } from './litellm-config.js';

export type RouteName = 'openai_chat' | 'anthropic_messages' | 'anthropic_passthrough' | 'bedrock_passthrough';

export interface CallSpec {
  id: string;
  /** The client-facing route, in LlmCall.route vocabulary of the entry point. */
  route: RouteName;
  /** Which deployment (model_list entry) or upstream API serves it. */
  target: ModelKey | 'anthropicTimeout' | 'bedrockConversePassthrough' | 'bedrockInvokePassthrough';
  stream: boolean;
  cache: 'none' | 'mixed';
  usage: MockUsage;
  headers: Record<string, string>;
  error?: { kind: MockError; times?: number };
  /** The client sends the same call again this many times after an error answer. */
  clientRetries?: number;
}

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
function usageFor(i: number, cache: CallSpec['cache'], openai: boolean): MockUsage {
  const base = { input: 100 + i, output: 20 + i, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
  if (cache === 'none') return base;
  if (openai) return { ...base, cacheRead: 1000 + i };
  return { ...base, cacheRead: 3000 + i, cacheWrite5m: 500 + i, cacheWrite1h: 700 + i };
}

function attributionHeaders(i: number, route: RouteName): Record<string, string> {
  const h: Record<string, string> = { 'x-litellm-tags': `e2e,${route}`, 'x-cost-center': `cc-${route}` };
  if (i % 2 === 0) h['x-litellm-customer-id'] = 'cust-even';
  else h['x-litellm-end-user-id'] = 'user-odd';
  return h;
}

/** The full matrix: routes × streaming × cache case, then errors and a gateway retry. */
export function callPlan(prefix: string): CallSpec[] {
  const plan: CallSpec[] = [];
  let i = 0;
  for (const rt of ROUTE_TARGETS) {
    for (const stream of [false, true]) {
      for (const cache of ['none', 'mixed'] as const) {
        i++;
        plan.push({ id: `${prefix}${i}`, ...rt, stream, cache, usage: usageFor(i, cache, rt.target === 'openai'), headers: attributionHeaders(i, rt.route) });
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
  return directiveText({ id: spec.id, in: u.input, out: u.output, cr: u.cacheRead, cw5m: u.cacheWrite5m, cw1h: u.cacheWrite1h, ...(spec.error ? { error: spec.error.kind, ...(spec.error.times !== undefined ? { times: spec.error.times } : {}) } : {}) });
}

function request(spec: CallSpec, proxyUrl: string, key: string): { url: string; headers: Record<string, string>; body: unknown } {
  const text = `Say hello. ${directive(spec)}`;
  const json = { 'content-type': 'application/json', ...spec.headers };
  const bearer = { ...json, authorization: `Bearer ${key}` };
  const anthropicHeaders = { ...json, 'x-api-key': key, 'anthropic-version': '2023-06-01' };
  const ttl = spec.cache === 'mixed' ? { cache_control: { type: 'ephemeral', ttl: '1h' } } : {};
  switch (spec.route) {
    case 'openai_chat': {
      const alias = spec.target === 'anthropicTimeout' ? TIMEOUT_ALIAS : MODELS[spec.target as ModelKey].alias;
      const system = spec.target === 'openai' ? SYSTEM_PROMPT : [{ type: 'text', text: SYSTEM_PROMPT, ...(spec.cache === 'mixed' ? { cache_control: { type: 'ephemeral' } } : {}) }];
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
        : { system: [{ text: SYSTEM_PROMPT }, ...(spec.cache === 'mixed' ? [{ cachePoint: { type: 'default' } }] : [])], messages: [{ role: 'user', content: [{ text }] }], inferenceConfig: { maxTokens: 64 } };
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
