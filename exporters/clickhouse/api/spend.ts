import { labelExpr } from '../sql.js';
import { BadRequest, decodeCursor, encodeCursor, type FilterLabel, type GroupKey, type Range } from './request.js';
import { conditions, select, SETTINGS, type Source } from './query.js';

/** The sums of a spend row, in `tokenledger report`'s order. */
export const SPEND_METRICS = ['calls', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd'] as const;

export type SpendRow = Partial<Record<GroupKey, string>> & Record<(typeof SPEND_METRICS)[number], number>;

export interface SpendQuery extends Range {
  groupBy: GroupKey[];
  filters: Partial<Record<FilterLabel, string>>;
  /** `keys`: ordered by the group keys (stable pages); `cost`: most expensive first. */
  sort: 'keys' | 'cost';
  /** Rows of one page; undefined reads them all (the CLI's own report). */
  limit?: number;
  cursor?: string;
}

export interface SpendPage {
  rows: SpendRow[];
  /** Give it back as `cursor` for the next page; null on the last. */
  next_cursor: string | null;
}

/**
 * Spend per group over a time range, each call counted once (FINAL: a re-sent or updated call
 * has several rows until ClickHouse merges them). Pages by offset over a total order (the group
 * keys, after the cost when sorted by cost), so pages neither overlap nor skip while the range
 * is in the past; a range reaching into the present may gain groups between pages.
 */
export async function spend(src: Source, q: SpendQuery): Promise<SpendPage> {
  const offset = q.cursor === undefined ? 0 : decodeCursor<{ offset: number }>(q.cursor, { offset: 'number' }).offset;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new BadRequest('cursor is not one this API gave out; start again without it');
  const { layout } = src;
  const keys = q.groupBy;
  const select_ = keys.map((k) => (k === 'day' ? "toString(toDate(timestamp, 'UTC')) AS day" : `CAST(${labelExpr(layout, k)} AS String) AS \`${k}\``));
  const quoted = keys.map((k) => `\`${k}\``);
  const order = q.sort === 'cost' ? ['cost_usd DESC', ...quoted] : quoted;
  const page = q.limit === undefined ? '' : `LIMIT ${q.limit + 1} OFFSET ${offset}`;
  const query = `SELECT ${[...select_,
    'count() AS calls', 'sum(input_tokens) AS input_tokens', 'sum(output_tokens) AS output_tokens', 'sum(cache_read_tokens) AS cache_read_tokens',
    'sum(cache_write_5m_tokens) + sum(cache_write_1h_tokens) AS cache_write_tokens', 'sum(cost_usd) AS cost_usd'].join(', ')}
FROM ${src.database}.${src.table} FINAL WHERE ${conditions(layout, q, q.filters).join(' AND ')}
${keys.length ? `GROUP BY ${quoted.join(', ')}` : ''} ${order.length ? `ORDER BY ${order.join(', ')}` : ''} ${page}
${SETTINGS}`;
  const raw = await select<Record<string, string | number>>(src, query);
  // Without keys the sums of no rows are one row of zeros: no spend is no row.
  const rows = raw.filter((r) => keys.length > 0 || Number(r.calls) > 0).map((r) => spendRow(r, keys));
  if (q.limit === undefined || rows.length <= q.limit) return { rows, next_cursor: null };
  return { rows: rows.slice(0, q.limit), next_cursor: encodeCursor({ offset: offset + q.limit }) };
}

function spendRow(r: Record<string, string | number>, keys: GroupKey[]): SpendRow {
  const row = {} as SpendRow;
  for (const k of keys) row[k] = String(r[k]);
  for (const m of SPEND_METRICS) row[m] = Number(r[m]);
  return row;
}
