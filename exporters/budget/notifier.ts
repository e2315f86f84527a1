import type { Counter } from 'prom-client';
import { parseDuration } from '../../core/config/duration.js';
import type { Logger } from '../../core/logger.js';
import type { WebhookConfig } from './config.js';
import type { ThresholdCrossing } from './tracker.js';

const ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;

/** Body of one notification: Slack-compatible `text`, plus the fields for generic receivers. */
export function notificationBody(c: ThresholdCrossing): Record<string, unknown> {
  const pct = Math.round(c.threshold * 100);
  const state = c.threshold >= 1 ? 'exhausted' : `${pct}% used`;
  const usd = (n: number): string => `$${n.toFixed(2)}`;
  const periodStart = new Date(c.periodStartMs).toISOString();
  return {
    text: `tokenledger budget "${c.budget}" (${c.scopeLabel}=${c.scopeValue}) ${state}: ${usd(c.spentUsd)} of ${usd(c.limitUsd)} this ${c.period} (since ${periodStart}, ${c.timezone}); projected ${usd(c.projectedUsd)}.`,
    budget: c.budget,
    scope_label: c.scopeLabel,
    scope_value: c.scopeValue,
    threshold: c.threshold,
    spent_usd: c.spentUsd,
    limit_usd: c.limitUsd,
    utilization_ratio: c.spentUsd / c.limitUsd,
    projected_usd: c.projectedUsd,
    period: c.period,
    timezone: c.timezone,
    period_start: periodStart,
    period_end: new Date(c.periodEndMs).toISOString(),
  };
}

/**
 * POSTs threshold crossings to a webhook, off the data path: consume() never waits for it. The
 * tracker emits each crossing once per period, so this only delivers (with a few retries).
 */
export class WebhookNotifier {
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly timeoutMs: number;

  constructor(
    private readonly config: WebhookConfig,
    private readonly logger: Logger,
    private readonly results: Counter<'exporter' | 'result'>,
    private readonly exporterId: string,
  ) {
    this.timeoutMs = parseDuration(config.timeout);
  }

  notify(crossing: ThresholdCrossing): void {
    const p = this.deliver(crossing).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits for deliveries under way (bounded by their timeouts), cancelling retry waits. */
  async shutdown(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async deliver(crossing: ThresholdCrossing): Promise<void> {
    const body = JSON.stringify(notificationBody(crossing));
    const fields = { budget: crossing.budget, scope_value: crossing.scopeValue, threshold: crossing.threshold };
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const res = await fetch(this.config.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.config.headers },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        await res.arrayBuffer();
        if (res.ok) {
          this.results.inc({ exporter: this.exporterId, result: 'sent' });
          this.logger.info('budget notification sent', fields);
          return;
        }
        this.logger.warn('budget webhook answered with an error', { ...fields, status: res.status, attempt });
      } catch (err) {
        this.logger.warn('budget webhook request failed', { ...fields, err, attempt });
      }
      if (attempt < ATTEMPTS && !(await this.wait(RETRY_DELAY_MS * attempt))) break;
    }
    this.results.inc({ exporter: this.exporterId, result: 'failed' });
    this.logger.error('budget notification not delivered', fields);
  }

  /** Resolves false when shutdown cut the wait short. */
  private wait(ms: number): Promise<boolean> {
    if (this.abort.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.abort.signal.removeEventListener('abort', onAbort); resolve(true); }, ms);
      const onAbort = (): void => { clearTimeout(timer); resolve(false); };
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
