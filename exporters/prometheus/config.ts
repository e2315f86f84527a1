import type { ConfigProblem } from '../../core/component.js';
import { durationSchema } from '../../core/config/duration.js';
import { assertTimeZone, type PeriodKind } from './periods.js';
import { BASE_LABELS, ATTRIBUTION_FIELDS } from './labels.js';

export interface BudgetConfig {
  name: string;
  /** Label → value; the value '*' makes one budget per value of that label. */
  scope: Record<string, string>;
  period: PeriodKind;
  timezone: string;
  limit_usd: number;
  warn_at: number[];
}

export interface WebhookConfig {
  url: string;
  /** Duration (`5s`). */
  timeout: string;
  headers: Record<string, string>;
}

export interface PrometheusExporterConfig {
  labels: string[];
  max_label_sets: number;
  budgets: BudgetConfig[];
  /** Durations (`15s`; budget_sync `0s` = off). */
  budget_refresh: string;
  budget_sync: string;
  webhook?: WebhookConfig;
}

const LABEL_NAME = '^[a-zA-Z_][a-zA-Z0-9_]*$';

/** Labels the exporter itself uses: an attribution label of the same name would clash. */
export const RESERVED_LABELS = new Set([...BASE_LABELS, 'status', 'token_type', 'le', 'budget', 'scope_label', 'scope_value', 'exporter', 'job', 'instance']);

export const defaults: PrometheusExporterConfig = {
  labels: ['team', 'customer', 'key_alias'],
  max_label_sets: 2000,
  budgets: [],
  budget_refresh: '15s',
  budget_sync: '0s',
};

export const schema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  description: 'Spend metrics and budget gauges on the admin server\'s /metrics (one instance per process).',
  renamedKeys: { budget_refresh_ms: 'budget_refresh', budget_sync_ms: 'budget_sync' },
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
    budgets: {
      type: 'array',
      description: 'Spend budgets exposed as tokenledger_budget_{limit_usd,spent_usd,utilization_ratio,projected_usd} gauges.',
      default: defaults.budgets,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'scope', 'limit_usd'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.:-]+$', description: 'Unique budget name; the `budget` label of the gauges.' },
          scope: {
            type: 'object',
            minProperties: 1,
            propertyNames: { pattern: LABEL_NAME },
            additionalProperties: { type: 'string', minLength: 1 },
            description: "Which calls count: label → value (team, customer, key_alias, user or a dimension name). The value '*' (at most one) makes one budget per value of that label, e.g. { customer: '*' }.",
          },
          period: { type: 'string', enum: ['day', 'week', 'month'], default: 'month', description: 'Budget period; weeks start on Monday. Rolls over at local midnight in `timezone`.' },
          timezone: { type: 'string', default: 'UTC', description: 'IANA time zone the period boundaries are in, e.g. Europe/Berlin.' },
          limit_usd: { type: 'number', exclusiveMinimum: 0, maximum: 1e12, description: 'Spend limit for one period, in USD.' },
          warn_at: {
            type: 'array',
            items: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
            uniqueItems: true,
            default: [0.8],
            description: 'Utilization ratios that trigger a webhook notification; 1 (exhaustion) is always added.',
          },
        },
      },
    },
    budget_refresh: durationSchema(defaults.budget_refresh, 'How often budget gauges are recomputed without traffic (projection, period rollover).', { min: '100ms', max: '24h' }),
    budget_sync: durationSchema(defaults.budget_sync, 'With several replicas writing one ClickHouse ledger: how often spent-to-date is re-read from it (every replica\'s spend), this replica\'s calls since added on top, so that every replica\'s budget gauges show the deployment\'s spend (README "High availability"). `0s`: read at start only (one process).', { max: '24h' }),
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      renamedKeys: { timeout_ms: 'timeout' },
      description: 'Optional direct notifier for users without Alertmanager: one JSON POST (with a Slack-compatible `text`) per budget, scope value, period and threshold crossed.',
      properties: {
        url: { type: 'string', pattern: '^https?://', description: 'http(s) URL to POST to, e.g. a Slack incoming webhook.' },
        timeout: durationSchema('5s', 'Timeout of one POST; failed POSTs are retried twice.', { min: '1ms', max: '5m' }),
        headers: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Extra request headers, e.g. an Authorization header (use ${env:VAR}).' },
      },
    },
  },
};

/** Checks what the JSON schema cannot express, each problem at the path of the offending field. */
export function validatePrometheus(config: PrometheusExporterConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  config.labels.forEach((label, i) => {
    if (RESERVED_LABELS.has(label)) problems.push({ path: ['labels', i], message: `'${label}' is reserved (used by the exporter itself); reserved: ${[...RESERVED_LABELS].join(', ')}` });
  });
  const names = new Set<string>();
  config.budgets.forEach((b, i) => {
    if (names.has(b.name)) problems.push({ path: ['budgets', i, 'name'], message: `duplicate budget name '${b.name}': budget names must be unique` });
    names.add(b.name);
    const wildcards = Object.entries(b.scope).filter(([, v]) => v === '*');
    if (wildcards.length > 1) problems.push({ path: ['budgets', i, 'scope'], message: `at most one label may be '*', found ${wildcards.map(([k]) => k).join(', ')}` });
    for (const label of Object.keys(b.scope)) {
      if (RESERVED_LABELS.has(label)) problems.push({ path: ['budgets', i, 'scope', label], message: `'${label}' is not an attribution label (use team, customer, key_alias, user or a dimension name)` });
    }
    try {
      assertTimeZone(b.timezone);
    } catch (err) {
      problems.push({ path: ['budgets', i, 'timezone'], message: (err as Error).message });
    }
  });
  if (config.webhook) {
    try {
      new URL(config.webhook.url);
    } catch (err) {
      problems.push({ path: ['webhook', 'url'], message: `not a valid URL: '${config.webhook.url}' (${(err as Error).message})` });
    }
  }
  return problems;
}
