import { describe, expect, it } from 'vitest';
import { factories } from '../../bin/components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { DURATION_PATTERN, formatDuration, parseDuration } from '../../core/config/duration.js';
import { loadConfigText } from '../../core/config/load.js';
import { composeSchema } from '../../core/config/schema.js';

/** A pipeline of the real components with `exporters`/`processors` blocks supplied by the test. */
function pipeline(processors: string, exporters: string): string {
  return `receivers:
  otlp:
processors:
${processors}
exporters:
${exporters}
service:
  pipelines:
    llm:
      receivers: [otlp]
      processors: [claude-normalizer]
      exporters: [clickhouse, prometheus]
`;
}

function errorsOf(text: string): string[] {
  try {
    loadConfigText(text, 'p.yaml', factories, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    throw err;
  }
  return [];
}

type Schema = { type?: unknown; properties?: Record<string, Schema>; patternProperties?: Record<string, Schema>; items?: Schema; additionalProperties?: unknown };

/** Every key of the schema with its path: `exporters.clickhouse.batch.max_delay`. */
function keys(s: Schema, path: string, out: [string, Schema][]): [string, Schema][] {
  for (const [k, v] of Object.entries(s.properties ?? {})) { out.push([`${path}.${k}`, v]); keys(v, `${path}.${k}`, out); }
  for (const [k, v] of Object.entries(s.patternProperties ?? {})) keys(v, `${path}.${k.replace(/^\^|\(.*$/g, '')}`, out);
  if (s.items) keys(s.items, `${path}[]`, out);
  if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) keys(s.additionalProperties as Schema, `${path}.*`, out);
  return out;
}

describe('durations in pipeline.yaml', () => {
  it('are all duration strings: no key carries a time unit in its name', () => {
    const timed = keys(composeSchema(factories) as Schema, '', []).filter(([path]) => /_(ms|seconds|secs|minutes|hours)$/.test(path));
    expect(timed.map(([path]) => path)).toEqual([]);
    const durations = keys(composeSchema(factories) as Schema, '', []).filter(([, s]) => (s as { pattern?: string }).pattern === DURATION_PATTERN).map(([path]) => path);
    expect(durations).toEqual(expect.arrayContaining([
      '.service.shutdown_timeout', '.exporters.clickhouse.batch.max_delay', '.exporters.clickhouse.retry.max_elapsed',
      '.processors.claude-normalizer.dedupe.redis.window', '.exporters.budget.webhook.timeout', '.exporters.budget.sync_interval', '.receivers.otlp.drain_timeout',
    ]));
  });

  it('tell a user upgrading which key replaced an old integer key, and the value to write', () => {
    const text = pipeline(`  claude-normalizer:
    dedupe:
      window_seconds: 600
      redis: { timeout_ms: 2500 }`, `  clickhouse:
    rollup_refresh_ms: 10000
    batch: { max_delay_ms: 90000 }
    retry:
      max_elapsed_ms: 0
  prometheus:`);
    expect(errorsOf(text)).toEqual([
      "p.yaml:6:7: error: processors.claude-normalizer.dedupe.window_seconds: 'window_seconds' was renamed 'window' and takes a duration (500ms, 30s, 5m, 1h): write window: 10m",
      "p.yaml:7:16: error: processors.claude-normalizer.dedupe.redis.timeout_ms: 'timeout_ms' was renamed 'timeout' and takes a duration (500ms, 30s, 5m, 1h): write timeout: 2500ms",
      "p.yaml:10:5: error: exporters.clickhouse.rollup_refresh_ms: 'rollup_refresh_ms' was renamed 'rollup_refresh' and takes a duration (500ms, 30s, 5m, 1h): write rollup_refresh: 10s",
      "p.yaml:11:14: error: exporters.clickhouse.batch.max_delay_ms: 'max_delay_ms' was renamed 'max_delay' and takes a duration (500ms, 30s, 5m, 1h): write max_delay: 90s",
      "p.yaml:13:7: error: exporters.clickhouse.retry.max_elapsed_ms: 'max_elapsed_ms' was renamed 'max_elapsed' and takes a duration (500ms, 30s, 5m, 1h): write max_elapsed: 0s",
    ]);
  });

  it('refuse a number, and a duration outside its bounds, naming the bound', () => {
    const text = pipeline(`  claude-normalizer:
    dedupe:
      redis: { window: 800h, lock_ttl: 50ms }`, `  clickhouse:
    rollup_refresh: 10000
    batch: { max_delay: 0s }
  prometheus:`);
    expect(errorsOf(text)).toEqual([
      'p.yaml:6:24: error: processors.claude-normalizer.dedupe.redis.window: expected a duration of at most 720h, found string "800h"',
      'p.yaml:6:40: error: processors.claude-normalizer.dedupe.redis.lock_ttl: expected a duration of at least 100ms, found string "50ms"',
      'p.yaml:9:21: error: exporters.clickhouse.rollup_refresh: expected string, found number 10000',
      'p.yaml:10:25: error: exporters.clickhouse.batch.max_delay: expected a duration of at least 1ms, found string "0s"',
    ]);
  });

  it('are loaded as written and defaulted as strings', () => {
    const { config } = loadConfigText(pipeline('  claude-normalizer:\n    dedupe: { window: 20m }', '  clickhouse:\n    retry: { max_elapsed: 2h }\n  prometheus:'), 'p.yaml', factories, {});
    expect(config.processors['claude-normalizer'].dedupe.window).toBe('20m');
    expect(config.processors['claude-normalizer'].dedupe.redis.lock_wait).toBe('5s');
    expect(config.exporters.clickhouse.retry).toEqual({ initial_interval: '500ms', max_interval: '30s', max_elapsed: '2h' });
    expect(config.exporters.clickhouse.batch.max_delay).toBe('1s');
  });

  it('format back to the shortest unit', () => {
    expect([0, 1, 999, 1000, 90_000, 3_600_000, 5_400_000].map(formatDuration)).toEqual(['0s', '1ms', '999ms', '1s', '90s', '1h', '90m']);
    for (const ms of [1, 1500, 60_000, 7_200_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
