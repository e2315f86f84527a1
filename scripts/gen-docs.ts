/**
 * Writes schemas/pipeline.schema.json and the generated sections of the docs from the component
 * factories' own schemas and metric declarations, so that neither can drift from the code: each
 * component README's configuration and metrics reference, the `service` reference in
 * docs/configuration.md and the full metrics reference in docs/metrics.md. `npm run docs` rewrites
 * them; test/docs.test.ts fails when they are stale.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { factories } from '../bin/components.js';
import type { Factory } from '../core/component.js';
import { composeSchema } from '../core/config/schema.js';
import { coreMetrics } from '../core/metrics.js';
import { configTable } from './docs/config-table.js';
import { metricsTable } from './docs/metrics-table.js';
import { markers, section, withSection, wrap, type Markers } from './docs/sections.js';

interface GeneratedSection { file: string; markers: Markers; body: string }

const COMPONENT_REFERENCE = markers('reference');
const SERVICE_REFERENCE = markers('config-reference');
const METRICS_REFERENCE = markers('metrics-reference');

const COMPONENT_REFERENCE_HEADING = `
## Reference

Generated from the component's schema and metric declarations by \`npm run docs\`; a test fails when
it is stale. Every metric tokenledger exports: [docs/metrics.md](../../docs/metrics.md).

${wrap(COMPONENT_REFERENCE, '')}
`;

const SECTIONS = { receiver: 'receivers', processor: 'processors', exporter: 'exporters', extension: 'extensions' } as const;

export function pipelineSchemaJson(list: readonly Factory[] = factories): string {
  return JSON.stringify(composeSchema(list), null, 2) + '\n';
}

/** `receivers/otlp`: where a component lives, and its README. */
function componentDir(f: Factory): string {
  return `${SECTIONS[f.kind]}/${f.type}`;
}

/** Processors are built per pipeline: the service labels every metric they make with it. */
function addedLabels(f: Factory): string[] {
  return f.kind === 'processor' ? ['pipeline'] : [];
}

function dataMetricsText(f: Factory): string[] {
  if (!f.dataMetrics) return [];
  return [`Each carries ${f.dataMetrics.commonLabels}, then the labels listed.`, '', metricsTable(f.dataMetrics.specs)];
}

/** A component README's generated part: its configuration keys, its self-metrics, its data metrics. */
function componentReference(f: Factory): string {
  const parts = ['### Configuration', '', String(f.schema.description ?? ''), '', configTable(f.schema)];
  if (f.metrics) parts.push('', '### Self-metrics', '', metricsTable(f.metrics, addedLabels(f)));
  if (f.dataMetrics) parts.push('', '### Data metrics', '', ...dataMetricsText(f));
  return parts.join('\n');
}

function serviceReference(list: readonly Factory[] = factories): string {
  const full = composeSchema(list) as { properties: { service: Record<string, unknown> } };
  return ['#### service', '', configTable(full.properties.service)].join('\n');
}

/** Every metric on /metrics that tokenledger declares: core's, then each component's. */
function metricsReference(list: readonly Factory[] = factories): string {
  const parts = ['### core', '', metricsTable(coreMetrics)];
  for (const f of list.filter((x) => x.metrics)) {
    const title = `### ${SECTIONS[f.kind]}: \`${f.type}\``;
    parts.push('', title, '', `See [${componentDir(f)}](../${componentDir(f)}/README.md).`, '', metricsTable(f.metrics ?? {}, addedLabels(f)));
  }
  for (const f of list.filter((x) => x.dataMetrics)) {
    parts.push('', `### data: ${SECTIONS[f.kind]} \`${f.type}\``, '', ...dataMetricsText(f));
  }
  return parts.join('\n');
}

export function generatedSections(list: readonly Factory[] = factories): GeneratedSection[] {
  return [
    ...list.map((f) => ({ file: `${componentDir(f)}/README.md`, markers: COMPONENT_REFERENCE, body: componentReference(f) })),
    { file: 'docs/configuration.md', markers: SERVICE_REFERENCE, body: serviceReference(list) },
    { file: 'docs/metrics.md', markers: METRICS_REFERENCE, body: metricsReference(list) },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  writeFileSync(`${root}/schemas/pipeline.schema.json`, pipelineSchemaJson());
  for (const s of generatedSections()) {
    const path = `${root}/${s.file}`;
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    // A new component's README gets its reference section appended the first time.
    const current = s.markers === COMPONENT_REFERENCE && section(text, s.markers) === undefined ? `${text.trimEnd()}\n${COMPONENT_REFERENCE_HEADING}` : text;
    writeFileSync(path, withSection(current, s.markers, s.body, s.file));
  }
  process.stdout.write(`wrote schemas/pipeline.schema.json and the references in ${generatedSections().map((s) => s.file).join(', ')}\n`);
}
