/** Metric declarations (core/metric-spec.ts) as a Markdown table: name, type, labels, meaning. */
import type { MetricSpecs } from '../../core/metric-spec.js';
import { cell } from './config-table.js';

/** `extraLabels` are added by whoever makes the metrics (e.g. `pipeline` on every processor metric). */
export function metricsTable(specs: MetricSpecs, extraLabels: readonly string[] = []): string {
  const out = ['| metric | type | labels | meaning |', '| --- | --- | --- | --- |'];
  for (const spec of Object.values(specs)) {
    const labels = [...(spec.labels ?? []), ...extraLabels].map((l) => `\`${l}\``).join(', ');
    out.push(`| \`${spec.name}\` | ${spec.type} | ${labels} | ${cell(spec.help)} |`);
  }
  return out.join('\n');
}
