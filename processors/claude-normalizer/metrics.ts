import type { DeclaredMetrics } from '../../core/metric-spec.js';
import { defineMetrics } from '../../core/metric-spec.js';
import { ENDED_SPAN_FIX } from './litellm-ended-span.js';

/** The normalizer's self-metrics (every one also labelled `pipeline`: processors are built per pipeline). */
export const normalizerMetrics = defineMetrics({
  quarantined: {
    type: 'counter', name: 'tokenledger_normalizer_quarantined_total',
    help: 'Reports whose token counts no real call can have (not non-negative integers, or past the documented bounds): logged, never billed.', labels: ['source', 'reason'],
  },
  untrustedCosts: {
    type: 'counter', name: 'tokenledger_normalizer_untrusted_reported_costs_total',
    help: 'Source-reported costs that were not finite, negative or above the ceiling for their tokens: recorded as null.', labels: ['source', 'reason'],
  },
  truncations: {
    type: 'counter', name: 'tokenledger_normalizer_truncated_values_total', help: 'Record values cut to their bound (strings to their length cap, tags in number), by field.', labels: ['field'],
  },
  records: { type: 'counter', name: 'tokenledger_normalizer_records_total', help: 'LlmCall records emitted, by source and telemetry shape.', labels: ['source', 'shape', 'record_type'] },
  unknown: { type: 'counter', name: 'tokenledger_normalizer_unknown_shapes_total', help: 'LLM-looking telemetry the normalizer did not understand and skipped.', labels: ['signal', 'reason'] },
  duplicates: {
    type: 'counter', name: 'tokenledger_normalizer_duplicates_total',
    help: 'Re-sent reports (of a call, or of Claude Code usage only counted against the billed reports) and repeated reports of one call by one shape, dropped.', labels: ['source'],
  },
  joins: { type: 'counter', name: 'tokenledger_normalizer_joins_total', help: 'Reports of an already emitted call from another source or shape, joined to it.', labels: ['first', 'second'] },
  updates: { type: 'counter', name: 'tokenledger_normalizer_updates_total', help: 'Updates emitted for already emitted calls a join enriched.', labels: ['source'] },
  joinMismatch: {
    type: 'counter', name: 'tokenledger_normalizer_join_token_mismatch_total', help: 'Joined reports of one call whose tokens disagree (the first report is kept).', labels: ['first', 'second'],
  },
  inconsistent: {
    type: 'counter', name: 'tokenledger_normalizer_inconsistent_tokens_total',
    help: 'Reports whose tokens could not be made consistent (emitted, flagged) or were missing (reason missing_usage: kept as a link, not billed).', labels: ['source', 'reason'],
  },
  ccTokens: {
    type: 'counter', name: 'tokenledger_normalizer_claude_code_tokens_total', help: 'Claude Code tokens as reported by its events and by its metrics, whichever is billed.', labels: ['from', 'type'],
  },
  ccDrift: {
    type: 'gauge', name: 'tokenledger_normalizer_claude_code_drift_tokens', help: 'Claude Code tokens reported by metrics minus tokens reported by api_request events, since start.', labels: ['type'],
  },
  indexEntries: { type: 'gauge', name: 'tokenledger_normalizer_index_entries', help: 'Calls held in the exactly-once join index.' },
  indexEvictions: { type: 'counter', name: 'tokenledger_normalizer_index_evictions_total', help: 'Calls dropped from the join index (window passed or bound reached).' },
  cumulativeSeries: { type: 'gauge', name: 'tokenledger_normalizer_cumulative_series', help: 'Cumulative metric series tracked to compute deltas.' },
  cumulativeResets: { type: 'counter', name: 'tokenledger_normalizer_cumulative_resets_total', help: 'Cumulative series that restarted (new start time or lower value).' },
  abandoned: {
    type: 'counter', name: 'tokenledger_normalizer_abandoned_records_total',
    help: 'Records (calls and updates) of batches the exporters refused (retry later), taken back from the join store so that the re-send counts.',
  },
  unjoinedLinks: {
    type: 'counter', name: 'tokenledger_normalizer_unjoined_links_total',
    help: 'Link-only reports (LiteLLM spans without usage, Claude Code spans) that no billable report joined: nothing billed for them.', labels: ['source', 'shape'],
  },
  endedSpans: {
    type: 'counter', name: 'tokenledger_normalizer_litellm_spans_without_usage_total',
    help: `LiteLLM calls exported without usage because LiteLLM set it on an already ended span (fix: ${ENDED_SPAN_FIX}): outcome recovered (exactly, from the provider usage on raw_gen_ai_request), lost, or unverified (a request span dropped from a full watch list).`,
    labels: ['outcome'],
  },
  storeErrors: {
    type: 'counter', name: 'tokenledger_normalizer_join_store_errors_total',
    help: 'Join store failures: batches refused (retryable) because Redis failed (op load, save, release, resolve), held their calls too long (busy) or outlived their locks (lock_lost); in-memory index snapshots not written (snapshot).',
    labels: ['op'],
  },
});

export type NormalizerMetrics = DeclaredMetrics<typeof normalizerMetrics>;
