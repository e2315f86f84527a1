import { createAjv } from '../../../core/config/ajv.js';
import type { SpendQuery, SpendStore } from '../../../core/host.js';
import type { LlmCall } from '../../../core/llm-call.js';
import { labelReader } from '../../../core/attribution.js';
import { budgetExporterFactory, type BudgetExporterConfig } from '../../../exporters/budget/index.js';

export { llmCall } from '../prometheus/helpers.js';

/** A config as the loader would hand it over: validated against the factory's schema, defaults applied. */
export function configOf(partial: Record<string, unknown>): BudgetExporterConfig {
  const config = structuredClone(partial);
  const validate = createAjv().compile(budgetExporterFactory.schema);
  if (!validate(config)) throw new Error(`invalid config: ${JSON.stringify(validate.errors)}`);
  const problems = budgetExporterFactory.validate!(config as unknown as BudgetExporterConfig, { id: 'budget', configDir: '.', env: {} });
  if (problems.length) throw new Error(`invalid config: ${JSON.stringify(problems)}`);
  return config as unknown as BudgetExporterConfig;
}

/**
 * A SpendStore over records kept in memory: the core interface implemented the obvious way,
 * standing in for the ClickHouse exporter's store (which the *.clickhouse tests use).
 */
export class MemorySpendStore implements SpendStore {
  readonly calls: LlmCall[] = [];
  readonly queries: SpendQuery[] = [];

  async spendBy(q: SpendQuery): Promise<Map<string, number>> {
    this.queries.push(q);
    const out = new Map<string, number>();
    for (const c of this.calls) {
      const ts = Date.parse(c.timestamp);
      if (ts < q.fromMs || ts >= q.toMs) continue;
      if (!Object.entries(q.where).every(([k, v]) => labelReader(k)(c) === v)) continue;
      const key = labelReader(q.groupBy)(c);
      out.set(key, (out.get(key) ?? 0) + c.cost_usd);
    }
    return out;
  }
}

/** A clock tests move by hand. */
export function manualClock(startIso: string): { now: () => number; set: (iso: string) => void; advance: (ms: number) => void } {
  let t = Date.parse(startIso);
  return { now: () => t, set: (iso) => { t = Date.parse(iso); }, advance: (ms) => { t += ms; } };
}
