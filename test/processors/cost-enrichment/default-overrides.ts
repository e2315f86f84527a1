import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { costEnrichmentFactory, type CostEnrichmentConfig } from '../../../processors/cost-enrichment/index.js';
import type { OverrideConfig } from '../../../processors/cost-enrichment/overrides.js';

export const DEFAULT_OVERRIDES_FILE = new URL('../../fixtures/pricing/default-overrides.yaml', import.meta.url);

/** A processor config block validated against the factory schema, defaults applied, as the config loader does. */
export function validConfig(block: unknown): CostEnrichmentConfig {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const validate = ajv.compile(costEnrichmentFactory.schema);
  const config = structuredClone(block ?? {});
  if (!validate(config)) throw new Error(`invalid cost-enrichment config: ${ajv.errorsText(validate.errors)}`);
  return config as CostEnrichmentConfig;
}

/** The cost-enrichment block of a pipeline file, or undefined when it has none. */
export function pipelineBlock(path: URL | string): unknown {
  const doc = parse(readFileSync(path, 'utf8')) as { processors?: Record<string, unknown> } | null;
  return doc?.processors?.['cost-enrichment'];
}

/** The default overrides the shipped pipeline.yaml carries (test/fixtures/pricing/default-overrides.yaml). */
export function loadOverrides(): OverrideConfig[] {
  return validConfig(pipelineBlock(DEFAULT_OVERRIDES_FILE)).overrides;
}
