/**
 * The list prices of the plan's models, $ per million tokens, from the providers' price pages
 * (research/pricing.md, ground truth GT-01..03, GT-08): an independent check of cost-enrichment.
 * Bedrock's `us.` inference profile is a regional endpoint: 10 % over the list price.
 */
import type { CheckedRow } from './check.js';

interface Price { input: number; output: number; cacheRead: number; write5m: number; write1h: number }

const PRICES: Record<string, Price> = {
  'anthropic/claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, write5m: 3.75, write1h: 6 },
  'openai/gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075, write5m: 0, write1h: 0 },
  'aws.bedrock/claude-sonnet-4-5': { input: 3.3, output: 16.5, cacheRead: 0.33, write5m: 4.125, write1h: 6.6 },
};

/** What the row's tokens cost at list price, or null for a model not in the table. */
export function expectedCost(r: Pick<CheckedRow, 'provider' | 'model' | 'input_tokens' | 'output_tokens' | 'cache_read_tokens' | 'cache_write_5m_tokens' | 'cache_write_1h_tokens'>): number | null {
  const p = PRICES[`${r.provider}/${r.model}`];
  if (p === undefined) return null;
  return (r.input_tokens * p.input + r.output_tokens * p.output + r.cache_read_tokens * p.cacheRead
    + r.cache_write_5m_tokens * p.write5m + r.cache_write_1h_tokens * p.write1h) / 1e6;
}
