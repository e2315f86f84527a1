import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeclaredMetrics, MetricSpec, MetricSpecs } from './metric-spec.js';

/**
 * Get-or-create access to prom-client metrics on one registry. A reload builds new components
 * that ask for the same metric names; they get the existing metric, so counters keep counting.
 */
export class SelfMetrics {
  constructor(readonly registry: Registry) {}

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.getOrCreate(name, () => new Counter({ name, help, labelNames, registers: [this.registry] }));
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.getOrCreate(name, () => new Gauge({ name, help, labelNames, registers: [this.registry] }));
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    return this.getOrCreate(name, () => new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) }));
  }

  /** Makes (or finds) every metric a component's `metrics.ts` declares. */
  declare<T extends MetricSpecs>(specs: T): DeclaredMetrics<T> {
    const out: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(specs)) out[key] = this.make(spec);
    return out as DeclaredMetrics<T>;
  }

  private make(spec: MetricSpec): unknown {
    const labels = spec.labels ?? [];
    if (spec.type === 'counter') return this.counter(spec.name, spec.help, labels);
    if (spec.type === 'gauge') return this.gauge(spec.name, spec.help, labels);
    return this.histogram(spec.name, spec.help, labels, spec.buckets ? [...spec.buckets] : undefined);
  }

  /**
   * The same registry seen through constant labels: every metric asked for gets these label names
   * too, and every sample they set carries their values. Processors are built once per pipeline,
   * so their metrics are labelled `pipeline` rather than summed across pipelines that each saw the
   * same data.
   */
  labelled(constant: Readonly<Record<string, string>>): SelfMetrics {
    return new LabelledSelfMetrics(this.registry, constant);
  }

  /**
   * Removes every series whose labels include `match` (the metrics of a pipeline a reload removed:
   * its gauges would otherwise keep their last value forever).
   */
  async removeSeries(match: Readonly<Record<string, string>>): Promise<void> {
    const wanted = Object.entries(match);
    for (const { name } of this.registry.getMetricsAsArray()) {
      const metric = this.registry.getSingleMetric(name);
      if (!metric) continue;
      const { values } = await metric.get();
      const seen = new Set<string>();
      for (const { labels } of values) {
        if (!wanted.every(([k, v]) => labels[k] === v)) continue;
        const series = { ...labels };
        delete series.le; // a histogram's buckets are one series with its sum and count
        const key = JSON.stringify(series);
        if (seen.has(key)) continue;
        seen.add(key);
        metric.remove(series);
      }
    }
  }

  protected getOrCreate<M>(name: string, make: () => M): M {
    return (this.registry.getSingleMetric(name) as M | undefined) ?? make();
  }
}

class LabelledSelfMetrics extends SelfMetrics {
  private readonly names: string[];

  constructor(registry: Registry, private readonly constant: Readonly<Record<string, string>>) {
    super(registry);
    this.names = Object.keys(constant);
  }

  override counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.bind(super.counter<string>(name, help, [...labelNames, ...this.names])) as unknown as Counter<L>;
  }

  override gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.bind(super.gauge<string>(name, help, [...labelNames, ...this.names])) as unknown as Gauge<L>;
  }

  override histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    return this.bind(super.histogram<string>(name, help, [...labelNames, ...this.names], buckets)) as unknown as Histogram<L>;
  }

  /** Adds the constant labels to every method that takes labels (as an object, as positional values, or none). */
  private bind<M extends object>(metric: M): M {
    const { constant, names } = this;
    const values = names.map((n) => constant[n]);
    // Copied key by key: a spread object is several times slower for prom-client to hash (measured).
    const merge = (labels: object): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (const k in labels) out[k] = (labels as Record<string, unknown>)[k];
      for (let i = 0; i < names.length; i++) out[names[i]] = values[i];
      return out;
    };
    // Built once per metric: processors count on their hot path.
    const wrapped = new Map<string | symbol, unknown>();
    for (const name of LABELLED_METHODS) {
      const member: unknown = Reflect.get(metric, name);
      if (typeof member !== 'function') continue;
      wrapped.set(name, (first?: unknown, ...rest: unknown[]) => {
        if (typeof first === 'string') return member.call(metric, first, ...rest, ...values);
        if (typeof first === 'object' && first !== null) return member.call(metric, merge(first), ...rest);
        return member.call(metric, merge({}), first, ...rest);
      });
    }
    return new Proxy(metric, { get: (target, prop, receiver) => (wrapped.has(prop) ? wrapped.get(prop) : Reflect.get(target, prop, receiver)) });
  }
}

/** prom-client methods whose first argument is the label set (or is omitted for a metric without labels). */
const LABELLED_METHODS = new Set<string>(['inc', 'dec', 'set', 'setToCurrentTime', 'observe', 'startTimer', 'zero', 'labels', 'remove']);
