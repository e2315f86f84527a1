import type { ExporterFactory } from '../../core/component.js';
import { defaults, schema, type ClickhouseConfig } from './config.js';
import { ClickhouseExporter } from './exporter.js';
import { validateClickhouse, validateClickhouseInstances } from './validate.js';

export type { ClickhouseConfig } from './config.js';
export { openLedger } from './ledger.js';

/** `clickhouse`: one row per LlmCall in ClickHouse (embedded chDB or a server/cluster). */
export const clickhouseExporterFactory: ExporterFactory<ClickhouseConfig> = {
  kind: 'exporter',
  type: 'clickhouse',
  schema,
  defaults,
  validate: validateClickhouse,
  validateInstances: validateClickhouseInstances,
  create: (config, ctx) => new ClickhouseExporter(config, ctx),
};
