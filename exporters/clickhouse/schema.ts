import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../core/logger.js';
import type { ServerFeatures } from './features.js';

/** Where and how the tables live: everything DDL depends on. */
export interface SchemaTarget {
  database: string;
  table: string;
  cluster?: string;
  ttlDays?: number;
  features: ServerFeatures;
}

/**
 * How an existing table stores what not every server can: read from system.columns, not from
 * the server version, since a table created by an old server keeps its types after an upgrade.
 */
export interface Layout {
  /** timestamp is DateTime64(6); else DateTime plus timestamp_us. */
  dateTime64: boolean;
  /** dimensions/attributes are Map(String, String); else parallel `_keys`/`_values` arrays. */
  maps: boolean;
}

/** One row per call; the newest ingest_version of a call_id wins (see README "Reading totals"). */
export function callColumns(f: ServerFeatures): [string, string][] {
  const lc = f.lowCardinality ? 'LowCardinality(String)' : 'String';
  const bool = f.bool ? 'Bool' : 'UInt8';
  const map = (name: string): [string, string][] => f.map
    ? [[name, 'Map(String, String)']]
    : [[`${name}_keys`, 'Array(String)'], [`${name}_values`, 'Array(String)']];
  return [
    ['call_id', 'String'],
    ['record_type', lc],
    ...(f.dateTime64 ? [['timestamp', "DateTime64(6, 'UTC')"]] as [string, string][] : [['timestamp', "DateTime('UTC')"], ['timestamp_us', 'UInt32']] as [string, string][]),
    ['duration_ms', 'Float64'],
    ['ttft_ms', 'Nullable(Float64)'],
    ['trace_id', 'String'],
    ['span_id', 'String'],
    ['source', lc],
    ['source_version', lc],
    ['route', lc],
    ['provider', lc],
    ['provider_inferred', bool],
    ['model', lc],
    ['model_raw', lc],
    ['region', lc],
    ['input_tokens', 'UInt64'],
    ['output_tokens', 'UInt64'],
    ['cache_read_tokens', 'UInt64'],
    ['cache_write_5m_tokens', 'UInt64'],
    ['cache_write_1h_tokens', 'UInt64'],
    ['cost_usd', 'Float64'],
    ['reported_cost_usd', 'Nullable(Float64)'],
    ['price_ref', lc],
    ['status', lc],
    ['error_type', lc],
    ['streaming', bool],
    ['user', lc],
    ['team', lc],
    ['key_alias', lc],
    ['customer', lc],
    ['tags', 'Array(String)'],
    ...map('dimensions'),
    ['session_id', 'String'],
    ['service_name', lc],
    ...map('attributes'),
    ['ingest_version', 'UInt64'],
  ];
}

/** Rollup dimensions: what `report` and dashboards group by. */
export const ROLLUP_KEYS = ['team', 'customer', 'provider', 'model'] as const;
export const TOKEN_COLUMNS = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens'] as const;

export const dailyTable = (table: string): string => `${table}_daily`;
/** One per database: results of reconciling the ledger with providers' usage and cost reports. */
export const RECONCILIATION_TABLE = 'reconciliation';
const localTable = (table: string): string => `${table}_local`;

function onCluster(t: SchemaTarget): string {
  return t.cluster ? ` ON CLUSTER ${t.cluster}` : '';
}

/**
 * ReplacingMergeTree keyed by (day, model, call_id): an update of a call (same call_id, timestamp
 * and model) lands on the same key and replaces the earlier row at merge time; reads use FINAL.
 * Team and customer are not in the key because updates may fill them in. In a cluster the data
 * lives in `<table>_local` (replicated) behind a Distributed `<table>` sharded by call_id, so all
 * versions of a call meet on one shard, where FINAL can collapse them.
 */
function createTable(t: SchemaTarget, name: string, columns: [string, string][], engineArgs: string, rest: string, shardKey: string): string[] {
  const cols = columns.map(([n, ty]) => `  \`${n}\` ${ty}`).join(',\n');
  const dedup = t.features.dedupToken && !t.cluster ? '\nSETTINGS non_replicated_deduplication_window = 1000' : '';
  if (!t.cluster) {
    return [`CREATE TABLE IF NOT EXISTS ${t.database}.${name} (\n${cols}\n) ENGINE = ReplacingMergeTree(${engineArgs})\n${rest}${dedup}`];
  }
  const local = localTable(name);
  return [
    `CREATE TABLE IF NOT EXISTS ${t.database}.${local}${onCluster(t)} (\n${cols}\n) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/${t.database}/${local}', '{replica}', ${engineArgs})\n${rest}`,
    `CREATE TABLE IF NOT EXISTS ${t.database}.${name}${onCluster(t)} AS ${t.database}.${local} ENGINE = Distributed(${t.cluster}, ${t.database}, ${local}, ${shardKey})`,
  ];
}

function ttlClause(t: SchemaTarget): string {
  return t.ttlDays && t.features.ttl ? `\nTTL toDateTime(timestamp) + INTERVAL ${t.ttlDays} DAY` : '';
}

export interface Migration {
  version: number;
  description: string;
  statements(t: SchemaTarget): string[];
}

