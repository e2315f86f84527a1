/**
 * Response shapes of Anthropic's Admin API (legacy Usage and Cost API), as documented in
 * https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages and
 * https://platform.claude.com/docs/en/api/admin/cost_report/retrieve (see README "What the API says").
 */
export interface Page<R> {
  data: { starting_at: string; ending_at: string; results: R[] }[];
  has_more: boolean;
  next_page: string | null;
}

/** One group of one bucket; a dimension not grouped by is null (and may be null when grouped: default workspace, no API key). */
export interface UsageResult {
  api_key_id?: string | null;
  workspace_id?: string | null;
  model?: string | null;
  service_tier?: string | null;
  context_window?: string | null;
  inference_geo?: string | null;
  uncached_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  server_tool_use?: { web_search_requests?: number };
}

export interface CostResult {
  currency: string;
  /** Lowest currency units (cents for USD) as a decimal string: "123.45" is $1.23. */
  amount: string;
  workspace_id?: string | null;
  description?: string | null;
  cost_type?: string | null;
  context_window?: string | null;
  model?: string | null;
  service_tier?: string | null;
  token_type?: string | null;
  inference_geo?: string | null;
}

/** token_type of a cost item → the ledger's token field. */
export const COST_TOKEN_TYPES = {
  uncached_input_tokens: 'input_tokens',
  output_tokens: 'output_tokens',
  cache_read_input_tokens: 'cache_read_tokens',
  'cache_creation.ephemeral_5m_input_tokens': 'cache_write_5m_tokens',
  'cache_creation.ephemeral_1h_input_tokens': 'cache_write_1h_tokens',
} as const;
