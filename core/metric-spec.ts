import type { Counter, Gauge, Histogram } from 'prom-client';

/**
 * A self-metric as a component declares it, once, in its `metrics.ts`: the same declaration makes
 * the metric (SelfMetrics.declare) and its line in the generated reference (`npm run docs`), so the
 * documentation cannot drift from what /metrics shows.
 */
export type MetricSpec =
  | { type: 'counter'; name: string; help: string; labels?: readonly string[] }
  | { type: 'gauge'; name: string; help: string; labels?: readonly string[] }
  | { type: 'histogram'; name: string; help: string; labels?: readonly string[]; buckets?: readonly number[] };

export type MetricSpecs = Readonly<Record<string, MetricSpec>>;

type LabelsOf<S> = S extends { labels: readonly (infer L extends string)[] } ? L : string;

/** The prom-client metric a spec makes, typed by its label names. */
export type MetricOf<S extends MetricSpec> =
  S extends { type: 'counter' } ? Counter<LabelsOf<S>>
  : S extends { type: 'gauge' } ? Gauge<LabelsOf<S>>
  : Histogram<LabelsOf<S>>;

export type DeclaredMetrics<T extends MetricSpecs> = { [K in keyof T]: MetricOf<T[K]> };

/** Identity with the literal types kept (label names become the metric's label type). */
export function defineMetrics<const T extends MetricSpecs>(specs: T): T {
  return specs;
}
