import type { LlmCall, TokenType } from '../../core/llm-call.js';
import type { NormalizerMetrics } from './metrics.js';
import { tokenVerdict } from './plausibility.js';

const DRIFT_TYPES = ['input', 'output', 'cache_read', 'cache_write_5m'] as const;

/**
 * Claude Code's tokens as its events and as its metrics report them, whichever is billed
 * (`…_claude_code_tokens_total{from,type}`), and their drift since start (metrics minus events).
 */
export class ClaudeCodeTotals {
  private readonly totals = { events: new Map<TokenType, number>(), metrics: new Map<TokenType, number>() };

  constructor(private readonly m: Pick<NormalizerMetrics, 'ccTokens' | 'ccDrift'>) {}

  count(from: 'events' | 'metrics', call: LlmCall): void {
    // Impossible counts (a negative delta, NaN) would throw in or poison the counters; the gate counts them.
    if (tokenVerdict(call) === 'invalid_tokens') return;
    const totals = this.totals[from];
    const add = (type: TokenType, n: number) => {
      if (n === 0) return;
      this.m.ccTokens.inc({ from, type }, n);
      totals.set(type, (totals.get(type) ?? 0) + n);
    };
    add('input', call.input_tokens);
    add('output', call.output_tokens);
    add('cache_read', call.cache_read_tokens);
    add('cache_write_5m', call.cache_write_5m_tokens + call.cache_write_1h_tokens);
  }

  setDrift(): void {
    for (const type of DRIFT_TYPES) {
      this.m.ccDrift.set({ type }, (this.totals.metrics.get(type) ?? 0) - (this.totals.events.get(type) ?? 0));
    }
  }
}
