import { emptyCall, type LlmCall } from '../../core/llm-call.js';
import type { Attributes, Metric, ResourceMetrics } from '../../core/telemetry.js';
import { msToIso, nanosToMs, str } from './attrs.js';
import { boundString, MAX_STRING_LENGTH } from './bounded-strings.js';
import { CLAUDE_CODE_SCOPE, fillClaudeCodeBasics } from './claude-code-basics.js';
import type { CumulativeState, SeriesChange } from './cumulative.js';
import { usageIntervalKey } from './join-keys.js';
import type { ModelProviders } from './providers.js';
import type { MetricReader } from './reader.js';
import type { AttributionView } from './types.js';

/**
 * Claude Code's `claude_code.token.usage` (one data point per `type`: input, output, cacheRead,
 * cacheCreation) and `claude_code.cost.usage` (USD) monotonic sums, delta (default) or cumulative
 * temporality. Points of one series (same attributes but `type`) and interval are grouped into one
 * usage interval: the tokens and cost of the calls of one session × model × query source in it.
 * The metrics carry no 5m/1h split: cache creation counts as 5m.
 */
export const TOKEN_METRIC = 'claude_code.token.usage';
export const COST_METRIC = 'claude_code.cost.usage';

export interface UsageInterval {
  resource: Attributes;
  attrs: Attributes;
  seriesKey: string;
  fromNs: string;
  toNs: string;
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  cost: number;
}

export function isClaudeCodeMetrics(rm: ResourceMetrics): boolean {
  for (const sm of rm.scopeMetrics) if (sm.scope.name.startsWith(CLAUDE_CODE_SCOPE)) return true;
  return false;
}

/** Usage intervals in one ResourceMetrics, cumulative points turned into deltas through `state` (changes to it collected in `changes`). */
export function readUsageIntervals(rm: ResourceMetrics, state: CumulativeState, changes?: SeriesChange[]): UsageInterval[] {
  const byKey = new Map<string, UsageInterval>();
  for (const sm of rm.scopeMetrics) {
    if (!sm.scope.name.startsWith(CLAUDE_CODE_SCOPE)) continue;
    for (const m of sm.metrics) {
      if (m.name !== TOKEN_METRIC && m.name !== COST_METRIC) continue;
      readMetric(rm.resource, m, state, byKey, changes);
    }
  }
  return [...byKey.values()];
}

function readMetric(resource: Attributes, m: Metric, state: CumulativeState, out: Map<string, UsageInterval>, changes?: SeriesChange[]): void {
  const sum = m.sum;
  if (!sum) return;
  const cumulative = sum.aggregationTemporality === 2;
  for (const dp of sum.dataPoints) {
    const type = m.name === COST_METRIC ? 'cost' : str(dp.attributes, 'type');
    const seriesKey = seriesKeyOf(dp.attributes);
    let value = dp.value;
    let fromNs = dp.startTimeUnixNano;
    if (cumulative) {
      const d = state.delta(`${m.name}|${type}|${seriesKey}`, dp.startTimeUnixNano, dp.timeUnixNano, dp.value, changes);
      if (d === null) continue;
      value = d.value;
      fromNs = d.from;
    }
    if (value === 0) continue;
    const key = `${seriesKey}|${dp.timeUnixNano}`;
    let iv = out.get(key);
    if (iv === undefined) {
      iv = { resource, attrs: dp.attributes, seriesKey, fromNs, toNs: dp.timeUnixNano, input: 0, output: 0, cacheRead: 0, cacheCreation: 0, cost: 0 };
      out.set(key, iv);
    } else if (fromNs < iv.fromNs) {
      iv.fromNs = fromNs;
    }
    switch (type) {
      case 'input': iv.input += value; break;
      case 'output': iv.output += value; break;
      case 'cacheRead': iv.cacheRead += value; break;
      case 'cacheCreation': iv.cacheCreation += value; break;
      case 'cost': iv.cost += value; break;
      default: break;
    }
  }
}

/**
 * Every attribute but `type`, in a stable order: one series across the token types and the cost
 * metric. Long values are capped (with a hash, so series stay distinct): cumulative state keeps the
 * key until the series is evicted.
 */
function seriesKeyOf(attrs: Attributes): string {
  const keys = Object.keys(attrs).filter((k) => k !== 'type').sort();
  let s = '';
  for (const k of keys) s += `${boundString(k, MAX_STRING_LENGTH)}=${boundString(String(attrs[k]), MAX_STRING_LENGTH)};`;
  return s;
}

export function usageIntervalCall(iv: UsageInterval, providers: ModelProviders): { call: LlmCall; view: AttributionView } {
  const call = emptyCall();
  fillClaudeCodeBasics(call, iv.resource, iv.attrs, str(iv.attrs, 'model'), providers);
  call.record_type = 'usage_interval';
  const fromMs = nanosToMs(iv.fromNs);
  call.timestamp = msToIso(fromMs);
  call.duration_ms = Math.max(0, nanosToMs(iv.toNs) - fromMs);
  call.call_id = `claude_code_metrics:${fnv1a(iv.seriesKey)}:${iv.toNs}`;
  call.streaming = true;
  call.input_tokens = Math.round(iv.input);
  call.output_tokens = Math.round(iv.output);
  call.cache_read_tokens = Math.round(iv.cacheRead);
  call.cache_write_5m_tokens = Math.round(iv.cacheCreation);
  call.reported_cost_usd = iv.cost;
  return { call, view: { resource: iv.resource, attrs: iv.attrs, metadataPrefix: '', litellm: null, headers: null } };
}

/** 32-bit FNV-1a as hex: a short stable id for a series. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Usage intervals, one report each; with `usage_from: events` (the default) they are only counted. */
export const claudeCodeMetrics: MetricReader = {
  detect: isClaudeCodeMetrics,
  read: (rm, site, opts) => readUsageIntervals(rm, site.cumulative, site.changes).map((iv) => {
    const { call, view } = usageIntervalCall(iv, opts.providers);
    return {
      x: { call, view, shape: 'claude_code_metrics', keys: [], tokenIssue: intervalIssue(iv) },
      record: usageIntervalKey(call.call_id), count: 'metrics', countOnly: !opts.usageFromMetrics,
    };
  }),
};

function intervalIssue(iv: UsageInterval): string {
  return iv.input < 0 || iv.output < 0 || iv.cacheRead < 0 || iv.cacheCreation < 0 ? 'negative_delta' : '';
}
