import { defineMetrics } from '../../core/metric-spec.js';

export const reconciliationMetrics = defineMetrics({
  driftUsd: {
    type: 'gauge', name: 'tokenledger_reconciliation_drift_usd',
    help: "Provider's reported cost minus the ledger's, per UTC day and model, from the last reconciliation (status: final or partial).",
    labels: ['provider', 'model', 'day', 'status'],
  },
  driftRatio: {
    type: 'gauge', name: 'tokenledger_reconciliation_drift_ratio',
    help: 'drift_usd relative to the larger of the two costs, per UTC day and model.',
    labels: ['provider', 'model', 'day', 'status'],
  },
  unmatchedUsd: {
    type: 'gauge', name: 'tokenledger_reconciliation_unmatched_usd',
    help: "Cost, at the provider's rates, of reported tokens with no ledger counterpart (calls that never reached tokenledger), per UTC day and model.",
    labels: ['provider', 'model', 'day', 'status'],
  },
  thresholdRatio: { type: 'gauge', name: 'tokenledger_reconciliation_drift_threshold_ratio', help: 'Configured drift_alert_ratio (the alert rule compares against it).', labels: ['provider'] },
  thresholdUsd: { type: 'gauge', name: 'tokenledger_reconciliation_drift_threshold_usd', help: 'Configured drift_alert_usd (the alert rule compares against it).', labels: ['provider'] },
  runs: { type: 'counter', name: 'tokenledger_reconciliation_runs_total', help: 'Reconciliation runs, by result (ok, error).', labels: ['provider', 'result'] },
  lastSuccess: { type: 'gauge', name: 'tokenledger_reconciliation_last_success_timestamp_seconds', help: 'When the last reconciliation run succeeded (Unix seconds).', labels: ['provider'] },
  requests: { type: 'counter', name: 'tokenledger_reconciliation_api_requests_total', help: "Requests to the provider's reporting API, by report and HTTP status ('error' for a network error or timeout).", labels: ['provider', 'report', 'status'] },
});
