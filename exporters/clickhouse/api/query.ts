import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { Layout } from '../schema.js';
import { labelExpr, sqlString, timeRange } from '../sql.js';
import type { Range } from './request.js';

/** What a read needs: a client on the calls table and the table's layout. */
export interface Source {
  client: ClickHouseClient;
  layout: Layout;
  database: string;
  table: string;
  /** chDB: request settings would stay on its one session (below), so only the SETTINGS clause bounds a query. */
  embedded: boolean;
}

/**
 * Bounds on every API query, so that a console left open or a careless script cannot take the
 * ClickHouse a pipeline writes to: time, memory, and the number of groups of a GROUP BY (the
 * API pages its answer, but ClickHouse must build all groups before it can sort them).
 */
export const QUERY_BOUNDS = { max_execution_time: 30, max_memory_usage: 512 * 1024 * 1024, max_rows_to_group_by: 100_000 } as const;

const BOUND_SETTINGS = {
  max_execution_time: QUERY_BOUNDS.max_execution_time,
  max_memory_usage: String(QUERY_BOUNDS.max_memory_usage),
  max_rows_to_group_by: String(QUERY_BOUNDS.max_rows_to_group_by),
  group_by_overflow_mode: 'throw',
} satisfies ClickHouseSettings;

/**
 * QUERY_BOUNDS in the query text. A server also gets them as request settings (select() below):
 * clickhouse-server 18.16 sizes a query's memory tracker before it reads the SETTINGS clause, so
 * there only the request's max_memory_usage holds (measured: the clause let a 19 MiB GROUP BY past
 * a 10 MB bound, the request setting stopped it). chDB's connection applies request settings to its
 * session, where they would stay for every later insert and query (measured: a
 * max_rows_to_group_by given to one query failed the next; the embedded client refuses them,
 * client.ts): there the clause alone bounds a query.
 */
export const SETTINGS = `SETTINGS ${Object.entries(BOUND_SETTINGS).map(([k, v]) => `${k} = ${/^\d+$/.test(String(v)) ? v : `'${v}'`}`).join(', ')}`;

/** The WHERE conditions of a time range and label filters (a label that is no column is a dimension). */
export function conditions(layout: Layout, range: Range, filters: Readonly<Record<string, string | undefined>>): string[] {
  return [timeRange(layout, range.fromMs, range.toMs), ...Object.entries(filters).flatMap(([k, v]) => (v === undefined ? [] : [`${labelExpr(layout, k)} = ${sqlString(v)}`]))];
}

/** The call's start in microseconds since the epoch, in either layout. */
export function microsExpr(layout: Layout): string {
  return layout.dateTime64 ? 'toUnixTimestamp64Micro(timestamp)' : 'toUInt64(toUInt32(timestamp)) * 1000000 + timestamp_us';
}

/** RFC 3339 UTC with the six sub-second digits the ledger keeps. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
}

export async function select<T>(src: Source, query: string): Promise<T[]> {
  const rs = await src.client.query({ query, format: 'JSONEachRow', ...(src.embedded ? {} : { clickhouse_settings: BOUND_SETTINGS }) });
  return rs.json<T>();
}
