import { defineMetrics } from '../../core/metric-spec.js';

/** cost-enrichment's self-metrics (new calls only: updates re-describe calls already counted). */
export const costEnrichmentMetrics = defineMetrics({
  unpricedCalls: { type: 'counter', name: 'tokenledger_llm_unpriced_calls_total', help: 'LLM calls no price entry matched; they carry cost_usd 0 and price_ref \'\'.', labels: ['model', 'provider'] },
  driftCalls: { type: 'counter', name: 'tokenledger_cost_drift_calls_total', help: 'LLM calls whose source-reported cost differs from the computed cost by more than the configured tolerance.', labels: ['model'] },
});
