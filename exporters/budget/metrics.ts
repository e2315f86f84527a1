import { defineMetrics } from '../../core/metric-spec.js';

const SCOPE = ['budget', 'scope_label', 'scope_value'] as const;

/** The budget gauges (dashboards and alerts/tokenledger.rules.yml read them) and the exporter's own counters. */
export const budgetMetrics = defineMetrics({
  limit: { type: 'gauge', name: 'tokenledger_budget_limit_usd', help: 'Budget limit for the current period, in USD.', labels: SCOPE },
  spent: { type: 'gauge', name: 'tokenledger_budget_spent_usd', help: 'Spend counted against the budget in the current period, in USD.', labels: SCOPE },
  utilization: { type: 'gauge', name: 'tokenledger_budget_utilization_ratio', help: 'Spent / limit of the current period (1 = exhausted).', labels: SCOPE },
  projected: { type: 'gauge', name: 'tokenledger_budget_projected_usd', help: 'Spend forecast for the end of the period at the burn rate so far, in USD.', labels: SCOPE },
  periodEnd: { type: 'gauge', name: 'tokenledger_budget_period_end_timestamp_seconds', help: "End of the budget's current period (Unix seconds).", labels: ['budget'] },
  folded: { type: 'counter', name: 'tokenledger_budget_folded_calls_total', help: "Calls billed to the __other__ scope value because a '*' budget reached max_scope_values values.", labels: ['exporter', 'budget'] },
  late: { type: 'counter', name: 'tokenledger_budget_late_calls_total', help: 'Calls that arrived after their budget period ended, not billed to the current one.', labels: ['exporter', 'budget'] },
  restoreFailures: { type: 'counter', name: 'tokenledger_budget_restore_failures_total', help: 'Failed reads of budget spend-to-date from the ledger.', labels: ['exporter'] },
  notifications: { type: 'counter', name: 'tokenledger_budget_notifications_total', help: 'Budget webhook notifications, by result (sent, failed).', labels: ['exporter', 'result'] },
  resent: { type: 'counter', name: 'tokenledger_budget_resent_calls_total', help: 'Calls already counted that arrived again (re-sent after another exporter refused their batch), not counted twice.', labels: ['exporter'] },
  checks: { type: 'counter', name: 'tokenledger_budget_checks_total', help: 'GET /api/v1/budgets/check answers, by result (allowed, exhausted, bad_request).', labels: ['exporter', 'result'] },
});
