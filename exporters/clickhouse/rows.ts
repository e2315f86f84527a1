import type { LlmCall } from '../../core/llm-call.js';
import type { Layout } from './schema.js';

/** A call with its ingest version, as queued before the table layout was known. */
export interface QueuedCall {
  v: number;
  c: LlmCall;
}

/**
 * A queue record is `<tag><YYYY-MM-DD><json>`: the tag says how the JSON is laid out (a row of
 * one of the four table layouts, or `c` for a QueuedCall when the layout was not known yet), the
 * day feeds the rollup. Rows are serialized once, at consume, in the layout of the table; the
 * sender passes them through as the insert body without parsing them again.
 */
const CALL_TAG = 'c';
const DAY_END = 11;

export function layoutTag(l: Layout): string {
  return String((l.dateTime64 ? 1 : 0) + (l.maps ? 2 : 0));
}

function tagLayout(tag: string): Layout | undefined {
  const n = Number(tag);
  return n >= 0 && n <= 3 ? { dateTime64: (n & 1) === 1, maps: (n & 2) === 2 } : undefined;
}

export function encodeRecord(call: LlmCall, version: number, layout: Layout | undefined): string {
  if (!layout) return `${CALL_TAG}${splitTimestamp(call.timestamp).seconds.slice(0, 10)}{"v":${version},"c":${JSON.stringify(call)}}`;
  const row = toRow({ v: version, c: call }, layout);
  return `${layoutTag(layout)}${(row.timestamp as string).slice(0, 10)}${JSON.stringify(row)}`;
}

