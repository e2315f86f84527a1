import type { ExporterFactory } from '../../core/component.js';
import { defaults, schema, validatePrometheus, type PrometheusExporterConfig } from './config.js';
import { PrometheusExporter } from './exporter.js';

export type { PrometheusExporterConfig } from './config.js';

export const prometheusExporterFactory: ExporterFactory<PrometheusExporterConfig> = {
  kind: 'exporter',
  type: 'prometheus',
  schema,
  defaults,
  validate: validatePrometheus,
  create: (config, ctx) => new PrometheusExporter(config, ctx),
};
