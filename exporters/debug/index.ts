import type { ExporterFactory } from '../../core/component.js';
import { defaults, schema, type DebugExporterConfig } from './config.js';
import { createDebugExporter } from './exporter.js';

export type { DebugExporterConfig } from './config.js';

export const debugExporterFactory: ExporterFactory<DebugExporterConfig> = {
  kind: 'exporter',
  type: 'debug',
  schema,
  defaults,
  create: (config, ctx) => createDebugExporter(config, ctx),
};
