import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ComponentContext } from '../../core/component.js';
import { TOKEN_TYPES, tokensOf, type LlmCall } from '../../core/llm-call.js';
import type { MetricSpec } from '../../core/metric-spec.js';
import { LabelSetGuard } from './cardinality.js';
import { BASE_LABELS, labelReader, type LabelReader } from './labels.js';
import { prometheusExporterMetrics, spendMetrics } from './metrics.js';

type Labels = Record<string, string>;

/**
 * One label combination: its label objects, built once so that counting allocates nothing, and the
 * counter deltas of the batch being counted. prom-client hashes the labels on every inc (~2 µs),
 * so counters are incremented once per combination per batch, not once per call.
 */
interface Series {
  base: Labels;
  ok: Labels;
  error: Labels;
  tokens: Labels[];
  touched: boolean;
  okCalls: number;
  errorCalls: number;
  tokenCounts: number[];
  cost: number;
}

/**
 * The spend counters and latency histograms, on the process registry. Only new billable records
 * are counted: a `usage_interval` record (several calls reported as one) adds tokens and cost but
 * no call and no latency.
 */
export class SpendMetrics {
  private readonly calls: Counter<string>;
  private readonly tokens: Counter<string>;
  private readonly cost: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly ttft: Histogram<string>;
  private readonly invalid: Counter<'exporter' | 'field'>;
  private readonly labelSets: Gauge<'exporter'>;
  private readonly id: string;
  private readonly guard: LabelSetGuard<Series>;
  private readonly labelNames: string[];
  private readonly readers: LabelReader[];
  private readonly values: string[];
  private readonly touched: Series[] = [];

  constructor(ctx: ComponentContext, attributionLabels: readonly string[], maxLabelSets: number) {
    this.labelNames = [...BASE_LABELS, ...attributionLabels];
    this.readers = [
      (c) => c.provider, (c) => c.model, (c) => c.route, (c) => c.source,
      ...attributionLabels.map(labelReader),
    ];
    this.values = new Array<string>(this.readers.length).fill('');
    this.id = ctx.id;
    const names = this.labelNames;
    forgetIfLabelsChanged(ctx.registry, Object.values(spendMetrics).map((s) => s.name), names, ctx);
    // The spend metrics' label names depend on the configured `labels`: made here, from their declarations.
    const labelsOf = (spec: MetricSpec): string[] => [...names, ...(spec.labels ?? [])];
    const { calls, tokens, cost, duration, ttft } = spendMetrics;
    this.calls = ctx.metrics.counter(calls.name, calls.help, labelsOf(calls));
    this.tokens = ctx.metrics.counter(tokens.name, tokens.help, labelsOf(tokens));
    this.cost = ctx.metrics.counter(cost.name, cost.help, labelsOf(cost));
    this.duration = ctx.metrics.histogram(duration.name, duration.help, labelsOf(duration), [...duration.buckets]);
    this.ttft = ctx.metrics.histogram(ttft.name, ttft.help, labelsOf(ttft), [...ttft.buckets]);
    const { invalid, labelSets, folded } = ctx.metrics.declare(prometheusExporterMetrics);
    this.invalid = invalid;
    this.labelSets = labelSets;
    const foldedSeries = folded.labels({ exporter: ctx.id });
    folded.inc({ exporter: ctx.id }, 0); // exists from the start, so that increase() sees the first fold
    this.guard = new LabelSetGuard<Series>(maxLabelSets, BASE_LABELS.length, (v) => this.newSeries(v), () => foldedSeries.inc());
  }

  /** After a reload the registry still holds the old series: count them against the cap. */
  async seedFromRegistry(): Promise<void> {
    const { values } = await this.cost.get();
    for (const v of values) this.guard.seed(this.labelNames.map((n) => String(v.labels[n] ?? '')));
    this.labelSets.set({ exporter: this.id }, this.guard.size);
  }

