import type { ConfigProblem } from '../../core/component.js';
import { DURATION_PATTERN, parseDuration } from '../../core/config/duration.js';

export interface TeamMapping {
  team: string;
}

export interface AnthropicAdminConfig {
  /** The Admin API key (`sk-ant-admin…`): write `${env:ANTHROPIC_ADMIN_KEY}`. Never logged, stored or echoed. */
  admin_key: string;
  url: string;
  anthropic_version: string;
  interval: string;
  lookback: string;
  settle: string;
  request_timeout: string;
  max_retries: number;
  max_retry_wait: string;
  drift_alert_ratio: number;
  drift_alert_usd: number;
  api_keys: Record<string, TeamMapping>;
  workspaces: Record<string, TeamMapping>;
}

export const defaults: AnthropicAdminConfig = {
  admin_key: '',
  url: 'https://api.anthropic.com',
  anthropic_version: '2023-06-01',
  interval: '1h',
  lookback: '72h',
  settle: '6h',
  request_timeout: '30s',
  max_retries: 5,
  max_retry_wait: '60s',
  drift_alert_ratio: 0.02,
  drift_alert_usd: 1,
  api_keys: {},
  workspaces: {},
};

const duration = (def: string, description: string): Record<string, unknown> => ({ type: 'string', pattern: DURATION_PATTERN, format: 'timer-duration', default: def, description });
const mapping = (what: string): Record<string, unknown> => ({
  type: 'object',
  default: {},
  description: `${what} → { team }: the ledger team their usage belongs to. When set, reconciliation rows per team are added to the per-model ones.`,
  additionalProperties: {
    type: 'object', additionalProperties: false, required: ['team'],
    properties: { team: { type: 'string', minLength: 1, description: 'The ledger `team` value.' } },
  },
});

export const schema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  description: "Reconciles the ledger with Anthropic's Admin API usage and cost reports, per day × model (× team), on a schedule.",
  properties: {
    // No pattern and no `required` here: a schema error would print the value, and the value is a
    // secret; validateAnthropicAdmin says "empty" or "contains whitespace" without it.
    admin_key: { type: 'string', default: '', description: 'Admin API key (sk-ant-admin…). Write ${env:ANTHROPIC_ADMIN_KEY}; it never appears in a log, row, metric or error.' },
    url: { type: 'string', pattern: '^https?://', default: defaults.url, description: 'Base URL of the Admin API.' },
    anthropic_version: { type: 'string', default: defaults.anthropic_version, description: 'The `anthropic-version` header.' },
    interval: duration(defaults.interval, 'How often the reports are pulled and compared (the first run is at start).'),
    lookback: duration(defaults.lookback, 'Each run reconciles the UTC days from now − lookback to today.'),
    settle: duration(defaults.settle, "A day is `partial` (drift expected from timing) until this long after its end: the provider's buckets may still grow."),
    request_timeout: duration(defaults.request_timeout, 'Timeout of one Admin API request.'),
    max_retries: { type: 'integer', minimum: 0, maximum: 20, default: defaults.max_retries, description: 'Retries of one request after a 429 (waiting its retry-after), a 5xx or a network error.' },
    max_retry_wait: duration(defaults.max_retry_wait, 'Longest wait before one retry (caps retry-after and the backoff).'),
    drift_alert_ratio: { type: 'number', minimum: 0, default: defaults.drift_alert_ratio, description: 'Exported as tokenledger_reconciliation_drift_threshold_ratio; the shipped alert fires on a final day whose |drift ratio| exceeds it.' },
    drift_alert_usd: { type: 'number', minimum: 0, default: defaults.drift_alert_usd, description: 'Exported as tokenledger_reconciliation_drift_threshold_usd; the alert also needs |drift| above this many USD.' },
    api_keys: mapping('Anthropic API key ids (apikey_…)'),
    workspaces: mapping('Anthropic workspace ids (wrkspc_…)'),
  },
};

/** What the schema cannot say without echoing the key: that it is set and looks like one. */
export function validateAnthropicAdmin(cfg: AnthropicAdminConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (cfg.admin_key.trim() === '') problems.push({ path: ['admin_key'], message: 'is empty: set it to an Admin API key, e.g. ${env:ANTHROPIC_ADMIN_KEY}' });
  else if (/\s/.test(cfg.admin_key)) problems.push({ path: ['admin_key'], message: 'contains whitespace (value not shown: it is a secret)' });
  if (parseDuration(cfg.interval) < 60_000) problems.push({ path: ['interval'], message: `${cfg.interval} is below 1m: the reports are aggregated per minute at best, and the Admin API is rate limited` });
  return problems;
}
