import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import { bundledCatalog } from '../../../processors/cost-enrichment/catalog.js';
import { compileOverrides, type OverrideConfig } from '../../../processors/cost-enrichment/overrides.js';
import { Pricer } from '../../../processors/cost-enrichment/pricer.js';

/** A call record with the given fields; tokens in the LlmCall convention (input excludes cache). */
export function call(fields: Partial<LlmCall>): LlmCall {
  return { ...emptyCall(), call_id: 'c1', timestamp: '2026-11-20T12:00:00.000Z', source: 'test', ...fields };
}

export function pricer(overrides: OverrideConfig[] = []): Pricer {
  return new Pricer(bundledCatalog(), compileOverrides(overrides));
}

export const TOLERANCE = 1e-9;
