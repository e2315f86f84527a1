import type { ExporterFactory } from '../../core/component.js';
import { defaults, schema, validatePrometheus, type PrometheusExporterConfig } from './config.js';
import { PrometheusExporter } from './exporter.js';
import { BASE_LABELS } from './labels.js';
import { prometheusExporterMetrics, spendMetrics } from './metrics.js';

export type { PrometheusExporterConfig } from './config.js';

export const prometheusExporterFactory: ExporterFactory<PrometheusExporterConfig> = {
  kind: 'exporter',
  type: 'prometheus',
  readsTelemetry: false,
  schema,
  defaults,
  metrics: prometheusExporterMetrics,
  dataMetrics: { commonLabels: `${BASE_LABELS.join(', ')}, then the configured \`labels\``, specs: spendMetrics },
  validate: validatePrometheus,
  // The spend metrics carry no exporter label: a second instance would count every call again.
  validateInstances: (instances) => instances.slice(1).map(({ id }) => ({
    id, path: [], message: `a second prometheus exporter (after '${instances[0].id}'): instances write the same metrics in the one /metrics, so every call would be counted once per instance; use one`,
  })),
  create: (config, ctx) => new PrometheusExporter(config, ctx),
};
