import { describe, expect, it } from 'vitest';
import { Host, type SpendStore } from '../../../core/host.js';
import { PrometheusExporter } from '../../../exporters/prometheus/exporter.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { configOf, llmCall, manualClock, MemorySpendStore } from './helpers.js';

const gauge = (ctx: ReturnType<typeof testContext>, name: string, budget: string, scopeValue: string) =>
  metricValue(ctx.registry, `tokenledger_budget_${name}`, { budget, scope_value: scopeValue });

const series = async (ctx: ReturnType<typeof testContext>, name: string) =>
  (await ctx.registry.getSingleMetric(`tokenledger_budget_${name}`)!.get()).values;

describe('budgets', () => {
  it('a fixed-scope budget shows its gauges at start, before any spend', async () => {
    const ctx = testContext('prometheus');
    const exp = new PrometheusExporter(configOf({ budgets: [{ name: 'platform', scope: { team: 'platform' }, limit_usd: 100 }] }), ctx, manualClock('2026-11-16T00:00:00Z').now);
    await exp.start();
    expect(await gauge(ctx, 'limit_usd', 'platform', 'platform')).toBe(100);
    expect((await series(ctx, 'spent_usd')).map((v) => v.labels)).toEqual([{ budget: 'platform', scope_label: 'team', scope_value: 'platform' }]);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_period_end_timestamp_seconds', { budget: 'platform' })).toBe(Date.parse('2026-12-01T00:00:00Z') / 1000);
    await exp.shutdown();
  });

  it("a '*' scope keeps one budget per value, unattributed spend apart, and projects the burn rate", async () => {
    const ctx = testContext('prometheus');
    const clock = manualClock('2026-11-16T00:00:00Z'); // half of November has passed
    const exp = new PrometheusExporter(configOf({ budgets: [{ name: 'teams', scope: { team: '*' }, limit_usd: 10 }] }), ctx, clock.now);
    await exp.start();
    const ts = '2026-11-10T00:00:00.000Z';
    await exp.consume(batchOf({ calls: [
      llmCall({ team: 'a', cost_usd: 2, timestamp: ts }), llmCall({ team: 'a', cost_usd: 1, timestamp: ts }),
      llmCall({ team: 'b', cost_usd: 6, timestamp: ts }), llmCall({ cost_usd: 0.5, timestamp: ts }),
    ] }));
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(3);
    expect(await gauge(ctx, 'utilization_ratio', 'teams', 'a')).toBeCloseTo(0.3, 12);
    expect(await gauge(ctx, 'projected_usd', 'teams', 'a')).toBeCloseTo(6, 9);
    expect(await gauge(ctx, 'spent_usd', 'teams', 'b')).toBe(6);
    expect(await gauge(ctx, 'spent_usd', 'teams', '__unattributed__')).toBe(0.5);
    expect(await gauge(ctx, 'limit_usd', 'teams', 'b')).toBe(10);
    await exp.shutdown();
  });

  it('conditions narrow a budget: { team: platform, project: "*" } counts only platform, per project', async () => {
    const ctx = testContext('prometheus');
    const exp = new PrometheusExporter(configOf({ budgets: [{ name: 'p', scope: { team: 'platform', project: '*' }, limit_usd: 10 }] }), ctx, Date.now);
    await exp.start();
    await exp.consume(batchOf({ calls: [
      llmCall({ team: 'platform', dimensions: { project: 'search' }, cost_usd: 1 }),
      llmCall({ team: 'research', dimensions: { project: 'search' }, cost_usd: 5 }),
    ] }));
    expect((await series(ctx, 'spent_usd')).map((v) => [v.labels.scope_label, v.labels.scope_value, v.value])).toEqual([['project', 'search', 1]]);
    await exp.shutdown();
  });

  it('projection counts at least 1% of the period as elapsed, so the first minutes do not explode', async () => {
    const ctx = testContext('prometheus');
    const exp = new PrometheusExporter(configOf({ budgets: [{ name: 'd', scope: { team: 't' }, period: 'day', limit_usd: 100 }] }), ctx, manualClock('2026-11-24T00:00:05Z').now);
    await exp.start();
    await exp.consume(batchOf({ calls: [llmCall({ team: 't', cost_usd: 1, timestamp: '2026-11-24T00:00:01Z' })] }));
    expect(await gauge(ctx, 'projected_usd', 'd', 't')).toBeCloseTo(100, 9);
    await exp.shutdown();
  });

  it('rolls over at the period end in its time zone and does not bill late calls to the new period', async () => {
    const ctx = testContext('prometheus');
    const clock = manualClock('2026-11-30T22:00:00Z'); // 23:00 in Berlin, last hour of November
    const exp = new PrometheusExporter(configOf({ budgets: [
      { name: 'fixed', scope: { team: 'a' }, limit_usd: 10, timezone: 'Europe/Berlin' },
      { name: 'wild', scope: { team: '*' }, limit_usd: 10, timezone: 'Europe/Berlin' },
    ] }), ctx, clock.now);
    await exp.start();
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 4, timestamp: '2026-11-30T22:30:00Z' })] }));
    expect(await gauge(ctx, 'spent_usd', 'fixed', 'a')).toBe(4);
    clock.set('2026-11-30T23:00:00Z'); // midnight in Berlin
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1, timestamp: '2026-11-30T22:59:59Z' })] }));
    expect(await gauge(ctx, 'spent_usd', 'fixed', 'a')).toBe(0);
    expect((await series(ctx, 'spent_usd')).filter((v) => v.labels.budget === 'wild')).toEqual([]);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_late_calls_total', { budget: 'fixed' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_period_end_timestamp_seconds', { budget: 'fixed' })).toBe(Date.parse('2026-12-31T23:00:00Z') / 1000);
    await exp.shutdown();
  });

  it('the refresh timer rolls periods and updates projections without traffic', async () => {
    const ctx = testContext('prometheus');
    const clock = manualClock('2026-11-16T00:00:00Z');
    const exp = new PrometheusExporter(configOf({ budget_refresh: '100ms', budgets: [{ name: 'm', scope: { team: 'a' }, limit_usd: 10 }] }), ctx, clock.now);
    await exp.start();
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 3, timestamp: '2026-11-15T00:00:00Z' })] }));
    expect(await gauge(ctx, 'projected_usd', 'm', 'a')).toBeCloseTo(6, 9);
    clock.set('2026-11-28T12:00:00Z'); // 27.5 of 30 days: projection 3 * 30 / 27.5
    await new Promise((r) => setTimeout(r, 250));
    expect(await gauge(ctx, 'projected_usd', 'm', 'a')).toBeCloseTo(3 * 30 / 27.5, 9);
    clock.set('2026-12-01T00:00:01Z');
    await new Promise((r) => setTimeout(r, 250));
    expect(await gauge(ctx, 'spent_usd', 'm', 'a')).toBe(0);
    await exp.shutdown();
  });

  it('past max_label_sets scope values, new ones are billed to __other__', async () => {
    const ctx = testContext('prometheus');
    const exp = new PrometheusExporter(configOf({ max_label_sets: 2, budgets: [{ name: 'c', scope: { customer: '*' }, limit_usd: 10 }] }), ctx, Date.now);
    await exp.start();
    await exp.consume(batchOf({ calls: ['x', 'y', 'z', 'w'].map((customer) => llmCall({ customer, cost_usd: 1 })) }));
    expect((await series(ctx, 'spent_usd')).map((v) => [v.labels.scope_value, v.value])).toEqual([['x', 1], ['y', 1], ['__other__', 2]]);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_folded_calls_total', { budget: 'c' })).toBe(2);
    await exp.shutdown();
  });
});