/** Append-only: a released migration is never edited, a change is a new version. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'calls table and daily rollup',
    statements: (t) => [
      ...createTable(t, t.table, callColumns(t.features), 'ingest_version',
        `PARTITION BY toYYYYMM(timestamp)\nORDER BY (toDate(timestamp), model, call_id)${ttlClause(t)}`, 'cityHash64(call_id)'),
      ...createTable(t, dailyTable(t.table), [
        ['day', 'Date'], ...ROLLUP_KEYS.map((k): [string, string] => [k, 'String']),
        ['calls', 'UInt64'], ...TOKEN_COLUMNS.map((c): [string, string] => [c, 'UInt64']), ['cost_usd', 'Float64'],
        ['refresh_version', 'UInt64'],
      ], 'refresh_version', `PARTITION BY toYYYYMM(day)\nORDER BY (day, ${ROLLUP_KEYS.join(', ')})`, 'cityHash64(day)'),
    ],
  },
  {
    version: 2,
    description: 'reconciliation with providers\' usage and cost reports',
    statements: (t) => createTable(t, RECONCILIATION_TABLE, [
      ['day', 'Date'], ['provider', 'String'], ['model', 'String'], ['team', 'String'], ['status', 'String'],
      ['ledger_calls', 'UInt64'],
      ...TOKEN_COLUMNS.flatMap((c): [string, string][] => [[`ledger_${c}`, 'UInt64'], [`reported_${c}`, 'UInt64']]),
      ['ledger_cost_usd', 'Float64'], ['reported_cost_usd', 'Nullable(Float64)'], ['drift_usd', 'Float64'], ['drift_ratio', 'Float64'],
      ['unmatched_cost_usd', 'Float64'], ['price_drift_usd', 'Float64'], ['explanation', 'String'],
      ['reconciled_at', "DateTime('UTC')"], ['version', 'UInt64'],
    ], 'version', 'PARTITION BY toYYYYMM(day)\nORDER BY (day, provider, model, team)', 'cityHash64(day)'),
  },
];

/**
 * Creates the database and applies pending migrations, recording each in `schema_migrations`.
 * When nothing is pending it runs no DDL at all: on a cluster every ON CLUSTER statement waits
 * for all hosts (distributed_ddl_task_timeout, 180 s), so a tokenledger (re)started while one
 * replica is down would otherwise stall instead of writing to the replicas that are up.
 * On a cluster `schema_migrations` is per node (the node this process talks to), so a migration
 * may run again through another node: every statement must be idempotent (IF NOT EXISTS), which
 * also makes tokenledger processes migrating at once safe.
 */
export async function migrate(client: ClickHouseClient, t: SchemaTarget, logger: Logger): Promise<number[]> {
  let done = await appliedVersions(client, t);
  if (MIGRATIONS.every((m) => done.has(m.version))) return [];
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${t.database}${onCluster(t)}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${t.database}.schema_migrations${onCluster(t)} (table_name String, version UInt32, description String, applied_at DateTime) ENGINE = ReplacingMergeTree ORDER BY (table_name, version)`,
  });
  done = await appliedVersions(client, t);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const query of m.statements(t)) await client.command({ query });
    await client.insert({
      table: `${t.database}.schema_migrations`, format: 'JSONEachRow',
      values: [{ table_name: t.table, version: m.version, description: m.description, applied_at: Math.floor(Date.now() / 1000) }],
    });
    logger.info('schema migration applied', { table: `${t.database}.${t.table}`, version: m.version, description: m.description });
    applied.push(m.version);
  }
  return applied;
}

/** Versions recorded for the table; none when `schema_migrations` does not exist yet. */
async function appliedVersions(client: ClickHouseClient, t: SchemaTarget): Promise<Set<number>> {
  const exists = await client.query({ query: `SELECT 1 FROM system.tables WHERE database = '${t.database}' AND name = 'schema_migrations'`, format: 'JSONEachRow' });
  if ((await exists.json()).length === 0) return new Set();
  const rs = await client.query({ query: `SELECT version FROM ${t.database}.schema_migrations FINAL WHERE table_name = '${t.table}'`, format: 'JSONEachRow' });
  return new Set((await rs.json<{ version: number | string }>()).map((r) => Number(r.version)));
}

/** Reads the layout of an existing calls table; fails clearly when it is missing or foreign. */
export async function readLayout(client: ClickHouseClient, database: string, table: string): Promise<Layout> {
  const rs = await client.query({
    query: `SELECT name, type FROM system.columns WHERE database = '${database}' AND table = '${table}'`,
    format: 'JSONEachRow',
  });
  const cols = new Map((await rs.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
  if (cols.size === 0) throw new Error(`table ${database}.${table} does not exist; set create_schema: true or create it from exporters/clickhouse/README.md`);
  for (const need of ['call_id', 'timestamp', 'model', 'cost_usd', 'ingest_version']) {
    if (!cols.has(need)) throw new Error(`table ${database}.${table} has no column \`${need}\`: it was not created by tokenledger`);
  }
  return { dateTime64: (cols.get('timestamp') ?? '').startsWith('DateTime64'), maps: cols.has('dimensions') };
}
