import type { ClickHouseClient } from '@clickhouse/client';
import type { Layout } from '../schema.js';
import { labelExpr, sqlString, timeRange } from '../sql.js';
import type { Range } from './request.js';

/** What a read needs: a client on the calls table and the table's layout. */
export interface Source {
  client: ClickHouseClient;
  layout: Layout;
  database: string;
  table: string;
}

/**
 * Bounds on every API query, so that a console left open or a careless script cannot take the
 * ClickHouse a pipeline writes to: time, memory, and the number of groups of a GROUP BY (the
 * API pages its answer, but ClickHouse must build all groups before it can sort them).
 */
export const QUERY_BOUNDS = { max_execution_time: 30, max_memory_usage: 512 * 1024 * 1024, max_rows_to_group_by: 100_000 } as const;

/** QUERY_BOUNDS as a SETTINGS clause in the query text, which clickhouse-server 18.16 and chDB both read. */
export const SETTINGS = `SETTINGS max_execution_time = ${QUERY_BOUNDS.max_execution_time}, max_memory_usage = ${QUERY_BOUNDS.max_memory_usage}, max_rows_to_group_by = ${QUERY_BOUNDS.max_rows_to_group_by}, group_by_overflow_mode = 'throw'`;

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

export async function select<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}
