import type { ExporterFactory } from '../../core/component.js';
import { checkConfig, defaults, schema, type PrometheusExporterConfig } from './config.js';
import { PrometheusExporter } from './exporter.js';

export type { PrometheusExporterConfig } from './config.js';

export const prometheusExporterFactory: ExporterFactory<PrometheusExporterConfig> = {
  kind: 'exporter',
  type: 'prometheus',
  schema,
  defaults,
  create(config, ctx) {
    try {
      checkConfig(config);
    } catch (err) {
      throw new Error(`${ctx.id}: ${(err as Error).message}`, { cause: err });
    }
    return new PrometheusExporter(config, ctx);
  },
};
