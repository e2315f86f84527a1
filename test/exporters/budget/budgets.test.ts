import { describe, expect, it } from 'vitest';
import { Host, type SpendStore } from '../../../core/host.js';
import { BudgetExporter } from '../../../exporters/budget/exporter.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { configOf, llmCall, manualClock, MemorySpendStore } from './helpers.js';

const gauge = (ctx: ReturnType<typeof testContext>, name: string, budget: string, scopeValue: string) =>
  metricValue(ctx.registry, `tokenledger_budget_${name}`, { budget, scope_value: scopeValue });

const series = async (ctx: ReturnType<typeof testContext>, name: string) =>
  (await ctx.registry.getSingleMetric(`tokenledger_budget_${name}`)!.get()).values;

describe('budgets', () => {
  it('a fixed-scope budget shows its gauges at start, before any spend', async () => {
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ budgets: [{ name: 'platform', scope: { team: 'platform' }, limit_usd: 100 }] }), ctx, manualClock('2026-11-16T00:00:00Z').now);
    await exp.start();
    expect(await gauge(ctx, 'limit_usd', 'platform', 'platform')).toBe(100);
    expect((await series(ctx, 'spent_usd')).map((v) => v.labels)).toEqual([{ budget: 'platform', scope_label: 'team', scope_value: 'platform' }]);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_period_end_timestamp_seconds', { budget: 'platform' })).toBe(Date.parse('2026-12-01T00:00:00Z') / 1000);
    await exp.shutdown();
  });

  it("a '*' scope keeps one budget per value, unattributed spend apart, and projects the burn rate", async () => {
    const ctx = testContext('budget');
    const clock = manualClock('2026-11-16T00:00:00Z'); // half of November has passed
    const exp = new BudgetExporter(configOf({ budgets: [{ name: 'teams', scope: { team: '*' }, limit_usd: 10 }] }), ctx, clock.now);
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
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ budgets: [{ name: 'p', scope: { team: 'platform', project: '*' }, limit_usd: 10 }] }), ctx, Date.now);
    await exp.start();
    await exp.consume(batchOf({ calls: [
      llmCall({ team: 'platform', dimensions: { project: 'search' }, cost_usd: 1 }),
      llmCall({ team: 'research', dimensions: { project: 'search' }, cost_usd: 5 }),
    ] }));
    expect((await series(ctx, 'spent_usd')).map((v) => [v.labels.scope_label, v.labels.scope_value, v.value])).toEqual([['project', 'search', 1]]);
    await exp.shutdown();
  });

  it('projection counts at least 1% of the period as elapsed, so the first minutes do not explode', async () => {
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ budgets: [{ name: 'd', scope: { team: 't' }, period: 'day', limit_usd: 100 }] }), ctx, manualClock('2026-11-24T00:00:05Z').now);
    await exp.start();
    await exp.consume(batchOf({ calls: [llmCall({ team: 't', cost_usd: 1, timestamp: '2026-11-24T00:00:01Z' })] }));
    expect(await gauge(ctx, 'projected_usd', 'd', 't')).toBeCloseTo(100, 9);
    await exp.shutdown();
  });

  it('rolls over at the period end in its time zone and does not bill late calls to the new period', async () => {
    const ctx = testContext('budget');
    const clock = manualClock('2026-11-30T22:00:00Z'); // 23:00 in Berlin, last hour of November
    const exp = new BudgetExporter(configOf({ budgets: [
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
    const ctx = testContext('budget');
    const clock = manualClock('2026-11-16T00:00:00Z');
    const exp = new BudgetExporter(configOf({ refresh_interval: '100ms', budgets: [{ name: 'm', scope: { team: 'a' }, limit_usd: 10 }] }), ctx, clock.now);
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
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ max_scope_values: 2, budgets: [{ name: 'c', scope: { customer: '*' }, limit_usd: 10 }] }), ctx, Date.now);
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

    const before = testContext('budget');
    const first = new BudgetExporter(configOf({ budgets }), before, clock.now);
    await first.start(); // no ledger: counts what it sees
    await first.consume(batchOf({ calls }));
    await first.shutdown();

    const after = testContext('budget');
    after.host.provide('spendStore', store, 'clickhouse');
    const second = new BudgetExporter(configOf({ ledger: 'clickhouse', budgets }), after, clock.now);
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

  it('a failing ledger is counted and logged, retried every refresh_interval; once it answers, its spend plus the calls counted since', async () => {
    const store = new MemorySpendStore();
    store.calls.push(llmCall({ team: 'a', cost_usd: 5 }));
    let down = true;
    let asked = 0;
    const flaky: SpendStore = { spendBy: async (q) => { asked++; if (down) throw new Error('clickhouse unreachable'); return store.spendBy(q); } };
    const ctx = testContext('budget');
    ctx.host.provide('spendStore', flaky, 'clickhouse');
    const exp = new BudgetExporter(configOf({ ledger: 'clickhouse', budgets, refresh_interval: '100ms' }), ctx, Date.now);
    // What the ClickHouse exporter does with each batch: the ledger holds it.
    const billed = async (usd: number) => {
      const call = llmCall({ team: 'a', cost_usd: usd });
      await exp.consume(batchOf({ calls: [call] }));
      store.calls.push(call);
    };
    await exp.start();
    await billed(1);
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(1); // counting goes on meanwhile
    for (let waited = 0; asked < 3 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(await metricValue(ctx.registry, 'tokenledger_budget_restore_failures_total', { exporter: 'budget' })).toBeGreaterThanOrEqual(2);
    expect(ctx.logs.filter((l) => String(l.msg).startsWith('reading budget spend-to-date from the ledger failed')).map((l) => l.when).slice(0, 2)).toEqual(['start', 'retry']);
    down = false;
    for (let waited = 0; !ctx.logs.some((l) => l.msg === 'budget spend-to-date read from the ledger') && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(ctx.logs.find((l) => l.msg === 'budget spend-to-date read from the ledger')?.when).toBe('retry');
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(6); // the ledger: the 5 from before the start and the call since
    await billed(1);
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(7);
    const before = asked;
    await new Promise((r) => setTimeout(r, 300));
    expect(asked).toBe(before); // no sync_interval: read once
    await exp.shutdown();
  });

  it('a reload without a store keeps the spend the previous instance counted in this process', async () => {
    const ctx = testContext('budget');
    const first = new BudgetExporter(configOf({ budgets }), ctx, Date.now);
    await first.start();
    await first.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 3 })] }));
    await first.shutdown();
    const changed = [{ ...budgets[0] }, { name: 'gone-to-team', scope: { team: 'acme' }, limit_usd: 5 }];
    // A reload builds a new graph with a new host (its admin routes); the registry stays.
    const second = new BudgetExporter(configOf({ budgets: changed }), { ...ctx, host: new Host() }, Date.now);
    await second.start();
    await second.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] }));
    expect(await gauge(ctx, 'spent_usd', 'teams', 'a')).toBe(4);
    expect((await series(ctx, 'limit_usd')).map((v) => v.labels.budget).sort()).toEqual(['gone-to-team', 'teams']);
    await second.shutdown();
  });
});

