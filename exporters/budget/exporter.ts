import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Exporter } from '../../core/component.js';
import { parseDuration } from '../../core/config/duration.js';
import type { SpendStore } from '../../core/host.js';
import type { LlmCall } from '../../core/llm-call.js';
import type { DeclaredMetrics } from '../../core/metric-spec.js';
import { RECENT_CALLS, RecentCalls } from '../../core/recent-calls.js';
import { checkLabels, jsonResponse, type CheckAnswer } from './check.js';
import type { BudgetExporterConfig } from './config.js';
import { budgetMetrics } from './metrics.js';
import { WebhookNotifier } from './notifier.js';
import { BudgetTracker, takePreviousSpend, type BudgetStatus, type ThresholdCrossing } from './tracker.js';

/**
 * Budgets' one home: counts priced calls against the configured budgets, restores spent-to-date
 * from the ledger exporter it names (started before it), re-reads it every sync_interval when
 * several replicas share it, publishes the tokenledger_budget_* gauges, notifies a webhook, and
 * answers the admin routes the console and the gateway hook read. consume() never waits on I/O.
 */
export class BudgetExporter implements Exporter {
  private readonly m: DeclaredMetrics<typeof budgetMetrics>;
  private readonly tracker: BudgetTracker;
  private readonly notifier?: WebhookNotifier;
  private readonly recent = new RecentCalls(RECENT_CALLS);
  private timer?: NodeJS.Timeout;
  private syncTimer?: NodeJS.Timeout;
  private reading = false;
  /** False until a read of the ledger succeeded: the refresh timer retries it. */
  private restored = false;
  private ledgerReadAt: Date | null = null;

  constructor(private readonly config: BudgetExporterConfig, private readonly ctx: ComponentContext, clock: () => number = Date.now) {
    const exporter = ctx.id;
    this.m = ctx.metrics.declare(budgetMetrics);
    this.tracker = new BudgetTracker(
      config.budgets, this.m, config.max_scope_values, clock,
      (c) => this.crossed(c),
      (budget) => this.m.folded.inc({ exporter, budget }),
      (budget) => this.m.late.inc({ exporter, budget }),
    );
    // Failure counters exist at 0 from the start, so that increase() in alert rules sees the first failure.
    this.m.restoreFailures.inc({ exporter }, 0);
    this.m.resent.inc({ exporter }, 0);
    if (config.webhook) {
      for (const result of ['sent', 'failed']) this.m.notifications.inc({ exporter, result }, 0);
      this.notifier = new WebhookNotifier(config.webhook, ctx.logger, this.m.notifications, exporter);
    }
  }

  async start(): Promise<void> {
    // A reload hands the spend counted so far over through the gauges (the registry outlives the graph).
    const previous = await takePreviousSpend(this.m);
    this.tracker.publish();
    const store = this.store();
    if (store) this.restored = await this.read(store, 'start');
    if (!this.restored) this.tracker.adopt(previous);
    if (!store) {
      this.restored = true;
      this.ctx.logger.info('no ledger configured: budgets count the calls this process sees from now on');
    }
    this.ctx.host.adminRoutes.add('/api/v1/budgets', async ({ url }) => jsonResponse(200, { budgets: this.statuses(url.searchParams) }));
    this.ctx.host.adminRoutes.add('/api/v1/budgets/check', async ({ url }) => this.check(url.searchParams));
    this.timer = setInterval(() => this.tick(), parseDuration(this.config.refresh_interval));
    this.timer.unref();
    if (this.config.sync_interval !== undefined && store) {
      this.syncTimer = setInterval(() => void this.sync(), parseDuration(this.config.sync_interval));
      this.syncTimer.unref();
    }
  }

