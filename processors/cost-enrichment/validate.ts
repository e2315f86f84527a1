import { isAbsolute, resolve } from 'node:path';
import type { ConfigProblem, ValidateContext } from '../../core/component.js';
import { fileCatalog } from './catalog.js';
import type { CostEnrichmentConfig } from './config.js';

/** Characters no canonical model id holds: a glob containing one (a regex or character class, most likely) never matches. */
const NOT_IN_MODEL_IDS = /[^a-z0-9._:/@*?+-]/i;

/** A `YYYY-MM-DD` the schema's pattern accepts but the calendar does not (2026-02-30). */
function notADay(day: string): boolean {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d;
}

/** What the schema cannot say about overrides and the data file; everything create() would refuse. */
export function validateCostEnrichment(config: CostEnrichmentConfig, ctx: ValidateContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Map<string, number>();
  config.overrides.forEach((o, i) => {
    const at = (...path: (string | number)[]) => ['overrides', i, ...path];
    const first = names.get(o.name);
    if (first !== undefined) problems.push({ path: at('name'), message: `duplicate override name '${o.name}' (also overrides[${first}]): names must be unique, they become price_ref` });
    else names.set(o.name, i);
    const bad = NOT_IN_MODEL_IDS.exec(o.model);
    if (bad) problems.push({ path: at('model'), message: `glob '${o.model}' contains '${bad[0]}', which no model id contains: it would never match (globs know only * and ?)` });
    if (o.provider !== undefined && o.provider !== o.provider.toLowerCase()) {
      problems.push({ path: at('provider'), message: `'${o.provider}' never matches: provider names are lower-case OTel names such as anthropic, aws.bedrock, openai` });
    }
    for (const key of ['valid_from', 'valid_to'] as const) {
      const day = o[key];
      if (day !== undefined && notADay(day)) problems.push({ path: at(key), message: `'${day}' is not a calendar day` });
    }
    if (o.valid_from !== undefined && o.valid_to !== undefined && o.valid_from >= o.valid_to) {
      problems.push({ path: at('valid_to'), message: `valid_to ${o.valid_to} must be after valid_from ${o.valid_from} (valid_to is exclusive): the entry would never apply` });
    }
    if (o.tiers !== undefined && o.prices === undefined) problems.push({ path: at('tiers'), message: 'tiers need prices: they refine a price override, not a discount or multiplier' });
    const thresholds = new Set<number>();
    o.tiers?.forEach((t, j) => {
      if (thresholds.has(t.above_input_tokens)) problems.push({ path: at('tiers', j, 'above_input_tokens'), message: `two tiers above ${t.above_input_tokens} input tokens` });
      thresholds.add(t.above_input_tokens);
    });
  });
  if (config.data_file !== '') {
    try {
      fileCatalog(isAbsolute(config.data_file) ? config.data_file : resolve(ctx.configDir, config.data_file));
    } catch (err) {
      problems.push({ path: ['data_file'], message: (err as Error).message.replace(/^cost-enrichment: /, '') });
    }
  }
  return problems;
}
