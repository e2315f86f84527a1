import type { AdminResponse } from '../../core/admin-routes.js';
import type { BudgetStatus } from './tracker.js';

/** What `GET /api/v1/budgets/check` answers. */
export interface CheckAnswer {
  /** False when at least one budget covering the labels is exhausted. */
  allowed: boolean;
  exhausted: BudgetStatus[];
  /** When this replica last read the ledger (null: never, counting since start); its figures lag that by up to sync_interval. */
  ledger_read_at: string | null;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MAX_VALUE_LENGTH = 1024;
const MAX_LABELS = 32;

/**
 * The labels a check asks about, from the query string (`?team=alpha&key_alias=ci&customer=`): an
 * empty value means the call will have none, a label left out is unknown. Returns an error text for
 * a malformed query.
 */
export function checkLabels(params: URLSearchParams): Map<string, string> | string {
  const labels = new Map<string, string>();
  for (const [name, value] of params) {
    if (!LABEL_NAME.test(name)) return `bad label name '${name.slice(0, 64)}': expected letters, digits and _ (team, customer, key_alias, user or a dimension name)`;
    if (labels.has(name)) return `label '${name}' given twice`;
    if (value.length > MAX_VALUE_LENGTH) return `label '${name}' is longer than ${MAX_VALUE_LENGTH} characters`;
    labels.set(name, value);
  }
  if (labels.size === 0) return 'no labels given: expected e.g. ?team=alpha&key_alias=ci&customer=acme';
  if (labels.size > MAX_LABELS) return `more than ${MAX_LABELS} labels`;
  return labels;
}

export function jsonResponse(status: number, body: unknown): AdminResponse {
  return { status, contentType: 'application/json', body: JSON.stringify(body), headers: { 'cache-control': 'no-store' } };
}
