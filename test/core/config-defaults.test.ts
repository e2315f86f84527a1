import { describe, expect, it } from 'vitest';
import { factories } from '../../bin/components.js';
import { createAjv } from '../../core/config/ajv.js';
import { loadConfigText } from '../../core/config/load.js';

describe('component defaults', () => {
  // The loader applies defaults once, from the schema; factory.defaults is what code outside the
  // loader starts from (tests, `process` without a file), so the two must not drift apart.
  it.each(factories.map((f) => [`${f.kind} ${f.type}`, f] as const))('%s: factory.defaults are the schema\'s defaults', (_name, f) => {
    const filled: Record<string, unknown> = {};
    const validate = createAjv().compile(f.schema);
    validate(filled);
    // A block may have keys the user must write (the budget exporter's `budgets`): only those may fail.
    expect(validate.errors?.filter((e) => e.keyword !== 'required') ?? []).toEqual([]);
    const required = new Set((f.schema.required ?? []) as string[]);
    expect(filled).toEqual(Object.fromEntries(Object.entries(f.defaults as Record<string, unknown>).filter(([k]) => !required.has(k))));
  });

  it('fills a partly written block from the schema, keeping what was written', () => {
    const text = `receivers:
  otlp:
processors:
  claude-normalizer:
    dedupe: { store: redis, redis: { url: 'redis://10.0.0.1:6379' } }
exporters:
  clickhouse:
    queue: { type: memory }
    retry: { max_elapsed: 1h }
service:
  pipelines:
    llm: { receivers: [otlp], processors: [claude-normalizer], exporters: [clickhouse] }
`;
    const { config } = loadConfigText(text, 'p.yaml', factories, {});
    expect(config.exporters.clickhouse.queue).toEqual({ type: 'memory', path: './data/queue/clickhouse', max_bytes: 1024 ** 3 });
    expect(config.exporters.clickhouse.retry).toEqual({ initial_interval: '500ms', max_interval: '30s', max_elapsed: '1h' });
    expect(config.exporters.clickhouse.batch).toEqual({ max_rows: 5000, max_delay: '1s' });
    expect(config.processors['claude-normalizer'].dedupe.redis).toEqual({ url: 'redis://10.0.0.1:6379', key_prefix: 'tokenledger', window: '1h', timeout: '2s', lock_ttl: '10s', lock_wait: '5s' });
    expect(config.processors['claude-normalizer'].dedupe.window).toBe('15m');
  });
});
