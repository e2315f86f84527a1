/**
 * What reconciling the ledger with a provider's own usage and cost reports produces: one row per
 * day × provider × model (team '' = every team; a team when the provider's API keys or workspaces
 * are mapped to teams). Its field names are the ClickHouse columns of the `reconciliation` table.
 */
export const TOKEN_TYPES = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
export type Tokens = Record<TokenType, number>;

export interface ReconciliationRow {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  provider: string;
  model: string;
  /** '' for the day × model total; else the team the provider's key or workspace maps to. */
  team: string;
  /** `final` once the provider's buckets for the day are settled; `partial` before (timing drift expected). */
  status: 'final' | 'partial';
  ledger_calls: number;
  ledger: Tokens;
  reported: Tokens;
  ledger_cost_usd: number;
  /** From the provider's cost report; null where it gives none (team rows keyed by API key). */
  reported_cost_usd: number | null;
  /** reported − ledger cost (positive: the provider bills more than the ledger shows); 0 without a reported cost. */
  drift_usd: number;
  /** drift_usd relative to the larger of the two costs; 0 when both are 0. */
  drift_ratio: number;
  /** Cost, at the provider's own rates, of the tokens the report has beyond the ledger (calls that never reached tokenledger). */
  unmatched_cost_usd: number;
  /** What is left of the drift once unmatched tokens are accounted for: price differences (discounts, tiers). */
  price_drift_usd: number;
  /** Human-readable reasons, `; `-separated, '' when the two agree. */
  explanation: string;
  /** RFC 3339 time of the reconciliation run. */
  reconciled_at: string;
}

export function zeroTokens(): Tokens {
  return { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0 };
}
