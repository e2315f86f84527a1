import type { Gauge } from 'prom-client';
import { labelReader, OTHER, type LabelReader } from '../../core/attribution.js';
import type { SpendStore } from '../../core/host.js';
import type { LlmCall } from '../../core/llm-call.js';
import type { DeclaredMetrics } from '../../core/metric-spec.js';
import type { BudgetConfig } from './config.js';
import type { budgetMetrics } from './metrics.js';
import { periodBounds, type PeriodBounds } from './periods.js';

/** Scope value for spend whose wildcard label is empty (e.g. calls without a team). */
export const UNATTRIBUTED = '__unattributed__';

/** Early in a period the burn rate is noise: elapsed time counts as at least this share of the period. */
const MIN_ELAPSED_SHARE = 0.01;

export interface ThresholdCrossing {
  budget: string;
  scopeLabel: string;
  scopeValue: string;
  threshold: number;
  spentUsd: number;
  limitUsd: number;
  projectedUsd: number;
  period: BudgetConfig['period'];
  timezone: string;
  periodStartMs: number;
  periodEndMs: number;
}

/** Spend a previous instance published in this process (read back from the gauges on a reload). */
export interface PreviousSpend {
  budget: string;
  scopeLabel: string;
  scopeValue: string;
  periodEndMs: number;
  spentUsd: number;
}

/** One budget × scope value now: what `GET /api/v1/budgets` answers (the console reads it) and `/check` lists when exhausted. */
export interface BudgetStatus {
  budget: string;
  scope_label: string;
  scope_value: string;
  period: BudgetConfig['period'];
  timezone: string;
  /** ISO 8601, UTC. */
  period_start: string;
  period_end: string;
  limit_usd: number;
  spent_usd: number;
  /** spent / limit (1 = exhausted). */
  utilization: number;
  /** Spend at the end of the period at the burn rate so far. */
  projected_usd: number;
  thresholds: number[];
  thresholds_crossed: number[];
  exhausted: boolean;
}

type GaugeSeries = Gauge.Internal<string>;

interface ScopeState {
  value: string;
  spent: number;
  /** Index of the next threshold not yet crossed in this period. */
  nextThreshold: number;
  /** Spend added in the batch being counted, gauges not yet updated. */
  dirty: boolean;
  /** Spend counted here since the last read of the spend store began (added on top of what it returns). */
  sinceSync: number;
  spentGauge: GaugeSeries;
  utilizationGauge: GaugeSeries;
  projectedGauge: GaugeSeries;
}

const LABELS = ['budget', 'scope_label', 'scope_value'] as const;

/** One configured budget: which calls it counts, its current period, and its spend per scope value. */
class Budget {
  readonly scopeLabel: string;
  readonly wildcard: boolean;
  readonly fixedValue: string;
  readonly thresholds: number[];
  readonly where: Record<string, string>;
  private readonly scopeReader: LabelReader;
  private readonly conditions: [LabelReader, string][];
  readonly scopes = new Map<string, ScopeState>();
  bounds: PeriodBounds;

  constructor(readonly config: BudgetConfig, now: number) {
    const entries = Object.entries(config.scope);
    const wild = entries.find(([, v]) => v === '*');
    this.wildcard = wild !== undefined;
    this.scopeLabel = wild ? wild[0] : entries[0][0];
    this.fixedValue = wild ? '' : entries[0][1];
    this.scopeReader = labelReader(this.scopeLabel);
    this.where = Object.fromEntries(entries.filter(([, v]) => v !== '*'));
    this.conditions = Object.entries(this.where).map(([k, v]) => [labelReader(k), v]);
    this.thresholds = [...new Set([...config.warn_at, 1])].sort((a, b) => a - b);
    this.bounds = periodBounds(now, config.period, config.timezone);
  }

