import type { ExporterFactory } from '../../core/component.js';
import { exporterHelperMetrics } from '../../core/exporter-helper/metrics.js';
import { apiMetrics } from './api/metrics.js';
import { defaults, schema, type ClickhouseConfig } from './config.js';
import { ClickhouseExporter } from './exporter.js';
import { validateClickhouse, validateClickhouseInstances } from './validate.js';

export type { ClickhouseConfig } from './config.js';
export { REPORT_KEYS, runReport, type ReportKey, type ReportOptions } from './report.js';
export { openLedger } from './ledger.js';
export { EmbeddedPathLocked } from './client.js';
export { remoteReport, type AdminApi } from './report-remote.js';

/** `clickhouse`: one row per LlmCall in ClickHouse (embedded chDB or a server/cluster). */
export const clickhouseExporterFactory: ExporterFactory<ClickhouseConfig> = {
  kind: 'exporter',
  type: 'clickhouse',
  readsTelemetry: false,
  schema,
  defaults,
  /** The exporter helper's (queue, sends, drops) and the spend API's, labelled by this exporter's id. */
  metrics: { ...exporterHelperMetrics, ...apiMetrics },
  validate: validateClickhouse,
  validateInstances: validateClickhouseInstances,
  provides: ['spendStore'],
  create: (config, ctx) => new ClickhouseExporter(config, ctx),
};
