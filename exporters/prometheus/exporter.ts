import type { Counter } from 'prom-client';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Exporter } from '../../core/component.js';
import { parseDuration } from '../../core/config/duration.js';
import type { SpendStore } from '../../core/host.js';
import type { LlmCall } from '../../core/llm-call.js';
import { BudgetTracker, budgetGauges, takePreviousSpend, type BudgetGauges, type BudgetStatus, type ThresholdCrossing } from './budgets.js';
import type { PrometheusExporterConfig } from './config.js';
import { prometheusExporterMetrics } from './metrics.js';
import { WebhookNotifier } from './notifier.js';
import { RecentCalls } from './recent-calls.js';
import { SpendMetrics } from './spend-metrics.js';

/**
 * Call_ids remembered against re-sends: at ~100 bytes each, ~10 MB; more than the calls a client
 * re-sends while an exporter refuses (a full queue empties in seconds to minutes).
 */
const RECENT_CALLS = 100_000;

/**
 * Writes spend metrics and budget gauges to the process registry, which the admin server serves
 * on /metrics. It never blocks a batch: counting is synchronous and notifications go out in the
 * background.
 */
export class PrometheusExporter implements Exporter {
  private readonly spend: SpendMetrics;
  private readonly gauges: BudgetGauges;
  private readonly budgets: BudgetTracker;
  private readonly notifier?: WebhookNotifier;
  private readonly restoreFailures: Counter<'exporter'>;
  private readonly recent = new RecentCalls(RECENT_CALLS);
  private readonly resent: Counter<'exporter'>;
  private timer?: NodeJS.Timeout;
  private syncTimer?: NodeJS.Timeout;
  private syncing = false;
  /** Set when no restore succeeded at start: try once more before the first batch counts. */
  private lateRestore?: Promise<void>;
  private awaitingStore = false;

  constructor(private readonly config: PrometheusExporterConfig, private readonly ctx: ComponentContext, clock: () => number = Date.now) {
    const exporter = ctx.id;
    this.spend = new SpendMetrics(ctx, config.labels, config.max_label_sets);
    this.gauges = budgetGauges(ctx.metrics);
    const folded = ctx.metrics.counter('tokenledger_budget_folded_calls_total', 'Calls billed to the __other__ scope value because a wildcard budget reached max_label_sets values.', ['exporter', 'budget']);
    const late = ctx.metrics.counter('tokenledger_budget_late_calls_total', 'Calls that arrived after their budget period ended, not billed to the current one.', ['exporter', 'budget']);
    this.budgets = new BudgetTracker(
      config.budgets, this.gauges, config.max_label_sets, clock,
      (c) => this.crossed(c),
      (budget) => folded.inc({ exporter, budget }),
      (budget) => late.inc({ exporter, budget }),
    );
    // Failure counters exist at 0 from the start, so that increase() in alert rules sees the first failure.
    this.restoreFailures = ctx.metrics.counter('tokenledger_budget_restore_failures_total', 'Failed reads of budget spend-to-date from the spend store.', ['exporter']);
    if (config.budgets.length > 0) this.restoreFailures.inc({ exporter }, 0);
    this.resent = ctx.metrics.declare(prometheusExporterMetrics).resent;
    this.resent.inc({ exporter }, 0);
    if (config.webhook) {
      const results = ctx.metrics.counter('tokenledger_budget_notifications_total', 'Budget webhook notifications, by result (sent, failed).', ['exporter', 'result']);
      for (const result of ['sent', 'failed']) results.inc({ exporter, result }, 0);
      this.notifier = new WebhookNotifier(config.webhook, ctx.logger, results, exporter);
    }
  }