  async consume(batch: Batch): Promise<void> {
    const calls = batch.calls.filter((c) => this.recent.add(c.call_id, c.cost_usd));
    if (calls.length < batch.calls.length) this.m.resent.inc({ exporter: this.ctx.id }, batch.calls.length - calls.length);
    // An update that prices a call higher (a second source's cache-write split) counts its rise, as
    // the ledger's row does; a lower price is not subtracted.
    const raised: LlmCall[] = [];
    for (let i = 0; i < batch.updates.length; i++) {
      const u = batch.updates[i];
      const rise = this.recent.rise(u.call_id, u.cost_usd, batch.updateBases?.[i]?.cost_usd);
      if (rise > 0) raised.push({ ...u, cost_usd: rise });
    }
    this.tracker.add(calls);
    this.tracker.add(raised);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.syncTimer);
    this.timer = undefined;
    this.syncTimer = undefined;
    await this.notifier?.shutdown();
  }

  /** Re-reads the deployment's spend-to-date from the ledger (sync_interval); a failure keeps the figures as they are. */
  async sync(): Promise<void> {
    const store = this.store();
    if (store && this.restored) await this.read(store, 'sync');
  }

  private store(): SpendStore | undefined {
    if (this.config.ledger === undefined) return undefined;
    const store = this.ctx.host.get('spendStore', this.config.ledger);
    // Validation checked that the ledger exporter offers a store, and it is created before this one.
    if (!store) throw new Error(`budget exporter '${this.ctx.id}': ledger '${this.config.ledger}' offers no spend store`);
    return store;
  }

  /**
   * At start, thresholds the ledger's spend already crossed count as notified (they were, before
   * the restart); at a sync, a threshold the deployment crossed is notified.
   */
  private async read(store: SpendStore, when: 'start' | 'retry' | 'sync'): Promise<boolean> {
    if (this.reading) return false;
    this.reading = true;
    const began = new Date();
    try {
      await this.tracker.restore(store, when === 'sync');
      this.ledgerReadAt = began;
      if (when !== 'sync') this.ctx.logger.info('budget spend-to-date read from the ledger', { ledger: this.config.ledger, when });
      return true;
    } catch (err) {
      this.m.restoreFailures.inc({ exporter: this.ctx.id });
      const next = when === 'sync' ? 'the next sync' : `a retry every ${this.config.refresh_interval}`;
      this.ctx.logger.error('reading budget spend-to-date from the ledger failed; budgets count this process\'s calls meanwhile', { ledger: this.config.ledger, when, next, err });
      return false;
    } finally {
      this.reading = false;
    }
  }

  private tick(): void {
    this.tracker.refresh();
    const store = this.store();
    if (!this.restored && store) void this.read(store, 'retry').then((ok) => { this.restored ||= ok; });
  }

  /** Budget statuses, narrowed by `budget`, `scope_label` and `scope_value` query parameters when given. */
  private statuses(params: URLSearchParams): BudgetStatus[] {
    const wanted = (['budget', 'scope_label', 'scope_value'] as const).flatMap((k) => (params.has(k) ? [[k, params.get(k)] as const] : []));
    return this.tracker.statuses().filter((s) => wanted.every(([k, v]) => s[k] === v));
  }

  private check(params: URLSearchParams) {
    const labels = checkLabels(params);
    if (typeof labels === 'string') {
      this.m.checks.inc({ exporter: this.ctx.id, result: 'bad_request' });
      return jsonResponse(400, { error: labels });
    }
    const exhausted = this.tracker.exhausted(labels);
    this.m.checks.inc({ exporter: this.ctx.id, result: exhausted.length ? 'exhausted' : 'allowed' });
    const answer: CheckAnswer = { allowed: exhausted.length === 0, exhausted, ledger_read_at: this.ledgerReadAt?.toISOString() ?? null };
    return jsonResponse(200, answer);
  }

  private crossed(c: ThresholdCrossing): void {
    this.ctx.logger.info('budget threshold crossed', { budget: c.budget, scope_label: c.scopeLabel, scope_value: c.scopeValue, threshold: c.threshold, spent_usd: c.spentUsd, limit_usd: c.limitUsd });
    this.notifier?.notify(c);
  }
}