/** The call_id of a record (rows and queued calls start with it), for logs that must not carry content. */
export function recordCallId(record: string): string {
  const m = /^\{(?:"v":\d+,"c":\{)?"call_id":("(?:[^"\\]|\\.)*")/.exec(record.slice(DAY_END));
  return m ? (JSON.parse(m[1]) as string) : '';
}

export function recordDay(record: string): string {
  return record.slice(1, DAY_END);
}

/** The JSONEachRow line of a record for a table of `layout`; converted when queued for another layout. */
export function recordRow(record: string, layout: Layout): string {
  const tag = record[0];
  const json = record.slice(DAY_END);
  if (tag === layoutTag(layout)) return json;
  if (tag === CALL_TAG) return JSON.stringify(toRow(JSON.parse(json) as QueuedCall, layout));
  const from = tagLayout(tag);
  if (!from) throw new Error(`queue record with unknown layout tag ${JSON.stringify(tag)}`);
  return JSON.stringify(convertRow(JSON.parse(json) as Record<string, unknown>, from, layout));
}

/**
 * The JSONEachRow insert body of `rows`, one line each, encoded straight into one Buffer: half
 * the CPU of joining them into one string and encoding that, and no multi-megabyte string to collect.
 */
export function insertBody(rows: readonly string[]): Buffer {
  let bytes = 0;
  for (const row of rows) bytes += Buffer.byteLength(row) + 1;
  const body = Buffer.allocUnsafe(bytes);
  let off = 0;
  for (const row of rows) {
    off += body.write(row, off);
    body[off++] = 0x0a;
  }
  return body;
}

/** Re-lays a row out for a table of another layout (the table was recreated while rows were queued). */
export function convertRow(row: Record<string, unknown>, from: Layout, to: Layout): Record<string, unknown> {
  const out = { ...row };
  if (from.dateTime64 && !to.dateTime64) {
    const [seconds, frac = ''] = String(row.timestamp).split('.');
    out.timestamp = seconds;
    out.timestamp_us = Number(frac.padEnd(6, '0').slice(0, 6));
  } else if (!from.dateTime64 && to.dateTime64) {
    out.timestamp = `${String(row.timestamp)}.${String(row.timestamp_us ?? 0).padStart(6, '0')}`;
    delete out.timestamp_us;
  }
  for (const name of ['dimensions', 'attributes']) {
    if (from.maps && !to.maps) {
      const m = (row[name] ?? {}) as Record<string, string>;
      out[`${name}_keys`] = Object.keys(m);
      out[`${name}_values`] = Object.values(m);
      delete out[name];
    } else if (!from.maps && to.maps) {
      const keys = (row[`${name}_keys`] ?? []) as string[];
      const values = (row[`${name}_values`] ?? []) as string[];
      out[name] = Object.fromEntries(keys.map((k, i) => [k, values[i] ?? '']));
      delete out[`${name}_keys`];
      delete out[`${name}_values`];
    }
  }
  return out;
}

/**
 * Versions for records that come without one (Batch.callVersions): they grow with time (µs
 * resolution) and strictly within a process. Safe integers until the year 2255.
 */
export class VersionClock {
  private last = 0;
  next(nowMs: number = Date.now()): number {
    const v = Math.max(nowMs * 1000, this.last + 1);
    this.last = v;
    return v;
  }
}

const TOKEN_FIELDS = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens'] as const;
const RFC3339_UTC = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/** Why a record cannot be stored, or undefined when it can. Checks what would fail the whole insert. */
export function invalidReason(c: LlmCall): string | undefined {
  if (typeof c.call_id !== 'string' || c.call_id === '') return 'call_id is empty';
  if (typeof c.timestamp !== 'string' || Number.isNaN(Date.parse(c.timestamp))) return `timestamp ${JSON.stringify(c.timestamp)} is not RFC 3339`;
  for (const f of TOKEN_FIELDS) {
    const n = c[f];
    if (!Number.isSafeInteger(n) || n < 0) return `${f} ${String(n)} is not a non-negative integer`;
  }
  if (!Number.isFinite(c.cost_usd)) return `cost_usd ${String(c.cost_usd)} is not a finite number`;
  if (!Number.isFinite(c.duration_ms)) return `duration_ms ${String(c.duration_ms)} is not a finite number`;
  return undefined;
}

/** RFC 3339 UTC → 'YYYY-MM-DD hh:mm:ss' and the microseconds within that second. */
export function splitTimestamp(ts: string): { seconds: string; micros: number } {
  const m = RFC3339_UTC.exec(ts);
  if (m) return { seconds: `${m[1]} ${m[2]}`, micros: m[3] ? Number(m[3].padEnd(6, '0').slice(0, 6)) : 0 };
  const iso = new Date(ts).toISOString(); // other offsets: normalised to UTC at ms precision
  return { seconds: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`, micros: Number(iso.slice(20, 23)) * 1000 };
}

const finiteOrNull = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : n);

/** One JSONEachRow object for the calls table in the given layout. */
export function toRow(q: QueuedCall, layout: Layout): Record<string, unknown> {
  const c = q.c;
  const { seconds, micros } = splitTimestamp(c.timestamp);
  const row: Record<string, unknown> = {
    call_id: c.call_id, record_type: c.record_type, duration_ms: c.duration_ms, ttft_ms: finiteOrNull(c.ttft_ms),
    trace_id: c.trace_id, span_id: c.span_id, source: c.source, source_version: c.source_version, route: c.route,
    provider: c.provider, provider_inferred: c.provider_inferred, model: c.model, model_raw: c.model_raw, region: c.region,
    input_tokens: c.input_tokens, output_tokens: c.output_tokens, cache_read_tokens: c.cache_read_tokens,
    cache_write_5m_tokens: c.cache_write_5m_tokens, cache_write_1h_tokens: c.cache_write_1h_tokens,
    cost_usd: c.cost_usd, reported_cost_usd: finiteOrNull(c.reported_cost_usd), price_ref: c.price_ref, status: c.status,
    error_type: c.error_type, streaming: c.streaming, user: c.user, team: c.team, key_alias: c.key_alias,
    customer: c.customer, tags: c.tags, session_id: c.session_id, service_name: c.service_name, ingest_version: q.v,
  };
  if (layout.dateTime64) {
    row.timestamp = `${seconds}.${String(micros).padStart(6, '0')}`;
  } else {
    row.timestamp = seconds;
    row.timestamp_us = micros;
  }
  if (layout.maps) {
    row.dimensions = c.dimensions;
    row.attributes = c.attributes;
  } else {
    row.dimensions_keys = Object.keys(c.dimensions);
    row.dimensions_values = Object.values(c.dimensions);
    row.attributes_keys = Object.keys(c.attributes);
    row.attributes_values = Object.values(c.attributes);
  }
  return row;
}
