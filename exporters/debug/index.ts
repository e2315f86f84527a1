import type { ExporterFactory } from '../../core/component.js';
import { defaults, schema, type DebugExporterConfig } from './config.js';
import { createDebugExporter } from './exporter.js';

export type { DebugExporterConfig } from './config.js';

export const debugExporterFactory: ExporterFactory<DebugExporterConfig> = {
  kind: 'exporter',
  type: 'debug',
  schema,
  defaults,
  // `normal` prints records only.
  readsTelemetry: (config) => config.verbosity !== 'normal',
  create: (config, ctx) => createDebugExporter(config, ctx),
};
