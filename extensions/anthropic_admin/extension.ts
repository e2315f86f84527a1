import type { ComponentContext, Extension } from '../../core/component.js';
import { parseDuration } from '../../core/config/duration.js';
import type { DeclaredMetrics } from '../../core/metric-spec.js';
import type { ReconciliationRow } from '../../core/reconciliation.js';
import type { AdminClient } from './admin-client.js';
import { PROVIDER } from './compare.js';
import type { AnthropicAdminConfig } from './config.js';
import { reconciliationMetrics } from './metrics.js';
import { adminClient, dayStart, reconcileWindow, scheduledWindow } from './reconcile.js';

export const ROUTE = '/api/v1/reconciliation';

/**
 * Pulls Anthropic's usage and cost reports every `interval` (first at start), reconciles the
 * lookback window with the ledger (the usageStore capability), stores the rows (the
 * reconciliationStore capability) and sets the drift gauges. Runs never overlap; a failed run is
 * counted and logged (without the key), and the next one tries again.
 */
export class AnthropicAdminExtension implements Extension {
  private readonly metrics: DeclaredMetrics<typeof reconciliationMetrics>;
  private readonly client: AdminClient;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly cfg: AnthropicAdminConfig, private readonly ctx: ComponentContext) {
    this.metrics = ctx.metrics.declare(reconciliationMetrics);
    this.client = adminClient(cfg, (report, status) => this.metrics.requests.inc({ provider: PROVIDER, report, status }));
  }

  async start(): Promise<void> {
    if (!this.ctx.host.get('usageStore') || !this.ctx.host.get('reconciliationStore')) {
      throw new Error('needs a clickhouse exporter in a pipeline: the ledger is read from it and the results are stored there');
    }
    this.metrics.thresholdRatio.set({ provider: PROVIDER }, this.cfg.drift_alert_ratio);
    this.metrics.thresholdUsd.set({ provider: PROVIDER }, this.cfg.drift_alert_usd);
    this.ctx.host.adminRoutes.add(ROUTE, async ({ url }) => this.serve(url));
    this.timer = setInterval(() => { void this.runOnce(); }, parseDuration(this.cfg.interval));
    this.timer.unref();
    void this.runOnce(); // run() catches and counts its own failures
  }

  /** Starts a run unless one is under way; resolves when it ends (tests). */
  runOnce(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.run().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async run(): Promise<void> {
    const now = Date.now();
    try {
      const rows = await reconcileWindow(this.cfg, this.client, this.ctx.host.get('usageStore')!, scheduledWindow(now, parseDuration(this.cfg.lookback)), now);
      await this.ctx.host.get('reconciliationStore')!.write(rows);
      this.setGauges(rows);
      this.metrics.runs.inc({ provider: PROVIDER, result: 'ok' });
      this.metrics.lastSuccess.set({ provider: PROVIDER }, Math.floor(now / 1000));
      const drifting = rows.filter((r) => r.team === '' && r.drift_usd !== 0);
      this.ctx.logger.info('reconciliation done', { rows: rows.length, days_models_with_drift: drifting.length });
    } catch (err) {
      this.metrics.runs.inc({ provider: PROVIDER, result: 'error' });
      this.ctx.logger.error('reconciliation failed; the next run tries again', { err: this.client.redact((err as Error).message) });
    }
  }

  /** The gauges show the last run's window only: days that left it go away. */
  private setGauges(rows: ReconciliationRow[]): void {
    for (const g of [this.metrics.driftUsd, this.metrics.driftRatio, this.metrics.unmatchedUsd]) g.reset();
    for (const r of rows.filter((x) => x.team === '')) {
      const labels = { provider: r.provider, model: r.model, day: r.day, status: r.status };
      this.metrics.driftUsd.set(labels, r.drift_usd);
      this.metrics.driftRatio.set(labels, r.drift_ratio);
      this.metrics.unmatchedUsd.set(labels, r.unmatched_cost_usd);
    }
  }

  /** GET /api/v1/reconciliation?from=YYYY-MM-DD&to=YYYY-MM-DD (default: the lookback window). */
  private async serve(url: URL): Promise<{ status: number; contentType: string; body: string }> {
    const window = scheduledWindow(Date.now(), parseDuration(this.cfg.lookback));
    const from = url.searchParams.get('from') ?? window.fromDay;
    const to = url.searchParams.get('to') ?? window.toDay;
    try {
      if (dayStart(to) <= dayStart(from)) throw new Error(`to ${to} is not after from ${from}`);
    } catch (err) {
      return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: `bad window: ${(err as Error).message}` }) };
    }
    try {
      const rows = await this.ctx.host.get('reconciliationStore')!.read(from, to);
      return { status: 200, contentType: 'application/json', body: JSON.stringify({ from, to, rows }) };
    } catch (err) {
      this.ctx.logger.error('reconciliation read failed', { err: (err as Error).message });
      return { status: 503, contentType: 'application/json', body: JSON.stringify({ error: `ledger unavailable: ${(err as Error).message}` }) };
    }
  }

  /** A reload that removes this extension must not leave its last drift behind (an alert would keep firing on it). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    for (const g of [this.metrics.driftUsd, this.metrics.driftRatio, this.metrics.unmatchedUsd]) g.reset();
  }
}
