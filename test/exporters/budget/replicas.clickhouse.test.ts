import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { Exporter } from '../../../core/component.js';
import { BudgetExporter } from '../../../exporters/budget/exporter.js';
import { clickhouseExporterFactory } from '../../../exporters/clickhouse/index.js';
import { batchOf, testContext } from '../../helpers/context.js';
import { serviceAvailable } from '../../helpers/services.js';
import { SERVER_URL, serverConfig, serverUp, testDatabase } from '../clickhouse/helpers.js';
import { configOf, llmCall } from './helpers.js';

const up = serviceAvailable('clickhouse-server', await serverUp(), `nothing answers on ${SERVER_URL}/ping`);

type Check = { allowed: boolean; exhausted: { budget: string; scope_value: string; spent_usd: number }[]; ledger_read_at: string | null };

/**
 * Two replicas, each its own process in production: its own ClickHouse exporter writing the one
 * server database, and its own budget exporter reading it back every sync_interval.
 */
describe.skipIf(!up)(`budgets across two replicas sharing clickhouse-server at ${SERVER_URL}`, () => {
  const db = testDatabase('budget');
  let client: ClickHouseClient | undefined;
  afterAll(async () => {
    await client?.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client?.close();
  });

  it('every replica answers the deployment\'s spend after a sync: a team exhausted by the two together is refused at both', async () => {
    client = createClient({ url: SERVER_URL });
    const config = configOf({ ledger: 'clickhouse', sync_interval: '200ms', budgets: [{ name: 'teams', scope: { team: '*' }, limit_usd: 10 }] });
    const replicas: { ctx: ReturnType<typeof testContext>; ch: Exporter; budget: BudgetExporter }[] = [];
    for (const name of ['a', 'b']) {
      const ctx = testContext(`budget-${name}`, { level: 'warn' });
      const ch = clickhouseExporterFactory.create(serverConfig(db), { ...ctx, id: 'clickhouse' });
      const budget = new BudgetExporter(config, { ...ctx, id: 'budget' });
      await ch.start!();
      await budget.start();
      replicas.push({ ctx, ch, budget });
    }
    const check = async (r: (typeof replicas)[number], query: string): Promise<Check> => {
      const answer = await r.ctx.host.adminRoutes.find('/api/v1/budgets/check')!({ url: new URL(`http://x/api/v1/budgets/check?${query}`), headers: {} });
      expect(answer.status).toBe(200);
      return JSON.parse(String(answer.body)) as Check;
    };
    const bill = async (r: (typeof replicas)[number], team: string, usd: number) => {
      const batch = batchOf({ calls: [llmCall({ team, cost_usd: usd })] });
      await r.ch.consume(batch);
      await r.budget.consume(batch);
    };
    try {
      await bill(replicas[0], 'platform', 6);
      await bill(replicas[1], 'platform', 5);
      await bill(replicas[1], 'research', 1);
      // Alone, neither replica has seen the team exhaust its budget.
      expect((await check(replicas[0], 'team=platform')).allowed).toBe(true);
      expect((await check(replicas[1], 'team=platform')).allowed).toBe(true);
      // Rows flush after max_delay (20 ms), the replicas re-read every 200 ms.
      const deadline = Date.now() + 20_000;
      let answers: Check[] = [];
      do {
        await new Promise((r) => setTimeout(r, 100));
        answers = [await check(replicas[0], 'team=platform'), await check(replicas[1], 'team=platform')];
      } while (answers.some((a) => a.allowed) && Date.now() < deadline);
      for (const a of answers) {
        expect(a.allowed).toBe(false);
        expect(a.exhausted.map((e) => [e.budget, e.scope_value])).toEqual([['teams', 'platform']]);
        expect(a.exhausted[0].spent_usd).toBeCloseTo(11, 9);
        expect(a.ledger_read_at).not.toBeNull();
      }
      for (const r of replicas) expect((await check(r, 'team=research&key_alias=ci')).allowed).toBe(true);
    } finally {
      for (const r of replicas) {
        await r.budget.shutdown();
        await r.ch.shutdown!();
      }
    }
  }, 60_000);
});
