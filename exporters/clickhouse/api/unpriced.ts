import type { FilterLabel, Range } from './request.js';
import { conditions, isoMicros, microsExpr, select, SETTINGS, type Source } from './query.js';

export interface UnpricedRow {
  model: string;
  provider: string;
  /** Up to five model strings as the sources reported them: what an override's `model` pattern must match. */
  model_raw: string[];
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  first_seen: string;
  last_seen: string;
}

/** Most rows one answer holds: there are not that many models, and each is one row. */
export const UNPRICED_LIMIT = 1000;

/**
 * Models that used tokens without a price (cost_usd 0, price_ref ''), most calls first: each is
 * spend the ledger does not show until a price override or a newer price table covers it.
 * Calls that used no tokens (errors before the model ran) cost nothing and are left out.
 */
export async function unpriced(src: Source, q: Range & { filters: Partial<Record<FilterLabel, string>> }): Promise<UnpricedRow[]> {
  const us = microsExpr(src.layout);
  const rows = await select<Record<string, unknown>>(src, `SELECT CAST(model AS String) AS m, CAST(provider AS String) AS p,
  arraySlice(groupUniqArray(CAST(model_raw AS String)), 1, 5) AS raws, count() AS calls,
  sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cache_read_tokens) AS cr, sum(cache_write_5m_tokens) + sum(cache_write_1h_tokens) AS cw,
  min(${us}) AS first_us, max(${us}) AS last_us
FROM ${src.database}.${src.table} FINAL
WHERE ${[...conditions(src.layout, q, q.filters), "price_ref = ''", 'input_tokens + output_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens > 0'].join(' AND ')}
GROUP BY m, p ORDER BY calls DESC, m, p LIMIT ${UNPRICED_LIMIT}
${SETTINGS}`);
  return rows.map((r) => ({
    model: String(r.m), provider: String(r.p), model_raw: (r.raws as string[]).slice().sort(), calls: Number(r.calls),
    input_tokens: Number(r.i), output_tokens: Number(r.o), cache_read_tokens: Number(r.cr), cache_write_tokens: Number(r.cw),
    first_seen: isoMicros(Number(r.first_us)), last_seen: isoMicros(Number(r.last_us)),
  }));
}
