import type { LlmCall } from './llm-call.js';
import type { ResourceLogs, ResourceMetrics, ResourceSpans } from './telemetry.js';

/**
 * What flows through a pipeline: decoded telemetry up to the normalizer, LlmCall records after it.
 * Batches are shared between pipelines that read one receiver, so processors return a new batch
 * instead of mutating the one they are given.
 */
export interface Batch {
  resourceSpans: ResourceSpans[];
  resourceMetrics: ResourceMetrics[];
  resourceLogs: ResourceLogs[];
  /** New billable records. */
  calls: LlmCall[];
  /**
   * Records for calls already emitted earlier, carrying fields a second source added (Claude Code's
   * session on a LiteLLM call, say). Same call_id, timestamp and model as the original: row stores
   * upsert them, counters ignore them, so nothing is billed twice.
   */
  updates: LlmCall[];
  /**
   * For each of `updates` (same index), the version of the call it replaces, priced like it: a
   * counter that never counted the call (another replica did) can still count the change in price.
   * Absent where the producer of the updates does not know it.
   */
  updateBases?: LlmCall[];
  /**
   * The ingest version of each of `calls` and of `updates` (same index): rising with each record of
   * a call wherever it was made (the join store stamps them), so that a row store keeps the newest
   * whatever order replicas deliver them in. Absent where the producer does not know them.
   */
  callVersions?: number[];
  updateVersions?: number[];
  /** Where the batch came from, for logs and metrics. */
  origin: { receiver: string; transport: string };
}

export function emptyBatch(origin: Batch['origin']): Batch {
  return { resourceSpans: [], resourceMetrics: [], resourceLogs: [], calls: [], updates: [], origin };
}
