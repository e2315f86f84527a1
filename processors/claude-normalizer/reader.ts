import type { Attributes, LogRecord, ResourceMetrics, Scope, Span } from '../../core/telemetry.js';
import type { CumulativeState, SeriesChange } from './cumulative.js';
import type { LiteLLMOptions } from './litellm-extract.js';
import type { ModelProviders } from './providers.js';
import type { Extracted } from './types.js';

/**
 * The contract of a shape reader (readers.ts lists them): one per telemetry shape, in the shape's
 * own file, each with its detection and its reading. The router (router.ts) gives each record to
 * the first reader of its signal's table that detects it; what the reader returns is then
 * attributed, bounded and joined the same way whatever the shape.
 */

/** The normalizer settings a reading depends on. */
export interface ReadOptions {
  providers: ModelProviders;
  litellm: LiteLLMOptions;
  /** `genai.input_includes_cache`: generic semconv input counts include cache reads and writes. */
  genaiInputIncludesCache: boolean;
  /** `claude_code.usage_from: metrics`: Claude Code's metrics are billed, its events only counted. */
  usageFromMetrics: boolean;
}

/** A record read: the report, and how Claude Code's two usage reports count (README, "Claude Code: events or metrics"). */
export interface Read {
  x: Extracted;
  /** The Claude Code token totals it feeds when first seen. */
  count?: 'events' | 'metrics';
  /** Only counted against the billed reports, never billed nor joined. */
  countOnly?: boolean;
  /** The identity of the record read (join-keys.ts), when not the span's or log record's own. */
  record?: string;
}

/** What a reader made of a record: a report, nothing (not a model call), or why it looks like one but cannot be read. */
export type Reading = Read | { unknown: string } | null;

/** Where a span was found: its resource, its scope, and the other spans of its resource, by span id. */
export interface SpanSite {
  resource: Attributes;
  scope: Scope;
  spanById(id: string): Span | undefined;
}

export interface SpanReader {
  /**
   * Whose span it is, for the watch of LiteLLM's request spans (litellm-spans-without-usage.ts):
   * `litellm` spans report their call, `claude_code` spans are not watched, `other` spans are.
   */
  readonly family: 'litellm' | 'claude_code' | 'other';
  detect(span: Span, site: SpanSite): boolean;
  read(span: Span, site: SpanSite, opts: ReadOptions): Reading;
}

export interface LogSite {
  resource: Attributes;
  scope: Scope;
}

export interface LogReader {
  detect(rec: LogRecord, site: LogSite): boolean;
  read(rec: LogRecord, site: LogSite, opts: ReadOptions): Reading;
}

/** Metric points are read a resource at a time; cumulative series turn into deltas through `cumulative`, each move logged in `changes`. */
export interface MetricSite {
  cumulative: CumulativeState;
  changes: SeriesChange[];
}

export interface MetricReader {
  detect(rm: ResourceMetrics): boolean;
  /** Every reading carries its `record`. */
  read(rm: ResourceMetrics, site: MetricSite, opts: ReadOptions): (Read & { record: string })[];
}
