import type { LlmCall } from '../../core/llm-call.js';

/**
 * The record `base` enriched with what `other` (another source's report of the same call) adds:
 * empty attribution and context fields filled, tags and dimensions united. Identity, time, model and
 * tokens stay `base`'s, since that is what was billed. Returns null when `other` adds nothing.
 */
export function mergeCall(base: LlmCall, other: LlmCall, maxAttributes: number): LlmCall | null {
  const m: LlmCall = { ...base };
  let changed = false;
  for (const f of ['user', 'team', 'key_alias', 'customer', 'session_id', 'region', 'provider'] as const) {
    if (m[f] === '' && other[f] !== '') { m[f] = other[f]; changed = true; }
  }
  if (m.trace_id === '' && other.trace_id !== '') { m.trace_id = other.trace_id; m.span_id = other.span_id; changed = true; }
  if (m.ttft_ms === null && other.ttft_ms !== null) { m.ttft_ms = other.ttft_ms; changed = true; }
  if (m.reported_cost_usd === null && other.reported_cost_usd !== null) { m.reported_cost_usd = other.reported_cost_usd; changed = true; }
  const newTags = other.tags.filter((t) => !base.tags.includes(t));
  if (newTags.length > 0) { m.tags = [...base.tags, ...newTags]; changed = true; }
  for (const [k, v] of Object.entries(other.dimensions)) {
    if (!(k in m.dimensions)) {
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

/** Whether two reports of one call disagree on tokens. */
export function tokensDiffer(a: LlmCall, b: LlmCall): boolean {
  return a.input_tokens !== b.input_tokens || a.output_tokens !== b.output_tokens || a.cache_read_tokens !== b.cache_read_tokens
    || a.cache_write_5m_tokens + a.cache_write_1h_tokens !== b.cache_write_5m_tokens + b.cache_write_1h_tokens;
}
