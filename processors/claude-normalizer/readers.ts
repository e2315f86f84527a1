import { claudeCodeEvents } from './claude-code-events.js';
import { claudeCodeMetrics } from './claude-code-metrics.js';
import { claudeCodeSpans } from './claude-code-traces.js';
import { genAISpans, genAIUsageOnLogs } from './genai-semconv.js';
import { litellmReader } from './litellm-reader.js';
import { litellmLegacy } from './litellm-legacy.js';
import { litellmSemconv } from './litellm-semconv.js';
import { litellmV2 } from './litellm-v2.js';
import { openInferenceSpans } from './openinference.js';
import type { LogReader, MetricReader, SpanReader } from './reader.js';

/**
 * The shapes the normalizer reads, one row each (reader.ts): a record goes to the first reader of
 * its signal that detects it, so the more specific shapes come first. Adding a source is a reader
 * in its own file and a row here.
 */
export const SPAN_READERS: readonly SpanReader[] = [
  claudeCodeSpans,
  // A V2 span also carries the semconv keys, a semconv span the legacy ones.
  litellmReader(litellmV2),
  litellmReader(litellmSemconv),
  litellmReader(litellmLegacy),
  openInferenceSpans,
  genAISpans,
];

export const LOG_READERS: readonly LogReader[] = [
  claudeCodeEvents,
  genAIUsageOnLogs,
];

export const METRIC_READERS: readonly MetricReader[] = [
  claudeCodeMetrics,
];
