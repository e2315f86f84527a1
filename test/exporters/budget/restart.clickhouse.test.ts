import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Exporter } from '../../../core/component.js';
import { BudgetExporter } from '../../../exporters/budget/exporter.js';
import { defaults as clickhouseDefaults, type ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { clickhouseExporterFactory } from '../../../exporters/clickhouse/index.js';
import { batchOf, testContext } from '../../helpers/context.js';
import { configOf, llmCall } from './helpers.js';

// chDB binds one data directory per process: this file (its own vitest worker) uses one path.
const dir = mkdtempSync(join(tmpdir(), 'tl-budget-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const clickhouse: ClickhouseConfig = {
  ...clickhouseDefaults, mode: 'embedded', path: join(dir, 'clickhouse'), rollup_refresh: '100s',
  batch: { max_rows: 500, max_delay: '20ms' }, queue: { type: 'memory', path: '', max_bytes: 64 << 20 },
};

const budgets = configOf({ ledger: 'clickhouse', budgets: [
  { name: 'teams', scope: { team: '*' }, limit_usd: 10, timezone: 'Europe/Berlin' },
  { name: 'acme-daily', scope: { customer: 'acme' }, period: 'day', limit_usd: 5 },
] });

async function spentGauges(ctx: ReturnType<typeof testContext>): Promise<string[]> {
  const { values } = await ctx.registry.getSingleMetric('tokenledger_budget_spent_usd')!.get();
  return values.map((v) => `${v.labels.budget}/${v.labels.scope_value}=${v.value.toFixed(9)}`).sort();
}

/** The ledger exporter and the budget exporter of one process, started in the graph's order (the ledger first). */
async function run(clock: () => number): Promise<{ ctx: ReturnType<typeof testContext>; ch: Exporter; budget: BudgetExporter }> {
  const ctx = testContext('budget', { level: 'warn' });
  const ch = clickhouseExporterFactory.create(clickhouse, { ...ctx, id: 'clickhouse' });
  const budget = new BudgetExporter(budgets, ctx, clock);
  await ch.start!();
  await budget.start();
  return { ctx, ch, budget };
}

describe('budget spend-to-date survives a restart (the real ClickHouse exporter on chDB as the ledger)', () => {
  it('is the same before and after', async () => {
    const now = Date.parse('2026-11-20T12:00:00Z'); // fixed, so that no period boundary falls inside the test
    const clock = () => now;
    const calls = [
      llmCall({ team: 'a', customer: 'acme', cost_usd: 1.5, timestamp: new Date(now - 3_600_000).toISOString() }),
      llmCall({ team: 'b', cost_usd: 2.25, timestamp: new Date(now - 30_000).toISOString() }),
      llmCall({ customer: 'acme', cost_usd: 0.125, timestamp: new Date(now - 10_000).toISOString() }),
      llmCall({ team: 'a', cost_usd: 0.5, timestamp: new Date(now - 5_000).toISOString() }),
    ];

    const first = await run(clock);
    for (const batch of [calls.slice(0, 2), calls.slice(2)]) {
      await first.ch.consume(batchOf({ calls: batch }));
      await first.budget.consume(batchOf({ calls: batch }));
    }
    await first.budget.shutdown();
    await first.ch.shutdown!(); // drains its queue into ClickHouse
    const before = await spentGauges(first.ctx);
    expect(before).toEqual(['acme-daily/acme=1.625000000', 'teams/__unattributed__=0.125000000', 'teams/a=2.000000000', 'teams/b=2.250000000']);

    // Restart: the new process has no counters; everything comes from the ledger.
    const second = await run(clock);
    expect(await spentGauges(second.ctx)).toEqual(before);
    expect(second.ctx.logs.filter((l) => String(l.msg).startsWith('reading budget spend-to-date from the ledger failed'))).toEqual([]);
    await second.budget.shutdown();
    await second.ch.shutdown!();
  });
});
