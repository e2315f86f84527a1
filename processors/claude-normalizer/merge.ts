import type { LlmCall } from '../../core/llm-call.js';

/** The source whose report is the gateway's view of a call. */
export const GATEWAY_SOURCE = 'litellm';

/** What the gateway knows better than its client: the API called, who served it where, the key and its team. */
const GATEWAY_FIELDS = ['route', 'provider', 'region', 'key_alias', 'team'] as const;

/**
 * The record `base` enriched with what `other` (another source's report of the same call) adds:
 * empty attribution and context fields filled, tags and dimensions united; the gateway's (LiteLLM's)
 * route, provider, region, key alias and team win over the client's whichever arrived first, and the
 * client's service name and dimensions (the app whose call it is: its `service.name`,
 * `deployment.environment` …) win over the gateway's.
 * Identity (`call_id`), time and model stay `base`'s — they are the row's sort key — and so do the
 * tokens, since that is what was billed. Returns null when `other` adds nothing.
 */
export function mergeCall(base: LlmCall, other: LlmCall, maxAttributes: number): LlmCall | null {
  const m: LlmCall = { ...base };
  let changed = false;
  const gatewayWins = other.source === GATEWAY_SOURCE && base.source !== GATEWAY_SOURCE;
  const clientWins = base.source === GATEWAY_SOURCE && other.source !== GATEWAY_SOURCE;
  if (clientWins && other.service_name !== '' && m.service_name !== other.service_name) {
    m.service_name = other.service_name;
    changed = true;
  }
  for (const f of GATEWAY_FIELDS) {
    if (other[f] !== '' && other[f] !== 'unknown' && m[f] !== other[f] && (gatewayWins || m[f] === '' || m[f] === 'unknown')) {
      m[f] = other[f];
      if (f === 'provider') m.provider_inferred = other.provider_inferred;
      changed = true;
    }
  }
  for (const f of ['user', 'customer', 'session_id'] as const) {
    if (m[f] === '' && other[f] !== '') { m[f] = other[f]; changed = true; }
  }
  if (m.trace_id === '' && other.trace_id !== '') { m.trace_id = other.trace_id; m.span_id = other.span_id; changed = true; }
  if (m.ttft_ms === null && other.ttft_ms !== null) { m.ttft_ms = other.ttft_ms; changed = true; }
  // A stream is positive evidence: some reports leave the flag unset (OpenLLMetry's Anthropic spans, LiteLLM's pass-through).
  if (!m.streaming && other.streaming) { m.streaming = true; changed = true; }
  if (m.reported_cost_usd === null && other.reported_cost_usd !== null) { m.reported_cost_usd = other.reported_cost_usd; changed = true; }
  const newTags = other.tags.filter((t) => !base.tags.includes(t));
  if (newTags.length > 0) { m.tags = [...base.tags, ...newTags]; changed = true; }
  for (const [k, v] of Object.entries(other.dimensions)) {
    if (!(k in m.dimensions) || (clientWins && m.dimensions[k] !== v)) {
      if (m.dimensions === base.dimensions) m.dimensions = { ...base.dimensions };
      m.dimensions[k] = v;
      changed = true;
    }
  }
  let n = Object.keys(base.attributes).length;
  for (const [k, v] of Object.entries(other.attributes)) {
    if (n >= maxAttributes) break;
    if (!(k in m.attributes)) {
      if (m.attributes === base.attributes) m.attributes = { ...base.attributes };
      m.attributes[k] = v;
      n++;
      changed = true;
    }
  }
  return changed ? m : null;
}

/** How a call's tokens divide into types. */
export interface Breakdown { input: number; output: number; read: number; m5: number; h1: number }

/**
 * The breakdown of the prompt `base` should carry when `other`, a report of the same call, divides
 * the same tokens more finely; null to keep `base`'s. Two cases, both only moving tokens between
 * types of one total:
 * - the 5m/1h split of the same cache writes: a source that lost it reports every write as 5m, so a
 *   known split beats an unknown one, and a non-zero 1h count beats an all-5m reading (LiteLLM 1.80
 *   /v1/messages says 1500/0 where Claude Code says 1200/300);
 * - the same prompt total and output, with fewer tokens left as uncached input: a source that cannot
 *   see a cache type counts it as input (OpenLLMetry's OpenAI span of a Claude call through LiteLLM
 *   has the reads but not the writes; LiteLLM's span has both).
 * And whatever they differ in, `otherExact` (the provider SDK's own report of the call, which reads
 * the API's usage itself) wins over a library wrapping the SDK: OpenLLMetry counts a streamed
 * Anthropic call's output one too high.
 */
export function betterBreakdown(base: LlmCall, baseKnown: boolean, other: LlmCall, otherKnown: boolean, otherExact = false): Breakdown | null {
  const of = (c: LlmCall): Breakdown => ({ input: c.input_tokens, output: c.output_tokens, read: c.cache_read_tokens, m5: c.cache_write_5m_tokens, h1: c.cache_write_1h_tokens });
  if (otherExact) return tokensDiffer(base, other) || base.cache_write_1h_tokens !== other.cache_write_1h_tokens ? of(other) : null;
  if (!tokensDiffer(base, other)) {
    if (base.cache_write_1h_tokens === other.cache_write_1h_tokens) return null;
    return (otherKnown && !baseKnown) || (base.cache_write_1h_tokens === 0 && other.cache_write_1h_tokens > 0) ? of(other) : null;
  }
  const prompt = (c: LlmCall) => c.input_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens;
  if (base.output_tokens !== other.output_tokens || prompt(base) !== prompt(other)) return null;
  const finer = other.input_tokens < base.input_tokens && other.cache_read_tokens >= base.cache_read_tokens
    && other.cache_write_5m_tokens + other.cache_write_1h_tokens >= base.cache_write_5m_tokens + base.cache_write_1h_tokens;
  return finer ? of(other) : null;
}

/** Whether two reports of one call disagree on tokens. */
export function tokensDiffer(a: LlmCall, b: LlmCall): boolean {
  return a.input_tokens !== b.input_tokens || a.output_tokens !== b.output_tokens || a.cache_read_tokens !== b.cache_read_tokens
    || a.cache_write_5m_tokens + a.cache_write_1h_tokens !== b.cache_write_5m_tokens + b.cache_write_1h_tokens;
}
