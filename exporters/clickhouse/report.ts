import { errorText, openClient } from './client.js';
import type { ClickhouseConfig } from './config.js';
import { readLayout } from './schema.js';
import { timeRange } from './sql.js';

export const REPORT_KEYS = ['day', 'team', 'customer', 'model', 'provider'] as const;
export type ReportKey = (typeof REPORT_KEYS)[number];

export interface ReportOptions {
  /** Inclusive start: `YYYY-MM-DD` or RFC 3339, UTC when no offset is given. */
  from: string;
  /** Exclusive end, same forms. */
  to: string;
  groupBy: ReportKey[];
  format: 'table' | 'csv' | 'json';
}

export interface ReportRow {
  day?: string; team?: string; customer?: string; model?: string; provider?: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

const METRICS = ['calls', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd'] as const;

/** `YYYY-MM-DD` or RFC 3339 → epoch ms; a bare date or date-time is read as UTC. */
export function parseInstant(text: string, what: string): number {
  const t = text.trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`report: --${what} ${JSON.stringify(text)} is not a date (YYYY-MM-DD) or an RFC 3339 time`);
  return ms;
}

/**
 * Spend for a time range grouped by day/team/customer/model/provider, read from the configured
 * ClickHouse with FINAL so that every call counts once even before merges. Returns the text to
 * print. Embedded mode opens the data directory, so it fails while a running tokenledger holds it.
 */
export async function runReport(config: ClickhouseConfig, opts: ReportOptions, ctx: { configDir: string }): Promise<string> {
  const fromMs = parseInstant(opts.from, 'from');
  const toMs = parseInstant(opts.to, 'to');
  if (toMs <= fromMs) throw new Error(`report: --to ${opts.to} is not after --from ${opts.from}`);
  for (const k of opts.groupBy) if (!REPORT_KEYS.includes(k)) throw new Error(`report: cannot group by ${JSON.stringify(k)}; use ${REPORT_KEYS.join(', ')}`);
  const keys = [...new Set(opts.groupBy)];
  const conn = await openClient(config, ctx.configDir);
  try {
    const layout = await readLayout(conn.client, config.database, config.table);
    const select = keys.map((k) => (k === 'day' ? "toString(toDate(timestamp, 'UTC')) AS day" : `CAST(${k} AS String) AS ${k}`));
    const query = `SELECT ${[...select,
      'count() AS calls', 'sum(input_tokens) AS input_tokens', 'sum(output_tokens) AS output_tokens', 'sum(cache_read_tokens) AS cache_read_tokens',
      'sum(cache_write_5m_tokens) + sum(cache_write_1h_tokens) AS cache_write_tokens', 'sum(cost_usd) AS cost_usd'].join(', ')}
FROM ${config.database}.${config.table} FINAL WHERE ${timeRange(layout, fromMs, toMs)}
${keys.length ? `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}` : ''}`;
    const rs = await conn.client.query({ query, format: 'JSONEachRow' });
    const raw = await rs.json<Record<string, string | number>>();
    const rows = raw.filter((r) => keys.length > 0 || Number(r.calls) > 0).map((r) => toReportRow(r, keys));
    return format(rows, keys, opts.format);
  } catch (err) {
    throw new Error(`report from ${conn.where}: ${errorText(err)}`, { cause: err });
  } finally {
    await conn.close();
  }
}

function toReportRow(r: Record<string, string | number>, keys: ReportKey[]): ReportRow {
  const row: ReportRow = { calls: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 };
  for (const k of keys) row[k] = String(r[k]);
  for (const m of METRICS) row[m] = Number(r[m]);
  return row;
}

export function format(rows: ReportRow[], keys: ReportKey[], fmt: ReportOptions['format']): string {
  if (fmt === 'json') return JSON.stringify(rows, null, 2) + '\n';
  const header = [...keys, ...METRICS];
  const cells = (r: ReportRow): string[] => [...keys.map((k) => r[k] ?? ''), ...METRICS.map((m) => (m === 'cost_usd' ? r.cost_usd.toFixed(6) : String(r[m])))];
  if (fmt === 'csv') return [header, ...rows.map(cells)].map((line) => line.map(csvCell).join(',')).join('\n') + '\n';
  const total: ReportRow = { calls: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 };
  for (const r of rows) for (const m of METRICS) total[m] += r[m];
  const body = rows.map(cells);
  const totalLine = [...keys.map((_, i) => (i === 0 ? 'TOTAL' : '')), ...cells(total).slice(keys.length)];
  const all = [header, ...body, totalLine];
  const width = header.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const line = (l: string[]): string => l.map((c, i) => (i < keys.length ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ').trimEnd();
  const rule = width.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...body.map(line), rule, line(totalLine)].join('\n') + '\n';
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
