/**
 * Insert throughput on the dev cluster of scripts/dev-cluster.sh (cluster `ledger`, shard 1 on
 * :8131, shard 2 on :8133): the exporter's rows through the Distributed table synchronously (what
 * the exporter does), asynchronously (ClickHouse's default), and straight into each shard's local
 * table, two inserts in parallel (what routing rows to their shard in tokenledger would at best
 * give; the halves are not split by the real hash, which does not change the cost). Each variant
 * writes into a fresh database, dropped afterwards.
 *
 *   npm run build && node dist/bench/cluster-writes.js [rows] [batch] [rounds]
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createLogger } from '../core/logger.js';
import { emptyCall, type LlmCall } from '../core/llm-call.js';
import { CLUSTER_SETTINGS } from '../exporters/clickhouse/client.js';
import { featuresOf } from '../exporters/clickhouse/features.js';
import { encodeRecord, recordRow } from '../exporters/clickhouse/rows.js';
import { migrate, type Layout } from '../exporters/clickhouse/schema.js';

const [rowsArg, batchArg, roundsArg] = process.argv.slice(2).map(Number);
const N = rowsArg || 40_000;
const BATCH = batchArg || 5000;
const ROUNDS = roundsArg || 2;
const CLUSTER = 'ledger';
const SHARD_URLS = [process.env.TOKENLEDGER_CLUSTER_URL ?? 'http://127.0.0.1:8131', 'http://127.0.0.1:8133'];

function call(i: number): LlmCall {
  return {
    ...emptyCall(), call_id: `bench-${i}`, timestamp: `2026-11-2${i % 3}T10:00:05.123456Z`, duration_ms: 1234.5,
    trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8), source: 'litellm', provider: 'anthropic', model: 'claude-sonnet-4-5',
    model_raw: 'anthropic/claude-sonnet-4-5', input_tokens: 100 + i, output_tokens: 50, cache_read_tokens: 1000,
    cost_usd: (i + 1) / 1000, status: 'ok', user: `u${i % 7}`, team: ['search', 'ads', ''][i % 3], customer: `c${i % 2}`,
    tags: ['a'], dimensions: { project: 'p1', env: 'prod' }, attributes: { 'http.status': '200' },
  };
}

const layout: Layout = { dateTime64: false, maps: false };
const rows = Array.from({ length: N }, (_, i) => recordRow(encodeRecord(call(i), i + 1, layout), layout));
const client = (url: string, settings: Record<string, string | number>): ClickHouseClient => createClient({ url, clickhouse_settings: settings });
const admin = client(SHARD_URLS[0], CLUSTER_SETTINGS);
const [{ v }] = await (await admin.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
const insert = (c: ClickHouseClient, table: string, part: string[]): Promise<unknown> =>
  c.command({ query: `INSERT INTO ${table} FORMAT JSONEachRow\n${part.join('\n')}\n` });

type Variant = (db: string) => Promise<void>;
const sync = client(SHARD_URLS[0], CLUSTER_SETTINGS);
const async = client(SHARD_URLS[0], { load_balancing: 'in_order' });
const shards = SHARD_URLS.map((u) => client(u, {}));
const variants: [string, Variant][] = [
  ['Distributed, insert_distributed_sync=1 (the exporter)', async (db) => { for (let i = 0; i < N; i += BATCH) await insert(sync, `${db}.llm_calls`, rows.slice(i, i + BATCH)); }],
  ['Distributed, asynchronous (ClickHouse default)', async (db) => { for (let i = 0; i < N; i += BATCH) await insert(async, `${db}.llm_calls`, rows.slice(i, i + BATCH)); }],
  ['straight into each shard, 2 inserts in parallel', async (db) => {
    for (let i = 0; i < N; i += BATCH) {
      const part = rows.slice(i, i + BATCH);
      const half = part.length >>> 1;
      await Promise.all([insert(shards[0], `${db}.llm_calls_local`, part.slice(0, half)), insert(shards[1], `${db}.llm_calls_local`, part.slice(half))]);
    }
  }],
];

console.log(`clickhouse ${v}, cluster ${CLUSTER}: ${N} calls in batches of ${BATCH}, ${ROUNDS} rounds`);
const logger = createLogger('warn');
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, run] of variants) {
    const db = `tl_bench_cluster_${process.pid}_${round}`;
    await migrate(admin, { database: db, table: 'llm_calls', cluster: CLUSTER, features: featuresOf(v) }, logger);
    const t0 = performance.now();
    await run(db);
    const s = (performance.now() - t0) / 1000;
    await admin.command({ query: `DROP DATABASE ${db} ON CLUSTER ${CLUSTER}` });
    console.log(`round ${round}  ${name.padEnd(55)} ${Math.round(N / s).toString().padStart(7)} rows/s`);
  }
}
for (const c of [admin, sync, async, ...shards]) await c.close();
