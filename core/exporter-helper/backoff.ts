import type { RetryConfig } from './config.js';

/** Randomization factor of the delay, as in the collector's backoff: the wait is delay × [0.5, 1.5). */
const JITTER = 0.5;

/**
 * Delay before retry number `attempt` (1 = first retry): initial × 2^(attempt-1), capped at
 * max_interval, then jittered so that many exporters recovering at once do not retry in step.
 */
export function backoffDelay(attempt: number, cfg: RetryConfig, random: () => number = Math.random): number {
  const exp = Math.min(cfg.initial_interval_ms * 2 ** Math.max(0, attempt - 1), cfg.max_interval_ms);
  return Math.max(1, Math.round(exp * (1 - JITTER + 2 * JITTER * random())));
}

/** True when a retry started after `delayMs` would go past max_elapsed_ms (0 = never give up). */
export function retryBudgetExhausted(startedMs: number, nowMs: number, delayMs: number, cfg: RetryConfig): boolean {
  return cfg.max_elapsed_ms > 0 && nowMs + delayMs - startedMs > cfg.max_elapsed_ms;
}
