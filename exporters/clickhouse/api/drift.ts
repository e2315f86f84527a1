import type { FilterLabel, Range } from './request.js';
import { conditions, select, SETTINGS, type Source } from './query.js';

/** How a group of calls was priced: the bundled price table, a pipeline.yaml override, or not at all. */
export type Pricing = 'list' | 'override' | 'none';

export interface DriftRow {
  model: string;
  source: string;
  pricing: Pricing;
  calls: number;
  cost_usd: number;
  /** Calls whose source reported its own cost (LiteLLM response_cost, Claude Code cost_usd). */
  reported_calls: number;
  /** tokenledger's cost of those calls, and what the sources said they cost. */
  cost_of_reported_usd: number;
  reported_cost_usd: number;
  /** cost_of_reported − reported; its ratio to reported (null when nothing was reported). */
  drift_usd: number;
  drift_ratio: number | null;
  /** |drift_ratio| ≥ the threshold, or tokens used without any price (calls that used none cost nothing). */
  warning: boolean;
}

export const DEFAULT_DRIFT_THRESHOLD = 0.05;
export const DRIFT_LIMIT = 1000;

/**
 * Where tokenledger's price of a call and the price its source reported disagree, per model ×
 * source × pricing. A price table behind a price change, an override that no longer matches the
 * contract, or a source with stale prices all show here as drift, before the invoice does.
 */
export async function drift(src: Source, q: Range & { filters: Partial<Record<FilterLabel, string>>; threshold: number }): Promise<DriftRow[]> {
  const rows = await select<Record<string, unknown>>(src, `SELECT CAST(model AS String) AS m, CAST(source AS String) AS s,
  multiIf(price_ref = '', 'none', substring(price_ref, 1, 9) = 'override:', 'override', 'list') AS pricing,
  count() AS calls, sum(cost_usd) AS cost, sum(input_tokens + output_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens) AS tokens, countIf(isNotNull(reported_cost_usd)) AS reported_calls,
  sumIf(cost_usd, isNotNull(reported_cost_usd)) AS cost_of_reported, sum(ifNull(reported_cost_usd, 0)) AS reported
FROM ${src.database}.${src.table} FINAL WHERE ${conditions(src.layout, q, q.filters).join(' AND ')}
GROUP BY m, s, pricing ORDER BY cost DESC, m, s, pricing LIMIT ${DRIFT_LIMIT}
${SETTINGS}`);
  return rows.map((r) => {
    const reported = Number(r.reported);
    const costOfReported = Number(r.cost_of_reported);
    const reportedCalls = Number(r.reported_calls);
    const ratio = reportedCalls > 0 && reported > 0 ? (costOfReported - reported) / reported : null;
    const pricing = r.pricing as Pricing;
    return {
      model: String(r.m), source: String(r.s), pricing, calls: Number(r.calls), cost_usd: Number(r.cost), reported_calls: reportedCalls,
      cost_of_reported_usd: costOfReported, reported_cost_usd: reported, drift_usd: costOfReported - reported, drift_ratio: ratio,
      warning: (pricing === 'none' && Number(r.tokens) > 0) || (ratio !== null && Math.abs(ratio) >= q.threshold),
    };
  });
}
