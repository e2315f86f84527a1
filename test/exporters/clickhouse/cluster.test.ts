import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { ClickhouseExporter } from '../../../exporters/clickhouse/exporter.js';
import { runReport } from '../../../exporters/clickhouse/report.js';
import { MIGRATIONS } from '../../../exporters/clickhouse/schema.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { serviceAvailable } from '../../helpers/services.js';
import { compileChild, runChild } from './child.js';
import { CLUSTER, CLUSTER_URL, NODES, clusterClient, clusterConfig, clusterCtl, clusterUp, localIds, syncReplicas, type Node } from './cluster.js';
import { expectedCost, makeCall, rows, testDatabase, totals } from './helpers.js';
import { storeSuite, type Target } from './store-suite.js';

const up = serviceAvailable('clickhouse cluster', await clusterUp(), `no cluster '${CLUSTER}' of four replicas answers on ${CLUSTER_URL}; run scripts/dev-cluster.sh`);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!up)(`clickhouse exporter on the cluster '${CLUSTER}' (2 shards × 2 replicas) at ${CLUSTER_URL}`, () => {
  let client: ClickHouseClient;
  const created: string[] = [];
  const newDatabase = (tag: string): string => {
    const db = testDatabase(tag);
    created.push(db);
    return db;
  };

  beforeAll(() => { client = clusterClient(); });
  afterAll(async () => {
    for (const db of created) await client.command({ query: `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${CLUSTER}` });
    await client.close();
  });

  describe('the single-server behaviour holds through Distributed tables', () => {
    let current: Target;
    beforeEach(() => { current = { config: clusterConfig(newDatabase('cl')), client, modern: false }; });
    storeSuite(() => current);
  });

  describe('faults', () => {
    // Whatever a test did to the cluster, the next one starts with all four replicas up.
    afterEach(async () => { await clusterCtl('start'); });

    /** Disk queue, quick retries (the backoff ceiling would otherwise outlast the outage by up to 30 s). */
    function faultConfig(db: string): { config: ClickhouseConfig; dir: string } {
      const dir = mkdtempSync(join(tmpdir(), 'tl-cluster-'));
      return {
        dir,
        config: clusterConfig(db, {
          request_timeout: '5s', queue: { type: 'disk', path: 'queue', max_bytes: 256 << 20 },
          batch: { max_rows: 200, max_delay: '20ms' }, retry: { initial_interval: '100ms', max_interval: '1s', max_elapsed: '0s' },
        }),
      };
    }

    /**
     * Streams batches of 20 new calls (each consumed twice when `twice`, as a client re-sending
     * after a timeout) while `fault` runs, and a little after; resolves with how many calls were
     * acknowledged, all of [0, acked).
     */
    async function stream(exporter: ClickhouseExporter, fault: () => Promise<void>, twice: boolean): Promise<number> {
      let acked = 0;
      let done = false;
      const running = fault().finally(() => { done = true; });
      const send = async (): Promise<void> => {
        const batch = batchOf({ calls: range(acked, acked + 20).map((i) => makeCall(i)) });
        await exporter.consume(batch);
        if (twice) await exporter.consume(batch);
        acked += 20;
      };
      while (!done) {
        await send();
        await sleep(100);
      }
      await running;
      for (let i = 0; i < 5; i++) await send();
      return acked;
    }

    /**
     * Delivers what is queued, waits until both replicas of each shard hold it, then shuts down:
     * the shutdown's rollup round re-reads every day from caught-up replicas (README: reads on a
     * replicated cluster).
     */
    async function finish(exporter: ClickhouseExporter, db: string): Promise<void> {
      await exporter.flush();
      await syncReplicas(db, 'llm_calls_local');
      await exporter.shutdown();
      await syncReplicas(db, 'llm_calls_daily_local');
    }

    /**
     * Every acknowledged call once: in `report` (what a user reads, through the Distributed table
     * with FINAL), in raw distinct call_ids, on both replicas of its shard; and the rollup equals
     * the deduplicated base table group by group.
     */
    async function expectExactlyOnce(config: ClickhouseConfig, acked: number): Promise<void> {
      const db = config.database;
      const [report] = JSON.parse(await runReport(config, { from: '2026-11-01', to: '2026-12-01', groupBy: [], format: 'json' }, { configDir: '.' })) as { calls: number; cost_usd: number }[];
      expect(report).toMatchObject({ calls: acked, cost_usd: expect.closeTo(expectedCost(range(0, acked)), 6) });
      expect(await totals(client, db)).toEqual({ n: acked, ids: acked, cost: expect.closeTo(expectedCost(range(0, acked)), 6) });
      const held: Record<string, number> = {};
      for (const node of Object.keys(NODES) as Node[]) held[node] = await localIds(node, db, 'llm_calls_local');
      expect(held.s1r1).toBe(held.s1r2);
      expect(held.s2r1).toBe(held.s2r2);
      expect(held.s1r1 + held.s2r1).toBe(acked); // each call on one shard only
      expect(Math.min(held.s1r1, held.s2r1)).toBeGreaterThan(acked / 4); // and both shards used
      const groups = 'day, team, customer, provider, model';
      const base = await rows(client, `SELECT toString(toDate(timestamp, 'UTC')) AS day, team, customer, provider, model, count() AS calls, sum(input_tokens) AS input_tokens, round(sum(cost_usd), 9) AS cost FROM ${db}.llm_calls FINAL GROUP BY ${groups} ORDER BY ${groups}`);
      const daily = await rows(client, `SELECT toString(day) AS day, team, customer, provider, model, calls, input_tokens, round(cost_usd, 9) AS cost FROM ${db}.llm_calls_daily FINAL WHERE calls > 0 ORDER BY ${groups}`);
      expect(daily).toEqual(base);
    }

    it('(a) one replica killed -9 mid-stream and restarted: every acknowledged call once, no batch lost', async () => {
      const { config, dir } = faultConfig(newDatabase('kill_replica'));
      const ctx = testContext('clickhouse', { configDir: dir });
      const exporter = new ClickhouseExporter(config, ctx);
      await exporter.start();
      // s2r1 is the first replica of shard 2: the one the entry node writes that shard's rows to.
      const acked = await stream(exporter, async () => {
        await sleep(800);
        await clusterCtl('kill', 's2r1');
        await sleep(2000);
        await clusterCtl('start');
      }, true);
      await finish(exporter, config.database);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total', { exporter: 'clickhouse' })).toBe(0);
      await expectExactlyOnce(config, acked);
    }, 90_000);

    it('a tokenledger restarted while a replica is down writes at once: no ON CLUSTER DDL waits for the missing host', async () => {
      const { config, dir } = faultConfig(newDatabase('restart_degraded'));
      const first = new ClickhouseExporter(config, testContext('clickhouse', { configDir: dir }));
      await first.start();
      await first.shutdown();
      await clusterCtl('kill', 's2r2');
      const ctx = testContext('clickhouse', { configDir: dir });
      const exporter = new ClickhouseExporter(config, ctx);
      await exporter.start();
      expect(ctx.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
      await exporter.consume(batchOf({ calls: range(0, 200).map((i) => makeCall(i)) }));
      await exporter.flush();
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_retries_total', { exporter: 'clickhouse' })).toBe(0);
      await clusterCtl('start');
      await finish(exporter, config.database);
      await expectExactlyOnce(config, 200);
    }, 120_000);

    it('(b) a whole shard down for 30 s mid-stream: inserts are retried until it is back, reads refuse to undercount meanwhile', async () => {
      const { config, dir } = faultConfig(newDatabase('shard_down'));
      const ctx = testContext('clickhouse', { configDir: dir });
      const exporter = new ClickhouseExporter(config, ctx);
      await exporter.start();
      let reportDuringOutage: unknown;
      const acked = await stream(exporter, async () => {
        await sleep(800);
        await clusterCtl('kill', 's2r1', 's2r2');
        await sleep(2000);
        reportDuringOutage = await runReport(config, { from: '2026-11-01', to: '2026-12-01', groupBy: [], format: 'json' }, { configDir: '.' }).catch((err: unknown) => err);
        await sleep(28_000);
        await clusterCtl('start');
      }, false);
      await finish(exporter, config.database);
      expect(String(reportDuringOutage)).toMatch(/Code: 279.*All connection tries failed/s);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_retries_total', { exporter: 'clickhouse' })).toBeGreaterThan(0);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total', { exporter: 'clickhouse' })).toBe(0);
      const retried = ctx.logs.filter((l) => l.msg === 'batch send failed; retrying').map((l) => (l.err as { message: string }).message);
      expect(retried.some((m) => m.startsWith('ClickHouse cluster unavailable, retrying: ALL_CONNECTION_TRIES_FAILED (279)'))).toBe(true);
      expect(acked).toBeGreaterThan(2000);
      await expectExactlyOnce(config, acked);
    }, 120_000);

    it('ZooKeeper killed -9 mid-stream: replicated tables turn read-only, inserts are retried, reads go on, nothing lost', async () => {
      const { config, dir } = faultConfig(newDatabase('zk_down'));
      const ctx = testContext('clickhouse', { configDir: dir });
      const exporter = new ClickhouseExporter(config, ctx);
      await exporter.start();
      let readDuringOutage = '';
      const acked = await stream(exporter, async () => {
        await sleep(800);
        await clusterCtl('kill', 'zk');
        await sleep(1500);
        readDuringOutage = await runReport(config, { from: '2026-11-01', to: '2026-12-01', groupBy: [], format: 'csv' }, { configDir: '.' });
        await sleep(3500);
        await clusterCtl('start');
      }, false);
      await finish(exporter, config.database);
      expect(readDuringOutage).toMatch(/^calls,/);
      const retried = ctx.logs.filter((l) => l.msg === 'batch send failed; retrying').map((l) => (l.err as { message: string }).message);
      expect(retried.some((m) => m.startsWith('ClickHouse cluster unavailable, retrying: TABLE_IS_READ_ONLY (242)'))).toBe(true);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total', { exporter: 'clickhouse' })).toBe(0);
      await expectExactlyOnce(config, acked);
    }, 90_000);

    it('(c) every batch sent twice, updates among them: stored twice, counted once', async () => {
      const { config, dir } = faultConfig(newDatabase('twice'));
      const ctx = testContext('clickhouse', { configDir: dir });
      const exporter = new ClickhouseExporter(config, ctx);
      await exporter.start();
      const acked = await stream(exporter, () => sleep(1500), true);
      const late = range(0, acked).filter((i) => i % 10 === 0).map((i) => makeCall(i, { customer: 'late' }));
      await exporter.consume(batchOf({ updates: late }));
      await exporter.consume(batchOf({ updates: late }));
      await finish(exporter, config.database);
      const [raw] = await rows<{ n: string }>(client, `SELECT count() AS n FROM ${config.database}.llm_calls`);
      expect(Number(raw.n)).toBeGreaterThan(acked); // the duplicates are there; FINAL collapses them per shard
      await expectExactlyOnce(config, acked);
      const [c] = await rows<{ n: string }>(client, `SELECT count() AS n FROM ${config.database}.llm_calls FINAL WHERE customer = 'late'`);
      expect(Number(c.n)).toBe(late.length);
    }, 60_000);

    it('(d) two tokenledger processes migrating the same cluster at once, writing overlapping calls', async () => {
      const child = compileChild();
      const db = newDatabase('race');
      const runs = [0, 1].map((k) => {
        const { config, dir } = faultConfig(db);
        return runChild(child, { config, configDir: dir, from: k * 300, count: 600, batch: 50, pauseMs: 0 });
      });
      for (const r of runs) {
        await r.waitFor((lines) => lines.includes('done'), 60_000);
        expect(await r.exited).toBe(0);
        expect(r.stderr()).not.toMatch(/"level":"error"/);
      }
      const { config } = faultConfig(db);
      const [m] = await rows<{ versions: string[]; n: string }>(client, `SELECT arraySort(groupUniqArray(toString(version))) AS versions, count() AS n FROM ${db}.schema_migrations`);
      expect(m.versions).toEqual(MIGRATIONS.map((x) => String(x.version)));
      // Two records of a migration when both applied it at once (what runs here show), one when one came second.
      expect(Number(m.n)).toBeGreaterThanOrEqual(MIGRATIONS.length);
      expect(Number(m.n)).toBeLessThanOrEqual(2 * MIGRATIONS.length);
      for (const node of Object.keys(NODES) as Node[]) {
        const c = clusterClient(node);
        const tables = await rows<{ name: string }>(c, `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`);
        await c.close();
        expect(tables.map((t) => t.name)).toEqual(['llm_calls', 'llm_calls_daily', 'llm_calls_daily_local', 'llm_calls_local', 'reconciliation', 'reconciliation_local', 'schema_migrations']);
      }
      await syncReplicas(db, 'llm_calls_local');
      await syncReplicas(db, 'llm_calls_daily_local');
      await expectExactlyOnce(config, 900);
    }, 120_000);
  });
});
