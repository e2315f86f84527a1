import { defineMetrics } from '../../core/metric-spec.js';

/** The exporter's own health. */
export const prometheusExporterMetrics = defineMetrics({
  invalid: { type: 'counter', name: 'tokenledger_prometheus_invalid_values_total', help: 'Record values not counted because they were negative or not finite.', labels: ['exporter', 'field'] },
  labelSets: { type: 'gauge', name: 'tokenledger_prometheus_label_sets', help: 'Distinct label combinations of the spend metrics (bounded by max_label_sets).', labels: ['exporter'] },
  folded: { type: 'counter', name: 'tokenledger_prometheus_folded_calls_total', help: 'Calls whose labels were folded to __other__ by the cardinality guard.', labels: ['exporter'] },
  resent: { type: 'counter', name: 'tokenledger_prometheus_resent_calls_total', help: 'Calls already counted that arrived again (re-sent after another exporter refused their batch), not counted twice.', labels: ['exporter'] },
});

/**
 * The spend metrics: the data this exporter publishes, not its health. Each carries BASE_LABELS (labels.ts),
 * then the configured `labels`, then the labels listed here.
 */
export const spendMetrics = defineMetrics({
  calls: { type: 'counter', name: 'tokenledger_llm_calls_total', help: 'LLM calls, by outcome.', labels: ['status'] },
  tokens: { type: 'counter', name: 'tokenledger_llm_tokens_total', help: 'Tokens, by type: input (not cached), output, cache_read, cache_write_5m, cache_write_1h.', labels: ['token_type'] },
  cost: { type: 'counter', name: 'tokenledger_llm_cost_usd_total', help: 'Cost of LLM calls in USD, as priced by cost-enrichment.' },
  duration: { type: 'histogram', name: 'tokenledger_llm_call_duration_seconds', help: 'Duration of LLM calls in seconds.', buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300] },
  ttft: { type: 'histogram', name: 'tokenledger_llm_time_to_first_token_seconds', help: 'Time to first token of streamed LLM calls in seconds.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30] },
});
