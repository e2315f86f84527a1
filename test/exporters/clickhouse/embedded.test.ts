import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { engineArgs, openClient, type OpenClient } from '../../../exporters/clickhouse/client.js';
import { defaults, type ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { ClickhouseExporter } from '../../../exporters/clickhouse/exporter.js';
import { RetryableError } from '../../../core/errors.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { storeSuite, type Target } from './store-suite.js';
import { waitFor } from '../../receivers/otlp/helpers.js';
import { makeCall, rows, testDatabase, totals } from './helpers.js';

// chDB binds one data directory per process: this file (its own vitest worker) uses one path,
// shared by the exporters under test and the client that checks their work.
const dir = mkdtempSync(join(tmpdir(), 'tl-chdb-'));
const base: ClickhouseConfig = {
  ...defaults, mode: 'embedded', path: join(dir, 'clickhouse'), rollup_refresh: '100s',
  batch: { max_rows: 500, max_delay: '20ms' }, queue: { type: 'memory', path: '', max_bytes: 64 << 20 },
};

describe('clickhouse exporter on embedded chDB', () => {
  let conn: OpenClient;
  let current: Target;

  beforeAll(async () => { conn = await openClient(base, dir); });
  afterAll(async () => { await conn.close(); });
  beforeEach(() => { current = { config: { ...base, database: testDatabase('emb') }, client: conn.client, modern: true }; });

  storeSuite(() => current);

  it('with create_schema false and no table, start fails naming the table and the fix', async () => {
    const e = new ClickhouseExporter({ ...base, database: testDatabase('none'), create_schema: false }, testContext('clickhouse'));
    await expect(e.start()).rejects.toThrow(/table tl_test_none_\w+\.llm_calls does not exist; set create_schema: true/);
  });

  it('a row chDB rejects as bad data (raw insert) is isolated and dropped, counted, never retried; the rest of its batch is stored', async () => {
    const ctx = testContext('clickhouse');
    const database = testDatabase('bad');
    const e = new ClickhouseExporter({ ...base, database }, ctx);
    await e.start();
    // Sabotage: a cost column that cannot hold a fraction, so exactly the call with a fractional cost fails to parse.
    await conn.client.command({ query: `ALTER TABLE ${database}.llm_calls MODIFY COLUMN cost_usd UInt8` });
    await e.consume(batchOf({ calls: Array.from({ length: 40 }, (_, i) => makeCall(i, { cost_usd: i === 17 ? 0.5 : 1 })) }));
    await e.flush();
    await e.shutdown();
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total', { exporter: 'clickhouse' })).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_sent_rows_total', { exporter: 'clickhouse' })).toBe(39);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_retries_total', { exporter: 'clickhouse' })).toBe(0);
    expect(ctx.logs.filter((l) => l.msg === 'call rejected by ClickHouse; dropped').map((l) => l.call_id)).toEqual(['call-17']);
    const rs = await conn.client.query({ query: `SELECT count() AS n, uniqExact(call_id) AS ids FROM ${database}.llm_calls FINAL`, format: 'JSONEachRow' });
    const [r] = await rs.json<{ n: string; ids: string }>();
    expect([Number(r.n), Number(r.ids)]).toEqual([39, 39]);
  });

  it('answers "retry later" (RetryableError) when the queue is full, and counts the refused rows', async () => {
    const ctx = testContext('clickhouse');
    const e = new ClickhouseExporter({ ...base, database: testDatabase('full'), queue: { type: 'memory', path: '', max_bytes: 10_000 } }, ctx);
    await e.start();
    const err = await e.consume(batchOf({ calls: Array.from({ length: 100 }, (_, i) => makeCall(i)) })).catch((x: unknown) => x);
    await e.shutdown();
    expect(err).toBeInstanceOf(RetryableError);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_enqueue_refused_rows_total', { exporter: 'clickhouse' })).toBe(100);
  });

  it('bounds chDB memory with the embedded settings, not ClickHouse\'s dedicated-server defaults (90 % of RAM, 5 GiB caches)', async () => {
    const rs = await conn.client.query({
      query: `SELECT name, value FROM system.server_settings WHERE name IN ('max_server_memory_usage', 'mark_cache_size', 'primary_index_cache_size', 'index_mark_cache_size', 'query_condition_cache_size') ORDER BY name`,
      format: 'JSONEachRow',
    });
    const mib = 1024 * 1024;
    expect(await rs.json<{ name: string; value: string }>()).toEqual([
      { name: 'index_mark_cache_size', value: String(64 * mib) },
      { name: 'mark_cache_size', value: String(64 * mib) },
      { name: 'max_server_memory_usage', value: String(1024 * mib) },
      { name: 'primary_index_cache_size', value: String(64 * mib) },
      { name: 'query_condition_cache_size', value: String(64 * mib) },
    ]);
    expect(engineArgs({ max_memory_mib: 300, cache_mib: 0 })).toEqual([
      `--max_server_memory_usage=${300 * mib}`, '--mark_cache_size=0', '--primary_index_cache_size=0', '--index_mark_cache_size=0', '--query_condition_cache_size=0',
    ]);
  });

  it('can hand freed memory back (SYSTEM JEMALLOC PURGE: this chDB build has jemalloc), and the engine still answers', async () => {
    expect(conn.release).toBeDefined();
    await conn.release?.();
    const rs = await conn.client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ one: 1 }]);
  });

  it('a rollup round while an insert is retried loses nothing: the retried batch\'s dedup token stays off the rollup inserts', async () => {
    // chDB's connection turns request settings into SETs on its one session. When the calls insert
    // passed its token that way, the rollup inserted while the batch was retried carried the token,
    // and the refresh after the retry, with the same token, was dropped as a duplicate block.
    const db = testDatabase('retry');
    const ctx = testContext('clickhouse');
    const e = new ClickhouseExporter({ ...base, database: db, rollup_refresh: '3s', retry: { initial_interval: '50ms', max_interval: '200ms', max_elapsed: '0s' } }, ctx);
    const dailyCalls = async (): Promise<number> => Number((await rows<{ n: string }>(conn.client, `SELECT sum(calls) AS n FROM ${db}.llm_calls_daily FINAL`))[0].n);
    await e.start();
    try {
      await e.consume(batchOf({ calls: [0, 3, 6].map((i) => makeCall(i)) })); // 2026-11-20, rolled up at the next round
      await waitFor('the first batch stored', async () => (await totals(conn.client, db)).n === 3, 10_000);
      // The calls table refuses inserts for a while (TOO_MANY_PARTS; chDB over its memory bound
      // does the same): the second batch, 2026-11-21, same month, is retried.
      await conn.client.command({ query: `ALTER TABLE ${db}.llm_calls MODIFY SETTING parts_to_throw_insert = 1` });
      await e.consume(batchOf({ calls: [1, 4].map((i) => makeCall(i)) }));
      await waitFor('the rollup round during the retries', async () => (await dailyCalls()) === 3, 15_000);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_retries_total', { exporter: 'clickhouse' })).toBeGreaterThan(0);
      await conn.client.command({ query: `ALTER TABLE ${db}.llm_calls RESET SETTING parts_to_throw_insert` });
      await e.flush();
    } finally {
      await e.shutdown();
    }
    expect((await totals(conn.client, db)).n).toBe(5);
    expect(await dailyCalls()).toBe(5);
  }, 30_000);

  it('refuses request settings, which chDB would keep on its session for every later statement, naming them and the fix', async () => {
    await expect(conn.client.query({ query: 'SELECT 1', format: 'JSONEachRow', clickhouse_settings: { max_rows_to_group_by: '10', wait_end_of_query: undefined } }))
      .rejects.toThrow(/request settings \(max_rows_to_group_by\) would stay on chDB's session for every later statement; put them in the statement's SETTINGS clause/);
    const [setting] = await rows<{ value: string; changed: number }>(conn.client, "SELECT value, changed FROM system.settings WHERE name = 'max_rows_to_group_by'");
    expect(setting).toEqual({ value: '0', changed: 0 });
  });

  it('refuses a second embedded path in the same process with a clear error', async () => {
    await expect(openClient({ ...base, path: join(dir, 'other') }, dir)).rejects.toThrow(/cannot open embedded ClickHouse at .*other: this process already has another embedded path open/);
  });
});
