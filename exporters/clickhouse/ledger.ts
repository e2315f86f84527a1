import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../core/logger.js';
import type { ReconciliationStore, UsageQuery, UsageRow, UsageStore } from '../../core/host.js';
import { TOKEN_TYPES, type ReconciliationRow, type Tokens } from '../../core/reconciliation.js';
import { errorText, openClient } from './client.js';
import type { ClickhouseConfig } from './config.js';
import { migrate, readLayout, RECONCILIATION_TABLE } from './schema.js';
import type { Readable } from './spend-store.js';
import { featuresOf } from './features.js';
import { labelExpr, sqlString, timeRange } from './sql.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Calls, tokens by type and cost per group (day and labels), each call counted once (FINAL). */
export function usageStore(ready: () => Promise<Readable>, database: string, table: string): UsageStore {
  return {
    async usageBy(q: UsageQuery): Promise<UsageRow[]> {
      if (!(q.toMs > q.fromMs)) throw new Error(`usageBy: empty time range ${q.fromMs}..${q.toMs}`);
      const { client, layout } = await ready();
      const keys = [...new Set(q.groupBy)];
      // Group keys become column aliases k0, k1…: label names (dimensions) need not be identifiers.
      const select = keys.map((k, i) => `${k === 'day' ? "toString(toDate(timestamp, 'UTC'))" : `toString(${labelExpr(layout, k)})`} AS k${i}`);
      const where = [timeRange(layout, q.fromMs, q.toMs), ...Object.entries(q.where).map(([k, v]) => `${labelExpr(layout, k)} = ${sqlString(v)}`)];
      const rs = await client.query({
        query: `SELECT ${[...select, 'count() AS calls', ...TOKEN_TYPES.map((t) => `sum(${t}) AS ${t}`), 'sum(cost_usd) AS cost_usd'].join(', ')}
FROM ${database}.${table} FINAL WHERE ${where.join(' AND ')}${keys.length ? ` GROUP BY ${keys.map((_, i) => `k${i}`).join(', ')}` : ''}`,
        format: 'JSONEachRow',
      });
      const rows = await rs.json<Record<string, string | number>>();
      return rows.filter((r) => Number(r.calls) > 0).map((r) => ({
        keys: Object.fromEntries(keys.map((k, i) => [k, String(r[`k${i}`])])),
        calls: Number(r.calls),
        tokens: Object.fromEntries(TOKEN_TYPES.map((t) => [t, Number(r[t])])) as Tokens,
        cost_usd: Number(r.cost_usd),
      }));
    },
  };
}

/** Columns of the reconciliation table, flat: the row's token records become `ledger_<type>` and `reported_<type>`. */
function toColumns(r: ReconciliationRow, version: number): Record<string, unknown> {
  const { ledger, reported, reconciled_at, ...rest } = r;
  return {
    ...rest,
    ...Object.fromEntries(TOKEN_TYPES.flatMap((t) => [[`ledger_${t}`, ledger[t]], [`reported_${t}`, reported[t]]])),
    reconciled_at: Math.floor(Date.parse(reconciled_at) / 1000),
    version,
  };
}

function fromColumns(c: Record<string, string | number | null>): ReconciliationRow {
  const tokens = (prefix: string): Tokens => Object.fromEntries(TOKEN_TYPES.map((t) => [t, Number(c[`${prefix}${t}`])])) as Tokens;
  return {
    day: String(c.day),
    provider: String(c.provider),
    model: String(c.model),
    team: String(c.team),
    status: c.status === 'final' ? 'final' : 'partial',
    ledger_calls: Number(c.ledger_calls),
    ledger: tokens('ledger_'),
    reported: tokens('reported_'),
    ledger_cost_usd: Number(c.ledger_cost_usd),
    reported_cost_usd: c.reported_cost_usd === null ? null : Number(c.reported_cost_usd),
    drift_usd: Number(c.drift_usd),
    drift_ratio: Number(c.drift_ratio),
    unmatched_cost_usd: Number(c.unmatched_cost_usd),
    price_drift_usd: Number(c.price_drift_usd),
    explanation: String(c.explanation),
    reconciled_at: `${String(c.reconciled_at).replace(' ', 'T')}Z`,
  };
}

/** Reconciliation results in `<database>.reconciliation` (migration 2): the newest version of a day × provider × model × team wins. */
export function reconciliationStore(ready: () => Promise<Pick<Readable, 'client'>>, database: string): ReconciliationStore {
  let lastVersion = 0;
  return {
    async write(rows: ReconciliationRow[]): Promise<void> {
      if (rows.length === 0) return;
      const { client } = await ready();
      // Microseconds, strictly rising within the process: a second run in the same millisecond still replaces the first.
      lastVersion = Math.max(Date.now() * 1000, lastVersion + 1);
      await client.insert({ table: `${database}.${RECONCILIATION_TABLE}`, format: 'JSONEachRow', values: rows.map((r) => toColumns(r, lastVersion)) });
    },
    async read(fromDay: string, toDay: string): Promise<ReconciliationRow[]> {
      for (const d of [fromDay, toDay]) if (!DAY.test(d)) throw new Error(`reconciliation read: ${JSON.stringify(d)} is not a YYYY-MM-DD day`);
      const { client } = await ready();
      const rs = await client.query({
        query: `SELECT * FROM ${database}.${RECONCILIATION_TABLE} FINAL WHERE day >= toDate(${sqlString(fromDay)}) AND day < toDate(${sqlString(toDay)}) ORDER BY day, provider, model, team`,
        format: 'JSONEachRow',
      });
      return (await rs.json<Record<string, string | number | null>>()).map(fromColumns);
    },
  };
}

export interface Ledger {
  usage: UsageStore;
  reconciliation: ReconciliationStore;
  where: string;
  close(): Promise<void>;
}

/**
 * The ledger of a clickhouse exporter's configuration, opened outside a running pipeline (the
 * `reconcile` and `report` commands). Applies pending migrations when create_schema allows it, so
 * that an existing database gains the reconciliation table. Embedded mode fails while a running
 * tokenledger holds the data directory.
 */
export async function openLedger(cfg: ClickhouseConfig, configDir: string, logger: Logger): Promise<Ledger> {
  const conn = await openClient(cfg, configDir);
  try {
    const rs = await conn.client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [{ v }] = await rs.json<{ v: string }>();
    if (cfg.create_schema) {
      await migrate(conn.client, { database: cfg.database, table: cfg.table, cluster: cfg.cluster, ttlDays: cfg.ttl_days, features: featuresOf(v) }, logger);
    }
    const layout = await readLayout(conn.client, cfg.database, cfg.table);
    const readable = async (): Promise<{ client: ClickHouseClient; layout: typeof layout }> => ({ client: conn.client, layout });
    return { usage: usageStore(readable, cfg.database, cfg.table), reconciliation: reconciliationStore(readable, cfg.database), where: conn.where, close: () => conn.close() };
  } catch (err) {
    await conn.close();
    throw new Error(`ClickHouse at ${conn.where}: ${errorText(err)}`, { cause: err });
  }
}
