import { parseDuration } from '../../core/config/duration.js';
import type { UsageStore } from '../../core/host.js';
import type { ReconciliationRow } from '../../core/reconciliation.js';
import { AdminClient } from './admin-client.js';
import type { CostResult, UsageResult } from './api-shapes.js';
import { compare, PROVIDER } from './compare.js';
import type { AnthropicAdminConfig } from './config.js';

const DAY_MS = 86_400_000;

export interface Window {
  /** UTC days, YYYY-MM-DD: from inclusive, to exclusive. */
  fromDay: string;
  toDay: string;
}

export function dayStart(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  // Date.parse rolls 2026-11-31 over to 2026-12-01: only a day that survives the round trip is one.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(ms) || dayString(ms) !== day) throw new Error(`${JSON.stringify(day)} is not a YYYY-MM-DD day`);
  return ms;
}

export const dayString = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The days a scheduled run covers: from the day of now − lookback through today. */
export function scheduledWindow(nowMs: number, lookbackMs: number): Window {
  return { fromDay: dayString(nowMs - lookbackMs), toDay: dayString(nowMs + DAY_MS) };
}

export function adminClient(cfg: AnthropicAdminConfig, onResponse?: (report: string, status: string) => void, sleep?: (ms: number) => Promise<void>): AdminClient {
  return new AdminClient({
    url: cfg.url, adminKey: cfg.admin_key, anthropicVersion: cfg.anthropic_version,
    timeoutMs: parseDuration(cfg.request_timeout), maxRetries: cfg.max_retries, maxRetryWaitMs: parseDuration(cfg.max_retry_wait),
    onResponse, sleep,
  });
}

/**
 * One reconciliation of whole UTC days: the usage report (1d buckets by model, plus API key and
 * workspace when they are mapped to teams), the cost report (by description: model × token type),
 * and the ledger's Anthropic calls of the same days, compared by `compare`.
 */
export async function reconcileWindow(cfg: AnthropicAdminConfig, client: AdminClient, usage: UsageStore, window: Window, nowMs: number): Promise<ReconciliationRow[]> {
  const fromMs = dayStart(window.fromDay);
  const toMs = dayStart(window.toDay);
  if (toMs <= fromMs) throw new Error(`reconcile: --to ${window.toDay} is not after --from ${window.fromDay}`);
  const mapped = Object.keys(cfg.api_keys).length > 0 || Object.keys(cfg.workspaces).length > 0;
  // ending_at only when it is past: whether the API takes a future one is not documented, and without it the answer runs to now.
  const range: [string, string][] = [['starting_at', new Date(fromMs).toISOString()], ...(toMs <= nowMs ? [['ending_at', new Date(toMs).toISOString()] as [string, string]] : []), ['bucket_width', '1d'], ['limit', '31']];
  const groupBy: [string, string][] = [['group_by[]', 'model'],
    ...(Object.keys(cfg.api_keys).length ? [['group_by[]', 'api_key_id'] as [string, string]] : []),
    ...(Object.keys(cfg.workspaces).length ? [['group_by[]', 'workspace_id'] as [string, string]] : [])];
  const reported = await client.all<UsageResult>('usage_report', 'v1/organizations/usage_report/messages', [...range, ...groupBy]);
  const cost = await client.all<CostResult>('cost_report', 'v1/organizations/cost_report', [...range, ['group_by[]', 'description']]);
  const ledger = await usage.usageBy({ fromMs, toMs, groupBy: mapped ? ['day', 'model', 'team'] : ['day', 'model'], where: { provider: PROVIDER } });
  return compare({
    usage: reported, cost, ledger, nowMs, settleMs: parseDuration(cfg.settle),
    apiKeys: cfg.api_keys, workspaces: cfg.workspaces, reconciledAt: new Date(nowMs).toISOString(),
  });
}
