import type { LlmCall } from '../../core/llm-call.js';

/**
 * What a real model call can report (README, "Implausible values"). A report past these bounds is a
 * bug or an attack, never a bill: it is quarantined. The bounds are physical ceilings with margin,
 * not anomaly detection.
 */

/**
 * Prompt tokens (input + cache reads + cache writes) of one call: the largest context window any
 * model advertises is 10M (Llama 4 Scout); Claude's is 1M, Gemini's and Grok 4 Fast's 2M, GPT-4.1's 1M.
 */
export const MAX_CALL_PROMPT_TOKENS = 10_000_000;
/**
 * Output tokens of one call, thinking included: the largest documented maximum output is 300K
 * (Claude on the Batches API with the 300K-output beta; 128K interactive), GPT-5's 128K, Gemini
 * 2.5's 64K. 1M leaves room for the next generation.
 */
export const MAX_CALL_OUTPUT_TOKENS = 1_000_000;
/**
 * A `usage_interval` (Claude Code metrics: one session × model × query source over an export
 * interval, 60 s by default) sums the calls made in it. A call takes at least a few hundred
 * milliseconds and Claude Code runs at most about ten agents at once, so a series cannot hold more
 * than 10 calls per second of its interval (at least one call, at most one day's worth: the first
 * cumulative point after a restart spans the whole session).
 */
export const MAX_INTERVAL_CALLS_PER_SECOND = 10;
export const MAX_INTERVAL_SECONDS = 86_400;
/**
 * Dearest token of any type in USD per million: 2.5 × genai-prices' dearest list price (o1-pro
 * output, $600/M), room for the ×1.1 regional and data-residency and ×2 long-context rules stacked.
 */
export const MAX_USD_PER_MILLION_TOKENS = 1_500;
/** Charges per call that are not tokens (web searches at $0.01, generated images up to ~$0.2 each …). */
export const MAX_FEES_USD_PER_CALL = 10;

export type QuarantineReason = 'invalid_tokens' | 'prompt_tokens_above_bound' | 'output_tokens_above_bound';
export type UntrustedCostReason = 'not_finite' | 'negative' | 'above_ceiling';

/** How many real calls a record may stand for: 1 for a call, by its length for a usage interval. */
export function callsBound(call: LlmCall): number {
  if (call.record_type !== 'usage_interval') return 1;
  const seconds = Number.isFinite(call.duration_ms) && call.duration_ms > 0 ? Math.min(call.duration_ms / 1000, MAX_INTERVAL_SECONDS) : 0;
  return Math.max(1, Math.ceil(seconds * MAX_INTERVAL_CALLS_PER_SECOND));
}

export function promptTokens(call: LlmCall): number {
  return call.input_tokens + call.cache_read_tokens + call.cache_write_5m_tokens + call.cache_write_1h_tokens;
}

/** Why the record's tokens cannot be a real bill, or '' when they can. */
export function tokenVerdict(call: LlmCall): '' | QuarantineReason {
  if (!isCount(call.input_tokens) || !isCount(call.output_tokens) || !isCount(call.cache_read_tokens)
    || !isCount(call.cache_write_5m_tokens) || !isCount(call.cache_write_1h_tokens)) return 'invalid_tokens';
  const calls = callsBound(call);
  if (promptTokens(call) > MAX_CALL_PROMPT_TOKENS * calls) return 'prompt_tokens_above_bound';
  if (call.output_tokens > MAX_CALL_OUTPUT_TOKENS * calls) return 'output_tokens_above_bound';
  return '';
}

/**
 * The most a record with these tokens can cost: every token at the dearest rate, plus the per-call
 * fees. Computed costs stay below it with the bundled prices (a test checks the catalog); a reported
 * cost above it is not trusted.
 */
export function costCeilingUsd(call: LlmCall): number {
  return ((promptTokens(call) + call.output_tokens) * MAX_USD_PER_MILLION_TOKENS) / 1e6 + MAX_FEES_USD_PER_CALL * callsBound(call);
}

/** Why a reported cost is not trusted, or '' when it is (or none was reported). */
export function reportedCostVerdict(call: LlmCall): '' | UntrustedCostReason {
  const r = call.reported_cost_usd;
  if (r === null) return '';
  if (typeof r !== 'number' || !Number.isFinite(r)) return 'not_finite';
  if (r < 0) return 'negative';
  return r > costCeilingUsd(call) ? 'above_ceiling' : '';
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
