import type { ClickHouseClient } from '@clickhouse/client';
import type { SpendQuery, SpendStore } from '../../core/host.js';
import type { Layout } from './schema.js';
import { conditions } from './api/query.js';
import { labelExpr } from './sql.js';

export interface Readable {
  client: ClickHouseClient;
  layout: Layout;
}

/** Sum of cost_usd per label value over a time range, each call counted once (FINAL). */
export function spendStore(ready: () => Promise<Readable>, database: string, table: string): SpendStore {
  return {
    async spendBy(q: SpendQuery): Promise<Map<string, number>> {
      if (!(q.toMs > q.fromMs)) throw new Error(`spendBy: empty time range ${q.fromMs}..${q.toMs}`);
      const { client, layout } = await ready();
      const where = conditions(layout, q, q.where);
      const rs = await client.query({
        query: `SELECT ${labelExpr(layout, q.groupBy)} AS label, sum(cost_usd) AS cost FROM ${database}.${table} FINAL WHERE ${where.join(' AND ')} GROUP BY label`,
        format: 'JSONEachRow',
      });
      const rows = await rs.json<{ label: string; cost: number }>();
      return new Map(rows.map((r) => [r.label, Number(r.cost)]));
    },
  };
}
