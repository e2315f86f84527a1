import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../core/logger.js';
import { ROLLUP_KEYS, TOKEN_COLUMNS, dailyTable } from './schema.js';

/** How far back the start-up reconciliation compares the rollup with the calls table. */
const RECONCILE_DAYS = 35;

/**
 * The daily rollup (day × team × customer × provider × model → calls, tokens, cost) is not a
 * materialized view: a view sees each insert on its own, so it would count a call again when an
 * update (or a re-sent batch) brings a second row, and it would keep the call under its old team
 * when an update fills the team in. Instead the days that received rows are re-aggregated from
 * the deduplicated calls table (FINAL) every rollup_refresh, and written with a higher
 * refresh_version into a ReplacingMergeTree; groups that no longer exist get a zero row. Read the
 * rollup with FINAL (and calls > 0). It lags the calls table by up to rollup_refresh; on start,
 * days of the last five weeks whose totals differ from the calls table are refreshed, which
 * repairs a refresh lost to a crash.
 *
 * On a replicated cluster a refresh may read a replica that has not yet fetched rows just written
 * to the other one (after a failover both serve; copying takes about a second): with `settle`,
 * each day is refreshed once more in the following round, after replication has caught up.
 */
export class Rollup {
  private dirty = new Set<string>();
  /** Days refreshed last round, to read again this round (settle only). */
  private settling = new Set<string>();
  private running: Promise<void> | undefined;
  private lastVersion = 0;

  constructor(private readonly client: ClickHouseClient, private readonly database: string, private readonly table: string, private readonly logger: Logger, private readonly settle = false) {}

  /** Days (YYYY-MM-DD) that received rows. */
  mark(days: Iterable<string>): void {
    for (const d of days) this.dirty.add(d);
  }

  get pendingDays(): number {
    return this.dirty.size;
  }

  /** Re-aggregates the dirty days; on failure they stay dirty for the next round. */
  refresh(): Promise<void> {
    this.running ??= this.refreshDirty().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async refreshDirty(): Promise<void> {
    let again = [...this.settling];
    this.settling.clear();
    while (this.dirty.size > 0 || again.length > 0) {
      const fresh = [...this.dirty];
      this.dirty.clear();
      const days = [...new Set([...fresh, ...again])].sort();
      again = [];
      try {
        await this.client.command({ query: refreshSql(this.database, this.table, days, this.nextVersion()) });
      } catch (err) {
        this.mark(days);
        throw err;
      }
      if (this.settle) for (const d of fresh) this.settling.add(d);
    }
  }

  /** Refreshes the recent days whose call count or cost differ between rollup and calls table. */
  async reconcile(): Promise<string[]> {
    const db = this.database;
    const base = await this.totals(`SELECT toString(toDate(timestamp, 'UTC')) AS d, count() AS c, sum(cost_usd) AS s FROM ${db}.${this.table} FINAL WHERE toDate(timestamp) >= today() - ${RECONCILE_DAYS} GROUP BY d`);
    const rolled = await this.totals(`SELECT toString(day) AS d, sum(calls) AS c, sum(cost_usd) AS s FROM ${db}.${dailyTable(this.table)} FINAL WHERE day >= today() - ${RECONCILE_DAYS} GROUP BY d`);
    const stale: string[] = [];
    for (const [d, b] of base) {
      const r = rolled.get(d);
      if (!r || r.c !== b.c || Math.abs(r.s - b.s) > 1e-9 * Math.max(1, Math.abs(b.s))) stale.push(d);
    }
    for (const [d, r] of rolled) if (!base.has(d) && r.c > 0) stale.push(d);
    if (stale.length > 0) {
      this.logger.info('daily rollup out of date for some days; refreshing them', { days: stale });
      this.mark(stale);
      await this.refresh();
    }
    return stale.sort();
  }

  private async totals(query: string): Promise<Map<string, { c: number; s: number }>> {
    const rs = await this.client.query({ query, format: 'JSONEachRow' });
    const rows = await rs.json<{ d: string; c: string | number; s: number }>();
    return new Map(rows.map((r) => [r.d, { c: Number(r.c), s: Number(r.s) }]));
  }

  private nextVersion(): number {
    this.lastVersion = Math.max(Date.now() * 1000, this.lastVersion + 1);
    return this.lastVersion;
  }
}

/**
 * One INSERT … SELECT that rewrites whole days of the rollup from the deduplicated calls.
 * `toDate(timestamp, 'UTC')` in the select list, not `toDate(timestamp)`: under FINAL, 18.16
 * adds the sorting-key expression as a column of that name and then refuses a second one.
 */
export function refreshSql(database: string, table: string, days: string[], version: number): string {
  const daily = `${database}.${dailyTable(table)}`;
  const dayList = days.map((d) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new Error(`rollup: ${JSON.stringify(d)} is not a day`);
    return `toDate('${d}')`;
  }).join(', ');
  const keys = ROLLUP_KEYS.map((k) => `k_${k}`).join(', ');
  const keyCasts = ROLLUP_KEYS.map((k) => `CAST(${k} AS String) AS k_${k}`).join(', ');
  const sums = TOKEN_COLUMNS.map((c) => `toUInt64(sum(${c})) AS s_${c}`).join(', ');
  const zeros = TOKEN_COLUMNS.map((c) => `toUInt64(0) AS s_${c}`).join(', ');
  const outer = TOKEN_COLUMNS.map((c) => `sum(s_${c})`).join(', ');
  return `INSERT INTO ${daily} (day, ${ROLLUP_KEYS.join(', ')}, calls, ${TOKEN_COLUMNS.join(', ')}, cost_usd, refresh_version)
SELECT k_day, ${keys}, sum(s_calls), ${outer}, sum(s_cost), toUInt64(${version})
FROM (
  SELECT toDate(timestamp, 'UTC') AS k_day, ${keyCasts}, toUInt64(count()) AS s_calls, ${sums}, toFloat64(sum(cost_usd)) AS s_cost
  FROM ${database}.${table} FINAL WHERE toDate(timestamp) IN (${dayList})
  GROUP BY k_day, ${keys}
  UNION ALL
  SELECT day AS k_day, ${keyCasts}, toUInt64(0) AS s_calls, ${zeros}, toFloat64(0) AS s_cost
  FROM ${daily} FINAL WHERE day IN (${dayList})
)
GROUP BY k_day, ${keys}`;
}
