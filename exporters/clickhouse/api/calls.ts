import { sqlString } from '../sql.js';
import { BadRequest, decodeCursor, encodeCursor, type FilterLabel, type Range } from './request.js';
import { conditions, isoMicros, microsExpr, select, SETTINGS, type Source } from './query.js';

/** The LlmCall fields a calls page carries: everything but `attributes` (audit detail, kept for SQL). */
export interface CallRow {
  call_id: string; record_type: string; timestamp: string; duration_ms: number; ttft_ms: number | null;
  source: string; source_version: string; route: string; provider: string; provider_inferred: boolean; model: string; model_raw: string; region: string;
  input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_5m_tokens: number; cache_write_1h_tokens: number;
  cost_usd: number; reported_cost_usd: number | null; price_ref: string; status: string; error_type: string; streaming: boolean;
  user: string; team: string; key_alias: string; customer: string; tags: string[]; dimensions: Record<string, string>;
  session_id: string; service_name: string; trace_id: string; span_id: string;
}

const TEXT = ['call_id', 'record_type', 'source', 'source_version', 'route', 'provider', 'model', 'model_raw', 'region', 'price_ref', 'status', 'error_type', 'user', 'team', 'key_alias', 'customer', 'session_id', 'service_name', 'trace_id', 'span_id'] as const;
const NUMBERS = ['duration_ms', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cost_usd'] as const;

/** CSV columns of a calls page, in LlmCall order. */
export const CALL_COLUMNS: readonly (keyof CallRow)[] = [
  'call_id', 'record_type', 'timestamp', 'duration_ms', 'ttft_ms', 'trace_id', 'span_id', 'source', 'source_version', 'route', 'provider', 'provider_inferred', 'model', 'model_raw', 'region',
  'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cost_usd', 'reported_cost_usd', 'price_ref',
  'status', 'error_type', 'streaming', 'user', 'team', 'key_alias', 'customer', 'tags', 'dimensions', 'session_id', 'service_name',
];

export interface CallsQuery extends Range {
  filters: Partial<Record<FilterLabel, string>>;
  limit: number;
  cursor?: string;
}

export interface CallsPage {
  calls: CallRow[];
  next_cursor: string | null;
}

type Position = { us: string; id: string };

/**
 * Newest calls first, each once in its newest version (FINAL), paged by keyset: the cursor is
 * the (timestamp, call_id) of the last call given, so calls arriving meanwhile never shift a page.
 */
export async function recentCalls(src: Source, q: CallsQuery): Promise<CallsPage> {
  const { layout } = src;
  const us = microsExpr(layout);
  const where = conditions(layout, q, q.filters);
  if (q.cursor !== undefined) {
    const at = decodeCursor<Position>(q.cursor, { us: 'string', id: 'string' });
    if (!/^\d{1,17}$/.test(at.us)) throw new BadRequest('cursor is not one this API gave out; start again without it');
    where.push(`(${us} < ${at.us} OR (${us} = ${at.us} AND call_id < ${sqlString(at.id)}))`);
  }
  const dims = layout.maps ? 'dimensions' : 'dimensions_keys, dimensions_values';
  const query = `SELECT ${[...TEXT.map((c) => `\`${c}\``), ...NUMBERS, 'ttft_ms', 'reported_cost_usd', 'toUInt8(streaming) AS is_streaming', 'toUInt8(provider_inferred) AS is_inferred', 'tags', dims, `${us} AS ts_us`].join(', ')}
FROM ${src.database}.${src.table} FINAL WHERE ${where.join(' AND ')}
ORDER BY ts_us DESC, call_id DESC LIMIT ${q.limit + 1}
${SETTINGS}`;
  const raw = await select<Record<string, unknown>>(src, query);
  const calls = raw.slice(0, q.limit).map(callRow);
  if (raw.length <= q.limit) return { calls, next_cursor: null };
  const last = raw[q.limit - 1];
  return { calls, next_cursor: encodeCursor({ us: String(last.ts_us), id: String(last.call_id) }) };
}

function callRow(r: Record<string, unknown>): CallRow {
  const row: Record<string, unknown> = {};
  for (const c of TEXT) row[c] = String(r[c]);
  for (const c of NUMBERS) row[c] = Number(r[c]);
  row.timestamp = isoMicros(Number(r.ts_us));
  row.ttft_ms = r.ttft_ms === null ? null : Number(r.ttft_ms);
  row.reported_cost_usd = r.reported_cost_usd === null ? null : Number(r.reported_cost_usd);
  row.streaming = Number(r.is_streaming) === 1;
  row.provider_inferred = Number(r.is_inferred) === 1;
  row.tags = r.tags as string[];
  row.dimensions = 'dimensions' in r
    ? r.dimensions as Record<string, string>
    : Object.fromEntries((r.dimensions_keys as string[]).map((k, i) => [k, (r.dimensions_values as string[])[i]]));
  return row as unknown as CallRow;
}
