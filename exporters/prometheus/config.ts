import type { ConfigProblem } from '../../core/component.js';
import { BASE_LABELS, ATTRIBUTION_FIELDS } from './labels.js';

export interface PrometheusExporterConfig {
  labels: string[];
  max_label_sets: number;
}

/** Budget keys that moved to the `budget` exporter (exporters/budget/README.md). */
const MOVED_KEYS = ['budgets', 'webhook', 'budget_refresh_ms', 'budget_sync_ms'];

const LABEL_NAME = '^[a-zA-Z_][a-zA-Z0-9_]*$';

/** Labels the exporter itself uses: an attribution label of the same name would clash. */
export const RESERVED_LABELS = new Set([...BASE_LABELS, 'status', 'token_type', 'le', 'budget', 'scope_label', 'scope_value', 'exporter', 'job', 'instance']);

export const defaults: PrometheusExporterConfig = {
  labels: ['team', 'customer', 'key_alias'],
  max_label_sets: 2000,
};

export const schema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  description: 'Spend metrics on the admin server\'s /metrics (one instance per process). Budgets are the `budget` exporter\'s.',
  // Keys budgets had here before they moved to the budget exporter: validatePrometheus says where they went.
  patternProperties: { [`^(${MOVED_KEYS.join('|')})$`]: {} },
  properties: {
    labels: {
      type: 'array',
      description: `Attribution labels added to every spend metric besides ${BASE_LABELS.join(', ')}: ${ATTRIBUTION_FIELDS.join(', ')}, or the name of a configured dimension (e.g. project). Each one multiplies the number of series: keep user out unless it is small.`,
      items: { type: 'string', pattern: LABEL_NAME },
      uniqueItems: true,
      default: defaults.labels,
    },
    max_label_sets: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      description: 'Cardinality guard: distinct label combinations per metric. Past it, new combinations keep provider, model, route and source but their attribution labels become __other__ (and, past a further 10%, every label does); tokenledger_prometheus_folded_calls_total counts them.',
      default: defaults.max_label_sets,
    },
  },
};

/** Checks what the JSON schema cannot express, each problem at the path of the offending field. */
export function validatePrometheus(config: PrometheusExporterConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  config.labels.forEach((label, i) => {
    if (RESERVED_LABELS.has(label)) problems.push({ path: ['labels', i], message: `'${label}' is reserved (used by the exporter itself); reserved: ${[...RESERVED_LABELS].join(', ')}` });
  });
  for (const key of MOVED_KEYS.filter((k) => k in config)) {
    problems.push({ path: [key], message: `'${key}' moved to the budget exporter: declare \`exporters: { budget: { ledger: clickhouse, budgets: [...] } }\`, add \`budget\` to the pipeline's exporters, and see exporters/budget/README.md (refresh_interval, sync_interval and webhook.timeout are durations there)` });
  }
  return problems;
}
