import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Exporter } from '../../../core/component.js';
import { defaults as clickhouseDefaults, type ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { clickhouseExporterFactory } from '../../../exporters/clickhouse/index.js';
import { PrometheusExporter } from '../../../exporters/prometheus/exporter.js';
import { batchOf, testContext } from '../../helpers/context.js';
import { configOf, llmCall } from './helpers.js';

// chDB binds one data directory per process: this file (its own vitest worker) uses one path.
const dir = mkdtempSync(join(tmpdir(), 'tl-prom-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const clickhouse: ClickhouseConfig = {
  ...clickhouseDefaults, mode: 'embedded', path: join(dir, 'clickhouse'), rollup_refresh: '100s',
  batch: { max_rows: 500, max_delay: '20ms' }, queue: { type: 'memory', path: '', max_bytes: 64 << 20 },
};

const budgets = configOf({ budgets: [
  { name: 'teams', scope: { team: '*' }, limit_usd: 10, timezone: 'Europe/Berlin' },
  { name: 'acme-daily', scope: { customer: 'acme' }, period: 'day', limit_usd: 5 },
] });

async function spentGauges(ctx: ReturnType<typeof testContext>): Promise<string[]> {
  const { values } = await ctx.registry.getSingleMetric('tokenledger_budget_spent_usd')!.get();
  return values.map((v) => `${v.labels.budget}/${v.labels.scope_value}=${v.value.toFixed(9)}`).sort();
}

describe('budget spend-to-date survives a restart (real ClickHouse exporter on chDB as the spend store)', () => {
  it('is the same before and after, whichever exporter starts first', async () => {
    const now = Date.parse('2026-11-20T12:00:00Z'); // fixed, so that no period boundary falls inside the test
    const clock = () => now;
    const calls = [
      llmCall({ team: 'a', customer: 'acme', cost_usd: 1.5, timestamp: new Date(now - 3_600_000).toISOString() }),
      llmCall({ team: 'b', cost_usd: 2.25, timestamp: new Date(now - 30_000).toISOString() }),
      llmCall({ customer: 'acme', cost_usd: 0.125, timestamp: new Date(now - 10_000).toISOString() }),
      llmCall({ team: 'a', cost_usd: 0.5, timestamp: new Date(now - 5_000).toISOString() }),
    ];

    // First run: the Prometheus exporter starts before the ClickHouse exporter offers its store.
    const before = testContext('prometheus', { level: 'warn' });
    const prom1 = new PrometheusExporter(budgets, before, clock);
    const ch1: Exporter = clickhouseExporterFactory.create(clickhouse, { ...before, id: 'clickhouse' });
    await prom1.start();
    await ch1.start!();
    for (const batch of [calls.slice(0, 2), calls.slice(2)]) {
      await ch1.consume(batchOf({ calls: batch }));
      await prom1.consume(batchOf({ calls: batch }));
    }
    await prom1.shutdown();
    await ch1.shutdown!(); // drains its queue into ClickHouse
    const first = await spentGauges(before);
    expect(first).toEqual(['acme-daily/acme=1.625000000', 'teams/__unattributed__=0.125000000', 'teams/a=2.000000000', 'teams/b=2.250000000']);

    // Restart: the ClickHouse exporter starts first this time; the new process has no counters.
    const after = testContext('prometheus', { level: 'warn' });
    const ch2: Exporter = clickhouseExporterFactory.create(clickhouse, { ...after, id: 'clickhouse' });
    const prom2 = new PrometheusExporter(budgets, after, clock);
    await ch2.start!();
    await prom2.start();
    expect(await spentGauges(after)).toEqual(first);
    expect(after.logs.filter((l) => l.msg === 'restoring budget spend-to-date failed')).toEqual([]);
    await prom2.shutdown();
    await ch2.shutdown!();
  });
});
