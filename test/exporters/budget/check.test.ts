import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../../../core/admin-server.js';
import { BudgetExporter } from '../../../exporters/budget/exporter.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { configOf, llmCall } from './helpers.js';

type Check = { allowed: boolean; exhausted: { budget: string; scope_label: string; scope_value: string; spent_usd: number; limit_usd: number; period_end: string }[]; ledger_read_at: string | null };

const budgets = [
  { name: 'teams', scope: { team: '*' }, limit_usd: 10 },
  { name: 'ci-key', scope: { key_alias: 'ci' }, limit_usd: 1 },
  { name: 'acme-search', scope: { customer: 'acme', project: '*' }, limit_usd: 5 },
];

let stop: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stop.reverse()) await s();
  stop = [];
});

async function started() {
  const ctx = testContext('budget');
  const exp = new BudgetExporter(configOf({ budgets }), ctx, Date.now);
  await exp.start();
  stop.push(() => exp.shutdown());
  const check = async (query: string): Promise<{ status: number; body: Check & { error?: string } }> => {
    const answer = await ctx.host.adminRoutes.find('/api/v1/budgets/check')!({ url: new URL(`http://x/api/v1/budgets/check?${query}`), headers: {} });
    return { status: answer.status, body: JSON.parse(String(answer.body)) };
  };
  return { ctx, exp, check };
}

describe('GET /api/v1/budgets/check', () => {
  it('lists the exhausted budgets that would count a call with these labels, and only those', async () => {
    const { ctx, exp, check } = await started();
    await exp.consume(batchOf({ calls: [
      llmCall({ team: 'alpha', cost_usd: 10 }), llmCall({ team: 'beta', cost_usd: 9.99 }), llmCall({ cost_usd: 10 }),
      llmCall({ team: 'gamma', key_alias: 'ci', cost_usd: 1 }), llmCall({ customer: 'acme', dimensions: { project: 'search' }, cost_usd: 6 }),
    ] }));
    const names = async (q: string) => (await check(q)).body.exhausted.map((e) => `${e.budget}/${e.scope_label}=${e.scope_value}`);
    expect(await check('team=alpha&key_alias=laptop&customer=')).toMatchObject({ status: 200, body: { allowed: false, ledger_read_at: null } });
    expect(await names('team=alpha&key_alias=laptop&customer=')).toEqual(['teams/team=alpha']);
    expect((await check('team=alpha')).body.exhausted[0]).toMatchObject({ spent_usd: 10, limit_usd: 10 });
    expect(await names('team=beta&key_alias=laptop')).toEqual([]); // $9.99 of $10
    expect(await names('team=beta&key_alias=ci')).toEqual(['ci-key/key_alias=ci']);
    expect(await names('team=alpha&key_alias=ci')).toEqual(['teams/team=alpha', 'ci-key/key_alias=ci']);
    expect(await names('team=gamma&key_alias=ci')).toEqual(['ci-key/key_alias=ci']);
    // '' = the call has no team: it counts under __unattributed__, which is exhausted too.
    expect(await names('team=')).toEqual(['teams/team=__unattributed__']);
    // A label left out is unknown: budgets scoped by it are not judged.
    expect(await names('key_alias=laptop')).toEqual([]);
    expect(await names('customer=acme&project=search')).toEqual(['acme-search/project=search']);
    expect(await names('customer=acme')).toEqual([]);
    expect(await names('customer=globex&project=search')).toEqual([]);
    expect((await check('team=alpha')).body.exhausted[0].period_end).toMatch(/^\d{4}-\d{2}-01T00:00:00.000Z$/);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_checks_total', { result: 'exhausted' })).toBeGreaterThan(0);
    expect(await metricValue(ctx.registry, 'tokenledger_budget_checks_total', { result: 'allowed' })).toBeGreaterThan(0);
  });

  it('answers a malformed query with 400 and the reason', async () => {
    const { ctx, check } = await started();
    expect(await check('')).toEqual({ status: 400, body: { error: expect.stringMatching(/^no labels given/) } });
    expect(await check('team=a&team=b')).toEqual({ status: 400, body: { error: "label 'team' given twice" } });
    expect(await check('te%20am=a')).toEqual({ status: 400, body: { error: expect.stringMatching(/^bad label name 'te am'/) } });
    expect(await check(`team=${'x'.repeat(2000)}`)).toEqual({ status: 400, body: { error: "label 'team' is longer than 1024 characters" } });
    expect(await metricValue(ctx.registry, 'tokenledger_budget_checks_total', { result: 'bad_request' })).toBe(4);
  });

  it('is served behind the admin token, answers from memory fast (measured)', async () => {
    const { ctx, exp } = await started();
    await exp.consume(batchOf({ calls: Array.from({ length: 500 }, (_, i) => llmCall({ team: `t${i}`, cost_usd: i % 2 ? 20 : 1 })) }));
    const admin = new AdminServer({ endpoint: '127.0.0.1:0', auth: { bearer_tokens: ['s3cret'], bearer_tokens_env: '' } }, process.cwd(), ctx.registry, () => ({ ready: true, reason: '' }), () => ctx.host.adminRoutes, ctx.logger, {});
    await admin.start();
    stop.push(() => admin.stop());
    const url = `http://${admin.address()}/api/v1/budgets/check?team=t1&key_alias=k`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: 'Bearer s3cret' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Check).exhausted.map((e) => e.scope_value)).toEqual(['t1']);
    // In-process cost of one answer (the HTTP round trip is the hook's to measure).
    const handler = ctx.host.adminRoutes.find('/api/v1/budgets/check')!;
    const n = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await handler({ url: new URL(`http://x/api/v1/budgets/check?team=t${i % 500}&key_alias=k&customer=`), headers: {} });
    const us = ((performance.now() - t0) * 1000) / n;
    process.stdout.write(`[budget check] ${us.toFixed(1)} µs per answer in process (500 scope values, 3 budgets)\n`);
    expect(us).toBeLessThan(5000); // loose sanity bound only
  });
});