  /** The scope value this call's spend counts under, or undefined when the budget does not cover it. */
  scopeOf(call: LlmCall): string | undefined {
    for (const [read, value] of this.conditions) if (read(call) !== value) return undefined;
    if (!this.wildcard) return this.fixedValue;
    return this.scopeReader(call) || UNATTRIBUTED;
  }

  /**
   * The same for a call not made yet, known by its labels ('' = the call has none): undefined
   * when the budget does not cover it, or when a label of its scope is not given (unknown).
   */
  scopeOfLabels(labels: ReadonlyMap<string, string>): string | undefined {
    for (const [label, value] of Object.entries(this.where)) if (labels.get(label) !== value) return undefined;
    if (!this.wildcard) return this.fixedValue;
    const value = labels.get(this.scopeLabel);
    return value === undefined ? undefined : value || UNATTRIBUTED;
  }
}

function status(b: Budget, s: ScopeState, now: number): BudgetStatus {
  const utilization = s.spent / b.config.limit_usd;
  return {
    budget: b.config.name, scope_label: b.scopeLabel, scope_value: s.value, period: b.config.period, timezone: b.config.timezone,
    period_start: new Date(b.bounds.startMs).toISOString(), period_end: new Date(b.bounds.endMs).toISOString(),
    limit_usd: b.config.limit_usd, spent_usd: s.spent, utilization, projected_usd: projection(b.bounds, s.spent, now),
    thresholds: b.thresholds, thresholds_crossed: b.thresholds.filter((t) => utilization >= t), exhausted: utilization >= 1,
  };
}

/** Spend at the end of the period if it goes on at the rate so far. */
function projection({ startMs, endMs }: PeriodBounds, spent: number, now: number): number {
  const length = endMs - startMs;
  const elapsed = Math.max(now - startMs, length * MIN_ELAPSED_SHARE);
  return spent * (length / Math.min(elapsed, length));
}

/** The gauges the tracker publishes (declared in metrics.ts). */
export type BudgetGauges = Pick<DeclaredMetrics<typeof budgetMetrics>, 'limit' | 'spent' | 'utilization' | 'projected' | 'periodEnd'>;

/** Reads what the budget gauges hold now, then clears them for the new instance to publish. */
export async function takePreviousSpend(gauges: BudgetGauges): Promise<PreviousSpend[]> {
  const ends = new Map((await gauges.periodEnd.get()).values.map((v) => [String(v.labels.budget), v.value * 1000]));
  const previous = (await gauges.spent.get()).values.flatMap((v) => {
    const periodEndMs = ends.get(String(v.labels.budget));
    return periodEndMs === undefined ? [] : [{
      budget: String(v.labels.budget), scopeLabel: String(v.labels.scope_label), scopeValue: String(v.labels.scope_value), periodEndMs, spentUsd: v.value,
    }];
  });
  for (const g of Object.values(gauges)) g.reset();
  return previous;
}

/**
 * Spend per budget × scope value in the current period, published as gauges. Calls count by their
 * own timestamp: a late call from an earlier period is not billed to the current one.
 */
export class BudgetTracker {
  private readonly budgets: Budget[];
  private readonly dirty: [Budget, ScopeState][] = [];
  private nextRollMs: number;

  constructor(
    configs: readonly BudgetConfig[],
    private readonly gauges: BudgetGauges,
    private readonly maxScopes: number,
    private readonly clock: () => number,
    private readonly onCrossing: (c: ThresholdCrossing) => void,
    private readonly onFold: (budget: string) => void,
    private readonly onLate: (budget: string) => void,
  ) {
    const now = clock();
    this.budgets = configs.map((c) => new Budget(c, now));
    this.nextRollMs = Math.min(Infinity, ...this.budgets.map((b) => b.bounds.endMs));
  }

  get empty(): boolean {
    return this.budgets.length === 0;
  }

  /** Publishes every budget's gauges: fixed-scope budgets show up at once, before any spend. */
  publish(): void {
    const now = this.clock();
    for (const b of this.budgets) {
      this.gauges.periodEnd.set({ budget: b.config.name }, b.bounds.endMs / 1000);
      if (!b.wildcard) this.scope(b, b.fixedValue);
      for (const s of b.scopes.values()) this.update(b, s, now);
    }
  }