describe('budget spend-to-date across restarts', () => {
  const budgets = [
    { name: 'teams', scope: { team: '*' }, limit_usd: 10, timezone: 'Europe/Berlin' },
    { name: 'acme', scope: { customer: 'acme' }, limit_usd: 50, period: 'week' },
  ];

  it('is the same before and after a restart when a spend store is offered', async () => {
    const clock = manualClock('2026-11-20T12:00:00Z');
    const store = new MemorySpendStore();
    const calls = [
      llmCall({ team: 'a', customer: 'acme', cost_usd: 2.5, timestamp: '2026-11-20T10:00:00Z' }),
      llmCall({ team: 'b', cost_usd: 4, timestamp: '2026-11-03T10:00:00Z' }),
      llmCall({ team: 'a', customer: 'acme', cost_usd: 1.25, timestamp: '2026-11-16T08:00:00Z' }),
      llmCall({ cost_usd: 0.75, timestamp: '2026-11-19T08:00:00Z' }),
      llmCall({ team: 'a', cost_usd: 100, timestamp: '2026-10-31T22:59:00Z' }), // October in Berlin: neither budget's period
    ];
    store.calls.push(...calls); // what the ClickHouse exporter would have written

    const before = testContext('prometheus');
    const first = new PrometheusExporter(configOf({ budgets }), before, clock.now);
    await first.start(); // before the store exists in this "process": counts what it sees
    await first.consume(batchOf({ calls }));
    await first.shutdown();

    const after = testContext('prometheus');
    after.host.provide('spendStore', store);
    const second = new PrometheusExporter(configOf({ budgets }), after, clock.now);
    await second.start();
    const dump = async (ctx: typeof before) => (await series(ctx, 'spent_usd')).map((v) => `${v.labels.budget}/${v.labels.scope_value}=${v.value}`).sort();
    expect(await dump(before)).toEqual(['acme/acme=3.75', 'teams/__unattributed__=0.75', 'teams/a=3.75', 'teams/b=4']);
    expect(await dump(after)).toEqual(await dump(before));
    expect(store.queries).toEqual([
      { fromMs: Date.parse('2026-10-31T23:00:00Z'), toMs: Date.parse('2026-11-30T23:00:00Z'), groupBy: 'team', where: {} },
      { fromMs: Date.parse('2026-11-16T00:00:00Z'), toMs: Date.parse('2026-11-23T00:00:00Z'), groupBy: 'customer', where: { customer: 'acme' } },
    ]);
    await second.shutdown();
  });

  it('restores at the first batch when the store appears only after start, before counting it', async () => {
    const store = new MemorySpendStore();
    store.calls.push(llmCall({ team: 'a', cost_usd: 5 }));
    const ctx = testContext('prometheus');
    const exp = new PrometheusExporter(configOf({ budgets }), ctx, Date.now);
    await exp.start();
    ctx.host.provide('spendStore', store); // e.g. the ClickHouse exporter started after this one
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] }));
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] }));
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(7);
    expect(store.queries.length).toBe(2); // one query per budget, once
    await exp.shutdown();
  });

  it('a failing store is counted and logged, retried once at the first batch, and budgets count on', async () => {
    let calls = 0;
    const failing: SpendStore = { spendBy: async () => { calls++; throw new Error('clickhouse unreachable'); } };
    const ctx = testContext('prometheus');
    ctx.host.provide('spendStore', failing);
    const exp = new PrometheusExporter(configOf({ budgets }), ctx, Date.now);
    await exp.start();
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] }));
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] }));
    expect(calls).toBe(2);
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(2);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_restore_failures_total', { exporter: 'prometheus' })).toBe(2);
    expect(ctx.logs.filter((l) => l.msg === 'restoring budget spend-to-date failed').map((l) => l.when)).toEqual(['start', 'first batch']);
    await exp.shutdown();
  });

  it('a reload without a store keeps the spend the previous instance counted in this process', async () => {
    const ctx = testContext('prometheus');
    const first = new PrometheusExporter(configOf({ budgets }), ctx, Date.now);
    await first.start();
    await first.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 3 })] }));
    await first.shutdown();
    const changed = [{ ...budgets[0] }, { name: 'gone-to-team', scope: { team: 'acme' }, limit_usd: 5 }];
    // A reload builds a new graph with a new host (its admin routes); the registry stays.
    const second = new PrometheusExporter(configOf({ budgets: changed }), { ...ctx, host: new Host() }, Date.now);
    await second.start();
    await second.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] }));
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(4);
    expect((await series(ctx, 'limit_usd')).map((v) => v.labels.budget).sort()).toEqual(['gone-to-team', 'teams']);
    await second.shutdown();
  });
});

