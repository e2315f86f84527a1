import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetExporter } from '../../../exporters/budget/exporter.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { configOf, llmCall, MemorySpendStore } from './helpers.js';

interface Hook { url: string; bodies: Record<string, unknown>[]; server: Server; failNext: number }

async function webhookServer(): Promise<Hook> {
  const hook = { bodies: [] as Record<string, unknown>[], failNext: 0 } as Hook;
  hook.server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => { data += c.toString(); });
    req.on('end', () => {
      if (hook.failNext > 0) {
        hook.failNext--;
        res.writeHead(500).end('try again');
        return;
      }
      hook.bodies.push({ ...JSON.parse(data), contentType: req.headers['content-type'], auth: req.headers.authorization });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/hook`;
  return hook;
}

let hook: Hook;
afterEach(async () => { await new Promise((r) => hook.server.close(r)); });

const budget = { name: 'teams', scope: { team: '*' }, limit_usd: 10, warn_at: [0.5, 0.8] };

describe('budget webhook', () => {
  it('sends exactly one notification per threshold, budget scope value and period', async () => {
    hook = await webhookServer();
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ budgets: [budget], webhook: { url: hook.url, headers: { authorization: 'Bearer t0ken' } } }), ctx, Date.now);
    await exp.start();
    for (let i = 0; i < 12; i++) await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 })] })); // 10% … 120%
    await exp.consume(batchOf({ calls: [llmCall({ team: 'b', cost_usd: 9 })] })); // 0.5 and 0.8 at once
    await exp.shutdown(); // waits for deliveries under way
    const seen = hook.bodies.map((b) => `${b.scope_value}@${b.threshold}`).sort();
    expect(seen).toEqual(['a@0.5', 'a@0.8', 'a@1', 'b@0.5', 'b@0.8']);
    const exhausted = hook.bodies.find((b) => b.scope_value === 'a' && b.threshold === 1)!;
    expect(exhausted).toMatchObject({ budget: 'teams', scope_label: 'team', spent_usd: 10, limit_usd: 10, utilization_ratio: 1, period: 'month', timezone: 'UTC', contentType: 'application/json', auth: 'Bearer t0ken' });
    expect(exhausted.text).toMatch(/^tokenledger budget "teams" \(team=a\) exhausted: \$10\.00 of \$10\.00 this month/);
    expect(hook.bodies.find((b) => b.scope_value === 'a' && b.threshold === 0.8)!.text).toMatch(/80% used/);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_notifications_total', { result: 'sent' })).toBe(5);
  });

  it('retries a failing webhook and counts the outcome', async () => {
    hook = await webhookServer();
    hook.failNext = 1;
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ budgets: [budget], webhook: { url: hook.url } }), ctx, Date.now);
    await exp.start();
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 6 })] }));
    for (let waited = 0; hook.bodies.length === 0 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50)); // first retry after 1 s
    await exp.shutdown();
    expect(hook.bodies.map((b) => b.threshold)).toEqual([0.5]);
    expect(ctx.logs.some((l) => l.msg === 'budget webhook answered with an error' && l.status === 500)).toBe(true);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_notifications_total', { result: 'sent' })).toBe(1);
  });

  it('an unreachable webhook never blocks consume; shutdown cuts retries short and counts the failure', async () => {
    hook = await webhookServer();
    const url = hook.url;
    await new Promise((r) => hook.server.close(r));
    hook = await webhookServer(); // a live server for afterEach; the configured port is closed
    const ctx = testContext('budget');
    const exp = new BudgetExporter(configOf({ budgets: [budget], webhook: { url, timeout: '500ms' } }), ctx, Date.now);
    await exp.start();
    const t0 = performance.now();
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 20 })] }));
    expect(performance.now() - t0).toBeLessThan(50);
    await exp.shutdown();
    expect(await metricValue(ctx.registry, 'tokenledger_budget_notifications_total', { result: 'failed' })).toBe(3);
    expect(ctx.logs.filter((l) => l.msg === 'budget notification not delivered').length).toBe(3);
  });

  it('after a restart, thresholds the restored spend already crossed are not sent again', async () => {
    hook = await webhookServer();
    const store = new MemorySpendStore();
    store.calls.push(llmCall({ team: 'a', cost_usd: 8.5 }));
    const ctx = testContext('budget');
    ctx.host.provide('spendStore', store, 'clickhouse');
    const exp = new BudgetExporter(configOf({ ledger: 'clickhouse', budgets: [budget], webhook: { url: hook.url } }), ctx, Date.now);
    await exp.start();
    await exp.consume(batchOf({ calls: [llmCall({ team: 'a', cost_usd: 1 }), llmCall({ team: 'a', cost_usd: 1 })] }));
    await exp.shutdown();
    expect(hook.bodies.map((b) => b.threshold)).toEqual([1]);
  });
});