  add(calls: readonly LlmCall[]): void {
    if (this.budgets.length === 0) return;
    const now = this.clock();
    if (now >= this.nextRollMs) this.roll(now);
    for (const call of calls) {
      if (!(call.cost_usd > 0) || !Number.isFinite(call.cost_usd)) continue;
      const parsed = Date.parse(call.timestamp);
      const ts = Number.isNaN(parsed) ? now : parsed;
      for (const b of this.budgets) {
        const value = b.scopeOf(call);
        if (value === undefined) continue;
        if (ts < b.bounds.startMs) {
          this.onLate(b.config.name);
          continue;
        }
        const s = this.scope(b, value);
        s.spent += call.cost_usd;
        s.sinceSync += call.cost_usd;
        if (!s.dirty) {
          s.dirty = true;
          this.dirty.push([b, s]);
        }
      }
    }
    // Gauges (and threshold checks) once per scope per batch: a gauge set costs a label hash.
    for (const [b, s] of this.dirty) {
      s.dirty = false;
      this.update(b, s, now);
    }
    this.dirty.length = 0;
  }

  /** Every budget × scope value of the current period, as it stands now (rolled over first if due). */
  statuses(): BudgetStatus[] {
    const now = this.clock();
    if (now >= this.nextRollMs) this.roll(now);
    return this.budgets.flatMap((b) => [...b.scopes.values()].map((s) => status(b, s, now)));
  }

  /**
   * The exhausted budgets that would count a call with these labels: a few map lookups, for the
   * gateway's pre-call check. A scope value folded into __other__ is never reported (its limit
   * is not that value's).
   */
  exhausted(labels: ReadonlyMap<string, string>): BudgetStatus[] {
    const now = this.clock();
    if (now >= this.nextRollMs) this.roll(now);
    const out: BudgetStatus[] = [];
    for (const b of this.budgets) {
      const value = b.scopeOfLabels(labels);
      const s = value === undefined ? undefined : b.scopes.get(value);
      if (s && s.spent >= b.config.limit_usd) out.push(status(b, s, now));
    }
    return out;
  }

  /** Period rollover and projections move with time alone: called on a timer. */
  refresh(): void {
    const now = this.clock();
    if (now >= this.nextRollMs) this.roll(now);
    for (const b of this.budgets) for (const s of b.scopes.values()) this.update(b, s, now);
  }

  /**
   * Sets spent-to-date of the current period from a store (the ClickHouse exporter's): at start,
   * before data flows (thresholds already crossed count as notified: they were, before the
   * restart), and, with several replicas writing one ledger, every `sync_interval` (`notify`: a
   * threshold the deployment's spend crossed is notified). Spend counted here while the queries
   * run is added on top of what they return.
   */
  async restore(store: SpendStore, notify = false): Promise<void> {
    for (const b of this.budgets) for (const s of b.scopes.values()) s.sinceSync = 0;
    const asked = this.budgets.map((b) => ({ b, endMs: b.bounds.endMs, query: { fromMs: b.bounds.startMs, toMs: b.bounds.endMs, groupBy: b.scopeLabel, where: b.where } }));
    const answers: Map<string, number>[] = [];
    for (const a of asked) answers.push(await store.spendBy(a.query));
    asked.forEach(({ b, endMs }, i) => {
      if (b.bounds.endMs !== endMs) return; // rolled over meanwhile: the answer is of the last period
      const ledger = new Map<ScopeState, number>();
      if (b.wildcard) {
        for (const [value, usd] of answers[i]) {
          const s = this.scope(b, value || UNATTRIBUTED);
          ledger.set(s, (ledger.get(s) ?? 0) + usd);
        }
      } else {
        ledger.set(this.scope(b, b.fixedValue), answers[i].get(b.fixedValue) ?? 0);
      }
      for (const s of b.scopes.values()) this.setSpent(b, s, ledger.get(s) ?? 0, notify);
    });
  }

