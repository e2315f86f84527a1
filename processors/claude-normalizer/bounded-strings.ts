import { createHash } from 'node:crypto';
import type { LlmCall } from '../../core/llm-call.js';

/**
 * Length caps on the strings of a record: they become Prometheus label values and ClickHouse
 * columns, and the join index holds them for the dedupe window (README, "Implausible values").
 */

/** Model ids, Bedrock ARNs, Vertex paths, e-mail addresses (≤ 254) and request ids all fit. */
export const MAX_STRING_LENGTH = 256;
/** Tags per report (LiteLLM request, key and team tags together). */
export const MAX_TAGS = 64;

const SUFFIX_LENGTH = 17; // '~' and 16 hex digits

/** The record's string fields that become columns or labels; `tags`, `dimensions` and `attributes` apart. */
const STRING_FIELDS = [
  'call_id', 'trace_id', 'span_id', 'source', 'source_version', 'route', 'provider', 'model', 'model_raw', 'region',
  'error_type', 'price_ref', 'user', 'team', 'key_alias', 'customer', 'session_id', 'service_name',
] as const;

/**
 * `s` when it fits `max`, else its head and a hash of the whole: two different long values stay
 * different (an id stays an id) and the same value always reads the same.
 */
export function boundString(s: string, max: number): string {
  if (s.length <= max) return s;
  const hash = createHash('sha256').update(s).digest('hex').slice(0, SUFFIX_LENGTH - 1);
  if (max <= SUFFIX_LENGTH) return hash.slice(0, max);
  return `${headOf(s, max - SUFFIX_LENGTH)}~${hash}`;
}

/**
 * The first `n` characters of `s` (one fewer rather than half a surrogate pair), as a copy: a slice
 * would keep the whole multi-megabyte string alive as long as the head lives.
 */
export function headOf(s: string, n: number): string {
  const code = s.charCodeAt(n - 1);
  const cut = code >= 0xd800 && code <= 0xdbff ? n - 1 : n;
  return copy(s.slice(0, cut));
}

/**
 * Caps every string of `call` in place (tags in number too; attribute values are capped by the
 * attribute filter, at `attributes.max_value_length`) and reports each capped field to `truncated`.
 * When anything was cut, every other string of the record is copied as well: values derived from an
 * oversize one (`model` from `model_raw`, a tag from a tag list) are slices that would keep it alive.
 */
export function boundRecordStrings(call: LlmCall, truncated: (field: string) => void): void {
  let cut = false;
  if (fieldsOver(call, MAX_STRING_LENGTH)) {
    for (const f of STRING_FIELDS) {
      const v = call[f];
      if (v.length > MAX_STRING_LENGTH) {
        call[f] = boundString(v, MAX_STRING_LENGTH);
        truncated(f);
        cut = true;
      }
    }
  }
  if (call.tags.length > MAX_TAGS) {
    call.tags = call.tags.slice(0, MAX_TAGS);
    truncated('tags');
    cut = true;
  }
  if (call.tags.some((t) => t.length > MAX_STRING_LENGTH)) {
    call.tags = call.tags.map((t) => boundString(t, MAX_STRING_LENGTH));
    truncated('tags');
    cut = true;
  }
  cut = boundMap(call, 'dimensions', true, truncated) || cut;
  cut = boundMap(call, 'attributes', false, truncated) || cut;
  if (cut) detach(call);
}

/** The common case in a few monomorphic loads (a keyed loop over STRING_FIELDS costs ~20 × more). */
function fieldsOver(c: LlmCall, max: number): boolean {
  return c.call_id.length > max || c.trace_id.length > max || c.span_id.length > max || c.source.length > max
    || c.source_version.length > max || c.route.length > max || c.provider.length > max || c.model.length > max
    || c.model_raw.length > max || c.region.length > max || c.error_type.length > max || c.price_ref.length > max
    || c.user.length > max || c.team.length > max || c.key_alias.length > max || c.customer.length > max
    || c.session_id.length > max || c.service_name.length > max;
}

/** Caps the keys (and `values` too) of one string map, replacing the map only when something is cut. */
function boundMap(call: LlmCall, field: 'dimensions' | 'attributes', values: boolean, truncated: (field: string) => void): boolean {
  const m = call[field];
  let over = false;
  for (const k in m) {
    if (k.length > MAX_STRING_LENGTH || (values && m[k].length > MAX_STRING_LENGTH)) { over = true; break; }
  }
  if (!over) return false;
  const out: Record<string, string> = {};
  for (const k in m) out[boundString(k, MAX_STRING_LENGTH)] = values ? boundString(m[k], MAX_STRING_LENGTH) : m[k];
  call[field] = out;
  truncated(field);
  return true;
}

/** Fresh copies of every string of the record (the rare path after a cut). */
function detach(call: LlmCall): void {
  for (const f of STRING_FIELDS) call[f] = copy(call[f]);
  call.tags = call.tags.map(copy);
  call.dimensions = copyMap(call.dimensions);
  call.attributes = copyMap(call.attributes);
}

function copyMap(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in m) out[copy(k)] = copy(m[k]);
  return out;
}

/** A string that shares no memory with `s` (V8 makes a slice of 13 characters or more a view of its parent). */
export function copy(s: string): string {
  return Buffer.from(s, 'utf16le').toString('utf16le');
}
