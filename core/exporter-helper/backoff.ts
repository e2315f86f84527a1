import { parseDuration } from '../config/duration.js';
import type { RetryConfig } from './config.js';

/** Randomization factor of the delay, as in the collector's backoff: the wait is delay × [0.5, 1.5). */
const JITTER = 0.5;

/**
 * Delay before retry number `attempt` (1 = first retry): initial × 2^(attempt-1), capped at
 * max_interval, then jittered so that many exporters recovering at once do not retry in step.
 */
export function backoffDelay(attempt: number, cfg: RetryConfig, random: () => number = Math.random): number {
  const exp = Math.min(parseDuration(cfg.initial_interval) * 2 ** Math.max(0, attempt - 1), parseDuration(cfg.max_interval));
  return Math.max(1, Math.round(exp * (1 - JITTER + 2 * JITTER * random())));
}

/** True when a retry started after `delayMs` would go past max_elapsed (`0s` = never give up). */
export function retryBudgetExhausted(startedMs: number, nowMs: number, delayMs: number, cfg: RetryConfig): boolean {
  const maxElapsedMs = parseDuration(cfg.max_elapsed);
  return maxElapsedMs > 0 && nowMs + delayMs - startedMs > maxElapsedMs;
}
