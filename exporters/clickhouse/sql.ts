import type { Layout } from './schema.js';

/**
 * SQL fragments for reading the calls table. Values are inlined as escaped literals because
 * ClickHouse 18.16 has no query parameters; identifiers come from the validated config.
 */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Labels that are columns; anything else is looked up in `dimensions`. */
export const LABEL_COLUMNS = new Set(['team', 'customer', 'key_alias', 'user', 'provider', 'model', 'route', 'source', 'service_name', 'session_id', 'region', 'status']);

/** The value of a label for one row: a column, or a dimension ('' when the call lacks it). */
export function labelExpr(layout: Layout, label: string): string {
  if (LABEL_COLUMNS.has(label)) return `\`${label}\``;
  return layout.maps ? `dimensions[${sqlString(label)}]` : `dimensions_values[indexOf(dimensions_keys, ${sqlString(label)})]`;
}

/** Calls with from ≤ timestamp < to (epoch ms), precise to the millisecond and using the index. */
export function timeRange(layout: Layout, fromMs: number, toMs: number): string {
  const from = Math.floor(fromMs);
  const to = Math.ceil(toMs);
  if (layout.dateTime64) {
    return `timestamp >= fromUnixTimestamp64Milli(toInt64(${from}), 'UTC') AND timestamp < fromUnixTimestamp64Milli(toInt64(${to}), 'UTC')`;
  }
  const ms = 'toUInt64(toUInt32(timestamp)) * 1000 + intDiv(timestamp_us, 1000)';
  return `timestamp >= toDateTime(${Math.floor(from / 1000)}, 'UTC') AND timestamp <= toDateTime(${Math.ceil(to / 1000)}, 'UTC') AND ${ms} >= ${from} AND ${ms} < ${to}`;
}