  /** Counts one new call; the counters see it at the next flush(). */
  record(call: LlmCall): void {
    const series = this.seriesOf(call);
    if (call.record_type === 'call') {
      if (call.status === 'error') series.errorCalls++;
      else series.okCalls++;
      if (this.valid(call.duration_ms, 'duration_ms')) this.duration.observe(series.base, call.duration_ms / 1000);
      if (call.ttft_ms !== null && this.valid(call.ttft_ms, 'ttft_ms')) this.ttft.observe(series.base, call.ttft_ms / 1000);
    }
    for (let t = 0; t < TOKEN_TYPES.length; t++) {
      const n = tokensOf(call, TOKEN_TYPES[t]);
      if (n !== 0 && this.valid(n, TOKEN_TYPES[t])) series.tokenCounts[t] += n;
    }
    if (this.valid(call.cost_usd, 'cost_usd')) series.cost += call.cost_usd;
  }

  /** Counts only the cost of `call` (the rise of an already counted call's price), under its labels. */
  recordCost(call: LlmCall): void {
    if (this.valid(call.cost_usd, 'cost_usd')) this.seriesOf(call).cost += call.cost_usd;
  }

  private seriesOf(call: LlmCall): Series {
    const values = this.values;
    for (let i = 0; i < this.readers.length; i++) values[i] = this.readers[i](call);
    const series = this.guard.resolve(values);
    if (!series.touched) {
      series.touched = true;
      this.touched.push(series);
    }
    return series;
  }

  /** Applies the deltas recorded since the last flush to the counters. */
  flush(): void {
    for (const s of this.touched) {
      if (s.okCalls > 0) this.calls.inc(s.ok, s.okCalls);
      if (s.errorCalls > 0) this.calls.inc(s.error, s.errorCalls);
      for (let t = 0; t < s.tokenCounts.length; t++) {
        if (s.tokenCounts[t] > 0) this.tokens.inc(s.tokens[t], s.tokenCounts[t]);
        s.tokenCounts[t] = 0;
      }
      // inc(0) too, so that every label combination has a cost series (seedFromRegistry reads them back).
      this.cost.inc(s.base, s.cost);
      s.okCalls = 0;
      s.errorCalls = 0;
      s.cost = 0;
      s.touched = false;
    }
    this.touched.length = 0;
  }

  refreshSelfMetrics(): void {
    this.labelSets.set({ exporter: this.id }, this.guard.size);
  }

  private valid(value: number, field: string): boolean {
    if (Number.isFinite(value) && value >= 0) return true;
    this.invalid.inc({ exporter: this.id, field });
    return false;
  }

  private newSeries(values: readonly string[]): Series {
    const base: Labels = {};
    this.labelNames.forEach((n, i) => { base[n] = values[i]; });
    return {
      base,
      ok: { ...base, status: 'ok' },
      error: { ...base, status: 'error' },
      tokens: TOKEN_TYPES.map((t) => ({ ...base, token_type: t })),
      touched: false, okCalls: 0, errorCalls: 0, tokenCounts: TOKEN_TYPES.map(() => 0), cost: 0,
    };
  }
}

/**
 * A reload with a different `labels` list would meet metrics registered with the old label
 * names, which prom-client rejects on every inc: drop them (Prometheus sees a counter reset).
 */
function forgetIfLabelsChanged(registry: Registry, metricNames: readonly string[], labelNames: readonly string[], ctx: ComponentContext): void {
  for (const name of metricNames) {
    const existing = registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] } | undefined;
    if (!existing) continue;
    const had = (existing.labelNames ?? []).filter((n) => n !== 'status' && n !== 'token_type');
    if (had.length === labelNames.length && had.every((n, i) => n === labelNames[i])) continue;
    ctx.logger.warn('spend metric labels changed: resetting the metric', { metric: name, before: had, after: labelNames });
    registry.removeSingleMetric(name);
  }
}
