import type { ExporterFactory } from '../../core/component.js';
import { apiMetrics } from './api/metrics.js';
import { defaults, schema, type ClickhouseConfig } from './config.js';
import { ClickhouseExporter } from './exporter.js';
import { validateClickhouse, validateClickhouseInstances } from './validate.js';

export type { ClickhouseConfig } from './config.js';

/** `clickhouse`: one row per LlmCall in ClickHouse (embedded chDB or a server/cluster). */
export const clickhouseExporterFactory: ExporterFactory<ClickhouseConfig> = {
  kind: 'exporter',
  type: 'clickhouse',
  schema,
  defaults,
  validate: validateClickhouse,
  validateInstances: validateClickhouseInstances,
  metrics: apiMetrics,
  create: (config, ctx) => new ClickhouseExporter(config, ctx),
};
