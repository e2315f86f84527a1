import type { ComponentNeed, ConfigProblem } from '../../core/component.js';
import { ATTRIBUTION_FIELDS } from '../../core/attribution.js';
import { DURATION_PATTERN, parseDuration } from '../../core/config/duration.js';
import { assertTimeZone, type PeriodKind } from './periods.js';

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
  timeout: string;
  headers: Record<string, string>;
}

export interface BudgetExporterConfig {
  /** Id of the exporter whose spend store holds the ledger (e.g. `clickhouse`). */
  ledger?: string;
  budgets: BudgetConfig[];
  max_scope_values: number;
  refresh_interval: string;
  sync_interval?: string;
  webhook?: WebhookConfig;
}

/** Timers shorter than this would spin (0s) or hammer the ledger. */
const MIN_INTERVAL_MS = 100;

const LABEL_NAME = '^[a-zA-Z_][a-zA-Z0-9_]*$';

/** Names that are not attribution: the gauges' own labels, Prometheus's target labels, and LlmCall fields that say what was called. */
const NOT_ATTRIBUTION = new Set(['budget', 'scope_label', 'scope_value', 'exporter', 'job', 'instance', 'provider', 'model', 'route', 'source', 'status', 'token_type', 'le']);

export const defaults: BudgetExporterConfig = {
  budgets: [],
  max_scope_values: 2000,
  refresh_interval: '15s',
};

const duration = (description: string, dflt?: string) => ({
  type: 'string', pattern: DURATION_PATTERN, format: 'timer-duration', ...(dflt === undefined ? {} : { default: dflt }), description,
});

export const schema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  description: 'Spend budgets: spent-to-date per budget and scope value from the priced calls (restored from the ledger), tokenledger_budget_* gauges, webhook notifications, and GET /api/v1/budgets and /api/v1/budgets/check on the admin server.',
  required: ['budgets'],
  properties: {
    ledger: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_-]*(/[A-Za-z0-9_.-]+)?$',
      description: 'Id of the exporter that holds the ledger (a `clickhouse` exporter of a pipeline): spent-to-date of the current periods is read from it at start and every `sync_interval`, and it starts before this one. Without it, budgets count from zero at each start.',
    },
    budgets: {
      type: 'array',
      minItems: 1,
      description: 'Spend budgets exposed as tokenledger_budget_{limit_usd,spent_usd,utilization_ratio,projected_usd} gauges.',
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
            description: `Which calls count: label → value (${ATTRIBUTION_FIELDS.join(', ')} or a dimension name). The value '*' (at most one) makes one budget per value of that label, e.g. { customer: '*' }.`,
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
    max_scope_values: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      default: defaults.max_scope_values,
      description: "Scope values one '*' budget keeps apart; past it, new values count under __other__ (tokenledger_budget_folded_calls_total).",
    },
    refresh_interval: duration('How often the gauges are recomputed without traffic (projection, period rollover), and a failed start-up read of the ledger is retried.', defaults.refresh_interval),
    sync_interval: duration("With several replicas writing one ledger: how often spent-to-date is re-read from it (every replica's spend), this replica's calls since added on top, so that every replica's gauges and /api/v1/budgets/check show the deployment's spend. Unset: read at start only (one process)."),
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description: 'Optional direct notifier for users without Alertmanager: one JSON POST (with a Slack-compatible `text`) per budget, scope value, period and threshold crossed.',
      properties: {
        url: { type: 'string', pattern: '^https?://', description: 'http(s) URL to POST to, e.g. a Slack incoming webhook.' },
        timeout: duration('Timeout of one POST; failed POSTs are retried twice.', '5s'),
        headers: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Extra request headers, e.g. an Authorization header (use ${env:VAR}).' },
      },
    },
  },
};

/** Checks what the JSON schema cannot express, each problem at the path of the offending field. */
export function validateBudget(config: BudgetExporterConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  config.budgets.forEach((b, i) => {
    if (names.has(b.name)) problems.push({ path: ['budgets', i, 'name'], message: `duplicate budget name '${b.name}': budget names must be unique` });
    names.add(b.name);
    const wildcards = Object.entries(b.scope).filter(([, v]) => v === '*');
    if (wildcards.length > 1) problems.push({ path: ['budgets', i, 'scope'], message: `at most one label may be '*', found ${wildcards.map(([k]) => k).join(', ')}` });
    for (const label of Object.keys(b.scope)) {
      if (NOT_ATTRIBUTION.has(label)) problems.push({ path: ['budgets', i, 'scope', label], message: `'${label}' is not an attribution label (use ${ATTRIBUTION_FIELDS.join(', ')} or a dimension name)` });
    }
    try {
      assertTimeZone(b.timezone);
    } catch (err) {
      problems.push({ path: ['budgets', i, 'timezone'], message: (err as Error).message });
    }
  });
  for (const key of ['refresh_interval', 'sync_interval'] as const) {
    const text = config[key];
    if (text !== undefined && parseDuration(text) < MIN_INTERVAL_MS) problems.push({ path: [key], message: `expected at least ${MIN_INTERVAL_MS}ms, found '${text}'` });
  }
  if (config.webhook) {
    try {
      new URL(config.webhook.url);
    } catch (err) {
      problems.push({ path: ['webhook', 'url'], message: `not a valid URL: '${config.webhook.url}' (${(err as Error).message})` });
    }
  }
  return problems;
}

/** The ledger exporter starts first and must offer a spend store. */
export function budgetNeeds(config: BudgetExporterConfig): ComponentNeed[] {
  return config.ledger === undefined ? [] : [{ section: 'exporters', id: config.ledger, path: ['ledger'], capability: 'spendStore' }];
}
