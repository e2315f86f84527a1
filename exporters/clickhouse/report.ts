import { GROUP_KEYS, type GroupKey } from './api/request.js';
import { spend, SPEND_METRICS, type SpendQuery, type SpendRow } from './api/spend.js';
import { resolve } from 'node:path';
import { EmbeddedPathLocked, errorText, openClient } from './client.js';
import type { ClickhouseConfig } from './config.js';
import { csvCell } from './csv.js';
import { embeddedLockHolder } from './embedded-lock.js';
import { instantMs } from './instant.js';
import { readLayout } from './schema.js';

export const REPORT_KEYS = GROUP_KEYS;
export type ReportKey = GroupKey;

export interface ReportOptions {
  /** Inclusive start: `YYYY-MM-DD` or RFC 3339, UTC when no offset is given. */
  from: string;
  /** Exclusive end, same forms. */
  to: string;
  groupBy: ReportKey[];
  format: 'table' | 'csv' | 'json';
}

export type ReportRow = SpendRow;

/** `YYYY-MM-DD` or RFC 3339 → epoch ms; a bare date or date-time is read as UTC. */
export function parseInstant(text: string, what: string): number {
  const ms = instantMs(text);
  if (Number.isNaN(ms)) throw new Error(`report: --${what} ${JSON.stringify(text)} is not a date (YYYY-MM-DD) or an RFC 3339 time`);
  return ms;
}

/** The options checked and turned into a spend query (all rows, ordered by the keys). */
export function reportQuery(opts: ReportOptions): SpendQuery {
  const fromMs = parseInstant(opts.from, 'from');
  const toMs = parseInstant(opts.to, 'to');
  if (toMs <= fromMs) throw new Error(`report: --to ${opts.to} is not after --from ${opts.from}`);
  for (const k of opts.groupBy) if (!REPORT_KEYS.includes(k)) throw new Error(`report: cannot group by ${JSON.stringify(k)}; use ${REPORT_KEYS.join(', ')}`);
  return { fromMs, toMs, groupBy: [...new Set(opts.groupBy)], filters: {}, sort: 'keys' };
}

/**
 * Spend for a time range grouped by day, team, model..., read from the configured ClickHouse with
 * FINAL so that every call counts once even before merges (the spend API's query). Returns the
 * text to print. Embedded mode opens the data directory, so it throws EmbeddedPathLocked while a
 * running tokenledger holds it: ask that process instead (report-remote.ts).
 */
export async function runReport(config: ClickhouseConfig, opts: ReportOptions, ctx: { configDir: string }): Promise<string> {
  const q = reportQuery(opts);
  if (config.mode === 'embedded') {
    // Checked before opening: chDB would print its lock error on the native stderr and say only "Failed to create connection".
    const path = resolve(ctx.configDir, config.path);
    const holder = embeddedLockHolder(path);
    if (holder !== undefined) throw new EmbeddedPathLocked(path, `cannot open embedded ClickHouse at ${path}: process ${holder} (a running tokenledger?) holds it`);
  }
  const conn = await openClient(config, ctx.configDir);
  try {
    const layout = await readLayout(conn.client, config.database, config.table);
    const { rows } = await spend({ client: conn.client, layout, database: config.database, table: config.table, embedded: config.mode === 'embedded' }, q);
    return format(rows, q.groupBy, opts.format);
  } catch (err) {
    throw new Error(`report from ${conn.where}: ${errorText(err)}`, { cause: err });
  } finally {
    await conn.close();
  }
}

export function format(rows: ReportRow[], keys: ReportKey[], fmt: ReportOptions['format']): string {
  if (fmt === 'json') return JSON.stringify(rows, null, 2) + '\n';
  const header = [...keys, ...SPEND_METRICS];
  const cells = (r: ReportRow): string[] => [...keys.map((k) => r[k] ?? ''), ...SPEND_METRICS.map((m) => (m === 'cost_usd' ? r.cost_usd.toFixed(6) : String(r[m])))];
  if (fmt === 'csv') return [header, ...rows.map(cells)].map((line) => line.map(csvCell).join(',')).join('\n') + '\n';
  const total = { calls: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 } as ReportRow;
  for (const r of rows) for (const m of SPEND_METRICS) total[m] += r[m];
  const body = rows.map(cells);
  const totalLine = [...keys.map((_, i) => (i === 0 ? 'TOTAL' : '')), ...cells(total).slice(keys.length)];
  const all = [header, ...body, totalLine];
  const width = header.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const line = (l: string[]): string => l.map((c, i) => (i < keys.length ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ').trimEnd();
  const rule = width.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...body.map(line), rule, line(totalLine)].join('\n') + '\n';
}
