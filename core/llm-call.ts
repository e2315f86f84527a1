/** The canonical record: one per real model call (ARCHITECTURE.md §4). Field names are column names. */
export interface LlmCall {
  call_id: string;
  record_type: 'call' | 'usage_interval';
  /** RFC 3339 UTC with sub-second digits. */
  timestamp: string;
  duration_ms: number;
  ttft_ms: number | null;
  trace_id: string;
  span_id: string;
  source: string;
  source_version: string;
  route: string;
  provider: string;
  provider_inferred: boolean;
  model: string;
  model_raw: string;
  region: string;
  /** Billed at the base input price: cache reads and writes are NOT included. */
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  cost_usd: number;
  reported_cost_usd: number | null;
  price_ref: string;
  status: 'ok' | 'error';
  error_type: string;
  streaming: boolean;
  user: string;
  team: string;
  key_alias: string;
  customer: string;
  tags: string[];
  dimensions: Record<string, string>;
  session_id: string;
  service_name: string;
  attributes: Record<string, string>;
}

export const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_write_5m', 'cache_write_1h'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export function tokensOf(call: LlmCall, type: TokenType): number {
  switch (type) {
    case 'input': return call.input_tokens;
    case 'output': return call.output_tokens;
    case 'cache_read': return call.cache_read_tokens;
    case 'cache_write_5m': return call.cache_write_5m_tokens;
    case 'cache_write_1h': return call.cache_write_1h_tokens;
  }
}

/** A record with every field at its empty value; sources fill in what they know. */
export function emptyCall(): LlmCall {
  return {
    call_id: '', record_type: 'call', timestamp: '1970-01-01T00:00:00.000Z', duration_ms: 0, ttft_ms: null,
    trace_id: '', span_id: '', source: '', source_version: '', route: 'unknown', provider: '',
    provider_inferred: false, model: '', model_raw: '', region: '', input_tokens: 0, output_tokens: 0,
    cache_read_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0, cost_usd: 0,
    reported_cost_usd: null, price_ref: '', status: 'ok', error_type: '', streaming: false, user: '',
    team: '', key_alias: '', customer: '', tags: [], dimensions: {}, session_id: '', service_name: '',
    attributes: {},
  };
}
