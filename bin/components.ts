import type { Factory } from '../core/component.js';
import { budgetExporterFactory } from '../exporters/budget/index.js';
import { clickhouseExporterFactory } from '../exporters/clickhouse/index.js';
import { debugExporterFactory } from '../exporters/debug/index.js';
import { prometheusExporterFactory } from '../exporters/prometheus/index.js';
import { anthropicAdminExtensionFactory } from '../extensions/anthropic_admin/index.js';
import { otlpReceiverFactory } from '../receivers/otlp/index.js';
import { claudeNormalizerFactory } from '../processors/claude-normalizer/index.js';
import { costEnrichmentFactory } from '../processors/cost-enrichment/index.js';

/** Every component type tokenledger knows. A new component is one folder plus one line here. */
export const factories: Factory[] = [
  otlpReceiverFactory,
  claudeNormalizerFactory,
  costEnrichmentFactory,
  clickhouseExporterFactory,
  debugExporterFactory,
  prometheusExporterFactory,
  budgetExporterFactory,
  anthropicAdminExtensionFactory,
];