  async start(): Promise<void> {
    await this.spend.seedFromRegistry();
    const previous = await takePreviousSpend(this.gauges);
    this.budgets.publish();
    if (!this.budgets.empty) {
      this.ctx.host.adminRoutes.add('/api/v1/budgets', async ({ url }) => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ budgets: this.statuses(url.searchParams) }) }));
      const store = this.ctx.host.get('spendStore');
      if (!store || !(await this.restore(store, 'start'))) {
        this.budgets.adopt(previous);
        this.awaitingStore = true;
        if (!store) this.ctx.logger.info('no spend store yet: budgets keep the spend counted in this process; will restore if a store appears before the first batch');
      }
    }
    this.timer = setInterval(() => {
      this.budgets.refresh();
      this.spend.refreshSelfMetrics();
    }, parseDuration(this.config.budget_refresh));
    this.timer.unref();
    const syncMs = parseDuration(this.config.budget_sync);
    if (syncMs > 0 && !this.budgets.empty) {
      this.syncTimer = setInterval(() => void this.sync(), syncMs);
      this.syncTimer.unref();
    }
  }

  /** Budget statuses, narrowed by `budget`, `scope_label` and `scope_value` query parameters when given. */
  private statuses(params: URLSearchParams): BudgetStatus[] {
    const wanted = (['budget', 'scope_label', 'scope_value'] as const).flatMap((k) => (params.has(k) ? [[k, params.get(k)] as const] : []));
    return this.budgets.statuses().filter((s) => wanted.every(([k, v]) => s[k] === v));
  }

  /** Re-reads the deployment's spend-to-date from the ledger (budget_sync); a failure keeps the gauges as they are. */
  async sync(): Promise<void> {
    const store = this.ctx.host.get('spendStore');
    if (store === undefined || this.syncing || this.awaitingStore) return;
    this.syncing = true;
    try {
      await this.budgets.restore(store, true);
    } catch (err) {
      this.restoreFailures.inc({ exporter: this.ctx.id });
      this.ctx.logger.warn('reading budget spend-to-date from the spend store failed; gauges keep this replica\'s count until the next sync', { err });
    } finally {
      this.syncing = false;
    }
  }

  async consume(batch: Batch): Promise<void> {
    if (this.awaitingStore) await (this.lateRestore ??= this.restoreLate());
    const calls = batch.calls.filter((c) => this.recent.add(c.call_id, c.cost_usd));
    if (calls.length < batch.calls.length) this.resent.inc({ exporter: this.ctx.id }, batch.calls.length - calls.length);
    for (let i = 0; i < calls.length; i++) this.spend.record(calls[i]);
    // batch.updates enrich calls already counted (here or by another replica): only a higher price is
    // counted (its rise), so that the cost counter ends where the ledger's row does whichever report
    // of a call came first and wherever it was counted.
    const raised: LlmCall[] = [];
    for (let i = 0; i < batch.updates.length; i++) {
      const u = batch.updates[i];
      const rise = this.recent.rise(u.call_id, u.cost_usd, batch.updateBases?.[i]?.cost_usd);
      if (rise > 0) raised.push({ ...u, cost_usd: rise });
    }
    for (let i = 0; i < raised.length; i++) this.spend.recordCost(raised[i]);
    this.spend.flush();
    this.budgets.add(calls);
    this.budgets.add(raised);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.syncTimer);
    this.timer = undefined;
    await this.notifier?.shutdown();
  }

  /**
   * Exporters start in no fixed order, so the ClickHouse exporter may offer (or be ready to serve)
   * its store only after this one started. Data flows once all have started, so the first batch
   * is the last moment before this exporter has counted anything (the README notes the remaining race).
   */
  private async restoreLate(): Promise<void> {
    const store = this.ctx.host.get('spendStore');
    if (store) await this.restore(store, 'first batch');
    this.awaitingStore = false;
  }

  private async restore(store: SpendStore, when: string): Promise<boolean> {
    try {
      await this.budgets.restore(store);
      this.ctx.logger.info('budget spend-to-date restored from the spend store', { when });
      return true;
    } catch (err) {
      this.restoreFailures.inc({ exporter: this.ctx.id });
      this.ctx.logger.error('restoring budget spend-to-date failed', { err, when, retry: when === 'start' ? 'before the first batch' : 'none: budgets count from here' });
      return false;
    }
  }

  private crossed(c: ThresholdCrossing): void {
    this.ctx.logger.info('budget threshold crossed', { budget: c.budget, scope_label: c.scopeLabel, scope_value: c.scopeValue, threshold: c.threshold, spent_usd: c.spentUsd, limit_usd: c.limitUsd });
    this.notifier?.notify(c);
  }
}