describe('budgets across replicas (budget_sync)', () => {
  it('each replica shows the deployment\'s spend once it re-reads the shared ledger; a warning fires at the global threshold', async () => {
    const budgets = [{ name: 'teams', scope: { team: '*' }, limit_usd: 10, warn_at: [0.8] }];
    const ledger = new MemorySpendStore(); // one ClickHouse ledger both replicas write
    const replicas = [testContext('prometheus'), testContext('prometheus')].map((ctx) => {
      ctx.host.provide('spendStore', ledger);
      return { ctx, exp: new PrometheusExporter(configOf({ budgets, budget_sync: '1m' }), ctx, Date.now) };
    });
    for (const r of replicas) await r.exp.start();
    const [a, b] = replicas;
    const billed = async (r: typeof a, usd: number) => {
      const calls = [llmCall({ team: 'platform', cost_usd: usd })];
      await r.exp.consume(batchOf({ calls }));
      return calls;
    };
    ledger.calls.push(...await billed(a, 4.5), ...await billed(b, 4.5));
    // Each replica alone: 45 % — the per-replica figure that made the shipped alerts fire late.
    expect([await gauge(a.ctx, 'spent_usd', 'teams', 'platform'), await gauge(b.ctx, 'spent_usd', 'teams', 'platform')]).toEqual([4.5, 4.5]);
    const crossed = (r: typeof a) => r.ctx.logs.filter((l) => l.msg === 'budget threshold crossed').map((l) => l.threshold);
    expect([crossed(a), crossed(b)]).toEqual([[], []]);

    for (const r of replicas) await r.exp.sync();
    for (const r of replicas) {
      expect(await gauge(r.ctx, 'spent_usd', 'teams', 'platform')).toBe(9);
      expect(await gauge(r.ctx, 'utilization_ratio', 'teams', 'platform')).toBeCloseTo(0.9);
      expect(crossed(r)).toEqual([0.8]);
    }
    // Calls counted after a sync show at once where they were counted, everywhere after the next.
    ledger.calls.push(...await billed(a, 0.5));
    expect(await gauge(a.ctx, 'spent_usd', 'teams', 'platform')).toBe(9.5);
    expect(await gauge(b.ctx, 'spent_usd', 'teams', 'platform')).toBe(9);
    await b.exp.sync();
    expect(await gauge(b.ctx, 'spent_usd', 'teams', 'platform')).toBe(9.5);
    for (const r of replicas) await r.exp.shutdown();
  });
});
