import type { Counter } from 'prom-client';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Exporter } from '../../core/component.js';
import { RECENT_CALLS, RecentCalls } from '../../core/recent-calls.js';
import type { PrometheusExporterConfig } from './config.js';
import { prometheusExporterMetrics } from './metrics.js';
import { SpendMetrics } from './spend-metrics.js';

/** How often gauges about the exporter itself (label sets in use) are refreshed. */
const SELF_METRICS_REFRESH_MS = 15_000;

/**
 * Writes spend metrics to the process registry, which the admin server serves on /metrics. It
 * never blocks a batch: counting is synchronous. Budgets are the `budget` exporter's.
 */
export class PrometheusExporter implements Exporter {
  private readonly spend: SpendMetrics;
  private readonly recent = new RecentCalls(RECENT_CALLS);
  private readonly resent: Counter<'exporter'>;
  private timer?: NodeJS.Timeout;

  constructor(config: PrometheusExporterConfig, private readonly ctx: ComponentContext) {
    this.spend = new SpendMetrics(ctx, config.labels, config.max_label_sets);
    this.resent = ctx.metrics.declare(prometheusExporterMetrics).resent;
    this.resent.inc({ exporter: ctx.id }, 0);
  }

  async start(): Promise<void> {
    await this.spend.seedFromRegistry();
    this.timer = setInterval(() => this.spend.refreshSelfMetrics(), SELF_METRICS_REFRESH_MS);
    this.timer.unref();
  }

  async consume(batch: Batch): Promise<void> {
    const calls = batch.calls.filter((c) => this.recent.add(c.call_id, c.cost_usd));
    if (calls.length < batch.calls.length) this.resent.inc({ exporter: this.ctx.id }, batch.calls.length - calls.length);
    for (let i = 0; i < calls.length; i++) this.spend.record(calls[i]);
    // batch.updates enrich calls already counted (here or by another replica): only a higher price is
    // counted (its rise), so that the cost counter ends where the ledger's row does whichever report
    // of a call came first and wherever it was counted.
    for (let i = 0; i < batch.updates.length; i++) {
      const u = batch.updates[i];
      const rise = this.recent.rise(u.call_id, u.cost_usd, batch.updateBases?.[i]?.cost_usd);
      if (rise > 0) this.spend.recordCost({ ...u, cost_usd: rise });
    }
    this.spend.flush();
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