  /** Adopts spend a previous instance counted (same budget, scope label and period), e.g. across a reload. */
  adopt(previous: readonly PreviousSpend[]): void {
    for (const p of previous) {
      const b = this.budgets.find((x) => x.config.name === p.budget);
      if (b && b.scopeLabel === p.scopeLabel && b.bounds.endMs === p.periodEndMs) this.setSpent(b, this.scope(b, p.scopeValue), p.spentUsd, false);
    }
  }

  /** Spent = `usd` (the ledger's, or a previous instance's) + what was counted here since the read began. */
  private setSpent(b: Budget, s: ScopeState, usd: number, notify: boolean): void {
    if (!Number.isFinite(usd) || usd < 0) return;
    s.spent = usd + s.sinceSync;
    if (!notify) {
      const utilization = s.spent / b.config.limit_usd;
      while (s.nextThreshold < b.thresholds.length && utilization >= b.thresholds[s.nextThreshold]) s.nextThreshold++;
    }
    this.update(b, s, this.clock(), notify);
  }

  private scope(b: Budget, raw: string): ScopeState {
    let value = raw;
    let s = b.scopes.get(value);
    if (s) return s;
    if (b.wildcard && b.scopes.size >= this.maxScopes) {
      this.onFold(b.config.name);
      value = OTHER;
      s = b.scopes.get(value);
      if (s) return s;
    }
    const labels = { budget: b.config.name, scope_label: b.scopeLabel, scope_value: value };
    this.gauges.limit.set(labels, b.config.limit_usd);
    s = {
      value, spent: 0, nextThreshold: 0, dirty: false, sinceSync: 0,
      spentGauge: this.gauges.spent.labels(labels),
      utilizationGauge: this.gauges.utilization.labels(labels),
      projectedGauge: this.gauges.projected.labels(labels),
    };
    b.scopes.set(value, s);
    this.update(b, s, this.clock(), false);
    return s;
  }

  private update(b: Budget, s: ScopeState, now: number, notify = true): void {
    const { startMs, endMs } = b.bounds;
    const projected = projection(b.bounds, s.spent, now);
    const utilization = s.spent / b.config.limit_usd;
    s.spentGauge.set(s.spent);
    s.utilizationGauge.set(utilization);
    s.projectedGauge.set(projected);
    if (!notify) return;
    while (s.nextThreshold < b.thresholds.length && utilization >= b.thresholds[s.nextThreshold]) {
      this.onCrossing({
        budget: b.config.name, scopeLabel: b.scopeLabel, scopeValue: s.value, threshold: b.thresholds[s.nextThreshold],
        spentUsd: s.spent, limitUsd: b.config.limit_usd, projectedUsd: projected, period: b.config.period,
        timezone: b.config.timezone, periodStartMs: startMs, periodEndMs: endMs,
      });
      s.nextThreshold++;
    }
  }

  private roll(now: number): void {
    for (const b of this.budgets) {
      if (now < b.bounds.endMs) continue;
      b.bounds = periodBounds(now, b.config.period, b.config.timezone);
      this.gauges.periodEnd.set({ budget: b.config.name }, b.bounds.endMs / 1000);
      for (const s of b.scopes.values()) {
        if (b.wildcard) {
          for (const g of [this.gauges.limit, this.gauges.spent, this.gauges.utilization, this.gauges.projected]) {
            g.remove({ budget: b.config.name, scope_label: b.scopeLabel, scope_value: s.value });
          }
        } else {
          s.spent = 0;
          s.nextThreshold = 0;
          this.update(b, s, now);
        }
      }
      if (b.wildcard) b.scopes.clear();
    }
    this.nextRollMs = Math.min(...this.budgets.map((b) => b.bounds.endMs));
  }
}
