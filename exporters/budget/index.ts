import type { ExporterFactory } from '../../core/component.js';
import { budgetNeeds, defaults, schema, validateBudget, type BudgetExporterConfig } from './config.js';
import { BudgetExporter } from './exporter.js';
import { budgetMetrics } from './metrics.js';

export type { BudgetExporterConfig } from './config.js';

/** `budget`: spend budgets (gauges, webhook, /api/v1/budgets and /api/v1/budgets/check), restored from the ledger it names. */
export const budgetExporterFactory: ExporterFactory<BudgetExporterConfig> = {
  kind: 'exporter',
  type: 'budget',
  readsTelemetry: false,
  schema,
  defaults,
  metrics: budgetMetrics,
  validate: validateBudget,
  needs: budgetNeeds,
  // The gauges carry no exporter label, and the admin routes have one path: a second instance would clash.
  validateInstances: (instances) => instances.slice(1).map(({ id }) => ({
    id, path: [], message: `a second budget exporter (after '${instances[0].id}'): both would publish the same tokenledger_budget_* gauges and serve the same /api/v1/budgets; put every budget in one`,
  })),
  create: (config, ctx) => new BudgetExporter(config, ctx),
};
