import type { LlmCall } from '../../core/llm-call.js';
import type { Attributes } from '../../core/telemetry.js';

/** The telemetry shapes the normalizer understands; a label value of its self-metrics. */
export type Shape =
  | 'litellm_legacy' | 'litellm_semconv' | 'litellm_v2' | 'litellm_raw'
  | 'claude_code_event' | 'claude_code_metrics' | 'claude_code_trace'
  | 'genai_semconv' | 'anthropic_sdk' | 'openinference';

/** LiteLLM's key/team identity, whichever layout carried it. */
export interface LiteLLMIdentity {
  team_id: string;
  team_alias: string;
  key_alias: string;
  key_hash: string;
  user_id: string;
  user_email: string;
  end_user: string;
  org_id: string;
  session_id: string;
  tags: string[];
}

/** What attribution sources (`resource:`, `attribute:`, `header:` …) are read from for one record. */
export interface AttributionView {
  resource: Attributes;
  attrs: Attributes;
  /** Prefix of LiteLLM metadata attributes: `metadata.` (v1) or `litellm.metadata.` (v2). */
  metadataPrefix: string;
  litellm: LiteLLMIdentity | null;
  /** Client `x-` headers as LiteLLM logged them, lower-case names. */
  headers: Record<string, string> | null;
}

/** One record found in the telemetry, before attribution and de-duplication. */
export interface Extracted {
  call: LlmCall;
  shape: Shape;
  /** Join keys (join-keys.ts): any match means the same call. */
  keys: string[];
  view: AttributionView;
  /** Why the tokens could not be made consistent, '' when they are. */
  tokenIssue: string;
  /** A report that links sources but is not billed itself (Claude Code spans when events are billed). */
  linkOnly?: boolean;
  /** Whether the source said how cache writes split into 5m and 1h (else all were counted as 5m). */
  cacheSplitKnown?: boolean;
  /** Values found inside serialized blobs, kept as attributes when listed (pricing reads `service_tier`, `inference_geo`). */
  extraAttributes?: Record<string, string>;
}

/**
 * One report read from a batch, before exactly-once: `counted` for the Claude Code report this mode
 * only counts (not billed nor joined), `count` for the Claude Code token totals it feeds when first seen.
 */
export interface Report {
  x: Extracted;
  /** The identity of the telemetry record it was read from (join-keys.ts): a record seen before is a re-send. */
  record: string;
  counted: boolean;
  count: 'events' | 'metrics' | '';
  /** A call recovered from LiteLLM's raw_gen_ai_request span: counted as recovered once it is taken (not on a re-send). */
  recovered?: { trace_id: string; service_name: string };
}