describe('budgets across replicas (sync_interval)', () => {
  it('each replica shows the deployment\'s spend once it re-reads the shared ledger; a warning fires at the global threshold', async () => {
    const budgets = [{ name: 'teams', scope: { team: '*' }, limit_usd: 10, warn_at: [0.8] }];
    const ledger = new MemorySpendStore(); // one ClickHouse ledger both replicas write
    const replicas = [testContext('budget'), testContext('budget')].map((ctx) => {
      ctx.host.provide('spendStore', ledger, 'clickhouse');
      return { ctx, exp: new BudgetExporter(configOf({ ledger: 'clickhouse', budgets, sync_interval: '60s' }), ctx, Date.now) };
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

describe('what a budget counts', () => {
  it('counts a call once however often it is re-sent, and an update only by the rise of its price', async () => {
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ budgets: [{ name: 't-month', scope: { team: 't' }, limit_usd: 100 }] }), ctx, Date.now);
    await exp.start();
    // LiteLLM 1.80 reports all cache writes at the 5m rate; Claude Code's event brings 1200/300 for the same total.
    const first = llmCall({ team: 't', cache_write_5m_tokens: 1500, cost_usd: 2 });
    await exp.consume(batchOf({ calls: [first] }));
    await exp.consume(batchOf({ calls: [first] })); // re-sent after another exporter refused the batch
    await exp.consume(batchOf({ updates: [{ ...first, cache_write_5m_tokens: 1200, cache_write_1h_tokens: 300, cost_usd: 2.25 }] }));
    await exp.consume(batchOf({ updates: [{ ...first, cost_usd: 2.1 }] }));
    expect(await gauge(ctx, 'spent_usd', 't-month', 't')).toBeCloseTo(2.25, 12);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_resent_calls_total', { exporter: 'budget' })).toBe(1);
    // Another replica counted this call: the update's base (the version it replaces) tells the rise.
    const elsewhere = llmCall({ team: 't', cost_usd: 2 });
    await exp.consume(batchOf({ updates: [{ ...elsewhere, cost_usd: 2.25 }], updateBases: [elsewhere] }));
    expect(await gauge(ctx, 'spent_usd', 't-month', 't')).toBeCloseTo(2.5, 12);
    await exp.shutdown();
  });

  it('validation names the offending field', () => {
    const validate = (c: Record<string, unknown>) => {
      try {
        configOf(c);
        return [];
      } catch (err) {
        return [(err as Error).message];
      }
    };
    expect(validate({ budgets: [{ name: 'b', scope: { team: '*', customer: '*' }, limit_usd: 1 }] })[0]).toMatch(/"path":\["budgets",0,"scope"\],"message":"at most one label may be '\*', found team, customer"/);
    expect(validate({ budgets: [{ name: 'b', scope: { team: 'x' }, limit_usd: 1, timezone: 'Mars/Olympus' }] })[0]).toMatch(/"path":\["budgets",0,"timezone"\],"message":"unknown time zone 'Mars\/Olympus'/);
    expect(validate({ budgets: [{ name: 'b', scope: { team: 'x' }, limit_usd: 1 }, { name: 'b', scope: { team: 'y' }, limit_usd: 2 }] })[0]).toMatch(/"path":\["budgets",1,"name"\],"message":"duplicate budget name 'b'/);
    expect(validate({ budgets: [{ name: 'b', scope: { status: 'x' }, limit_usd: 1 }] })[0]).toMatch(/'status' is not an attribution label/);
    expect(validate({ budgets: [{ name: 'b', scope: { team: 'x' }, limit_usd: 1 }], refresh_interval: '0s' })[0]).toMatch(/"path":\["refresh_interval"\],"message":"expected at least 100ms, found '0s'"/);
    expect(validate({ budgets: [{ name: 'b', scope: {}, limit_usd: 1 }] })[0]).toMatch(/minProperties/);
    expect(validate({ budgets: [{ name: 'b', scope: { team: 'x' }, limit_usd: 0 }] })[0]).toMatch(/exclusiveMinimum/);
    expect(validate({ budgets: [] })[0]).toMatch(/minItems/);
    expect(validate({ budgets: [{ name: 'b', scope: { team: 'x' }, limit_usd: 1 }], webhook: { url: 'ftp://x' } })[0]).toMatch(/pattern/);
    expect(validate({ budgets: [{ name: 'b', scope: { team: 'x' }, limit_usd: 1 }], sync_interval: 15000 })[0]).toMatch(/"type"/);
  });

  it('applies the documented defaults', () => {
    const c = configOf({ budgets: [{ name: 'b', scope: { team: '*' }, limit_usd: 10 }], webhook: { url: 'http://127.0.0.1:9/hook' } });
    expect(c).toEqual({
      budgets: [{ name: 'b', scope: { team: '*' }, limit_usd: 10, period: 'month', timezone: 'UTC', warn_at: [0.8] }],
      max_scope_values: 2000, refresh_interval: '15s', webhook: { url: 'http://127.0.0.1:9/hook', timeout: '5s', headers: {} },
    });
  });
});
