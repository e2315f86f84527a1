import type { ClickHouseClient } from '@clickhouse/client';
import { expect, it } from 'vitest';
import { ClickhouseExporter } from '../../../exporters/clickhouse/exporter.js';
import type { ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { runReport } from '../../../exporters/clickhouse/report.js';
import { MIGRATIONS } from '../../../exporters/clickhouse/schema.js';
import { zeroTokens, type ReconciliationRow } from '../../../core/reconciliation.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { expectedCost, makeCall, rows, totals } from './helpers.js';

export interface Target {
  config: ClickhouseConfig;
  /** A client on the same data (for embedded: the same path, which one process may share). */
  client: ClickHouseClient;
  /** Server generation under test: decides the expected column types. */
  modern: boolean;
}

const ids = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** The behaviour both an embedded chDB and a clickhouse-server must show; one database per call. */
export function storeSuite(target: () => Target): void {
  async function withExporter<T>(cfg: ClickhouseConfig, fn: (e: ClickhouseExporter, ctx: ReturnType<typeof testContext>) => Promise<T>): Promise<T> {
    const ctx = testContext('clickhouse');
    const e = new ClickhouseExporter(cfg, ctx);
    await e.start();
    let result: T;
    try {
      result = await fn(e, ctx);
    } finally {
      await e.shutdown();
    }
    expect(ctx.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    return result;
  }

  it('stores one row per call with the right column types and values', async () => {
    const { config, client, modern } = target();
    const db = config.database;
    await withExporter(config, async (e, ctx) => {
      await e.consume(batchOf({ calls: ids(0, 30).map((i) => makeCall(i)) }));
      await e.flush();
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_sent_rows_total', { exporter: 'clickhouse' })).toBe(30);
    });
    const types = Object.fromEntries((await rows<{ name: string; type: string }>(client, `SELECT name, type FROM system.columns WHERE database = '${db}' AND table = 'llm_calls'`)).map((c) => [c.name, c.type]));
    expect(types.call_id).toBe('String');
    expect(types.input_tokens).toBe('UInt64');
    expect(types.cost_usd).toBe('Float64');
    expect(types.reported_cost_usd).toBe('Nullable(Float64)');
    expect(types.tags).toBe('Array(String)');
    if (modern) {
      expect(types.timestamp).toBe("DateTime64(6, 'UTC')");
      expect(types.dimensions).toBe('Map(String, String)');
      expect(types.team).toBe('LowCardinality(String)');
      expect(types.streaming).toBe('Bool');
    } else {
      expect(types.timestamp).toBe("DateTime('UTC')");
      expect(types.timestamp_us).toBe('UInt32');
      expect(types.dimensions_keys).toBe('Array(String)');
      expect(types.team).toBe('String');
      expect(types.streaming).toBe('UInt8');
    }
    const dims = modern ? "dimensions['project'] AS project" : "dimensions_values[indexOf(dimensions_keys, 'project')] AS project";
    const ts = modern ? 'toString(timestamp) AS ts' : "concat(toString(timestamp), '.', substring(toString(1000000 + timestamp_us), 2)) AS ts";
    const [r] = await rows<Record<string, unknown>>(client,
      `SELECT call_id, ${ts}, team, customer, model, provider, input_tokens, cache_read_tokens, cost_usd, reported_cost_usd, ttft_ms, streaming, tags, ${dims} FROM ${db}.llm_calls FINAL WHERE call_id = 'call-5'`);
    expect(r).toMatchObject({ call_id: 'call-5', ts: '2026-11-22 10:05:05.123456', team: '', customer: 'c1', model: 'claude-sonnet-4-5', provider: 'anthropic', cost_usd: 0.006, reported_cost_usd: 0.5, ttft_ms: 321, tags: ['a', 't2'], project: 'p1' });
    expect(Number(r.input_tokens)).toBe(105);
    expect(Number(r.cache_read_tokens)).toBe(1000);
    expect([false, 0]).toContain(r.streaming);
    expect(await totals(client, db)).toEqual({ n: 30, ids: 30, cost: expect.closeTo(expectedCost(ids(0, 30)), 9) });
  });

  it('sending every batch twice stores each acknowledged call once, by count and by cost', async () => {
    const { config, client } = target();
    await withExporter(config, async (e) => {
      for (let b = 0; b < 5; b++) {
        const batch = batchOf({ calls: ids(b * 40, 40).map((i) => makeCall(i)) });
        await e.consume(batch);
        await e.consume(batch);
      }
      await e.flush();
    });
    const t = await totals(client, config.database);
    expect(t).toEqual({ n: 200, ids: 200, cost: expect.closeTo(expectedCost(ids(0, 200)), 9) });
    // The README's FINAL-free alternative agrees.
    const argMax = await rows<{ team: string; cost: number }>(client, `SELECT t AS team, sum(c) AS cost FROM (
      SELECT argMax(team, ingest_version) AS t, argMax(cost_usd, ingest_version) AS c
      FROM ${config.database}.llm_calls WHERE timestamp >= toDateTime('2026-11-01 00:00:00', 'UTC') AND timestamp < toDateTime('2026-12-01 00:00:00', 'UTC')
      GROUP BY call_id) GROUP BY t ORDER BY t`);
    expect(argMax.map((r) => r.team)).toEqual(['', 'ads', 'search']);
    expect(argMax.reduce((a, r) => a + Number(r.cost), 0)).toBeCloseTo(expectedCost(ids(0, 200)), 9);
  });

  it('an update replaces the call it enriches: no second billable row, the rollup follows the new team', async () => {
    const { config, client } = target();
    const db = config.database;
    await withExporter(config, async (e) => {
      await e.consume(batchOf({ calls: [makeCall(2, { team: '' }), makeCall(3)] }));
      await e.flush();
      await e.consume(batchOf({ updates: [makeCall(2, { team: 'late', session_id: 's-1' })] }));
      await e.flush();
    });
    expect(await totals(client, db)).toEqual({ n: 2, ids: 2, cost: expect.closeTo(0.003 + 0.004, 9) });
    const [r] = await rows<{ team: string; session_id: string }>(client, `SELECT team, session_id FROM ${db}.llm_calls FINAL WHERE call_id = 'call-2'`);
    expect(r).toEqual({ team: 'late', session_id: 's-1' });
    const daily = await rows<{ team: string; calls: string }>(client, `SELECT team, calls FROM ${db}.llm_calls_daily FINAL WHERE calls > 0 ORDER BY team`);
    expect(daily.map((d) => [d.team, Number(d.calls)])).toEqual([['late', 1], ['search', 1]]);
  });

  it('rows take the versions the batch carries: an update delivered before the call it replaces still wins (two replicas, out of order)', async () => {
    const { config, client } = target();
    const db = config.database;
    const at = Date.now() * 1000;
    await withExporter(config, async (e) => {
      // Replica A merged the gateway's report (version at + 2); replica B's queue delivers the first report (at + 1) after it.
      await e.consume(batchOf({ updates: [makeCall(2, { team: 'late', customer: 'acme' })], updateVersions: [at + 2] }));
      await e.flush();
      await e.consume(batchOf({ calls: [makeCall(2, { team: '', customer: '' }), makeCall(3)], callVersions: [at + 1, at + 1] }));
      await e.flush();
    });
    const got = await Promise.all([2, 3].map(async (i) => (await rows<{ call_id: string; team: string; customer: string; v: string }>(client,
      `SELECT call_id, team, customer, toString(ingest_version) AS v FROM ${db}.llm_calls FINAL WHERE call_id = 'call-${i}'`))[0]));
    expect(got).toEqual([
      { call_id: 'call-2', team: 'late', customer: 'acme', v: String(at + 2) },
      { call_id: 'call-3', team: 'search', customer: 'c1', v: String(at + 1) },
    ]);
  });

  it('the daily rollup equals the deduplicated calls table, group by group', async () => {
    const { config, client } = target();
    const db = config.database;
    await withExporter(config, async (e) => {
      const all = ids(0, 300).map((i) => makeCall(i));
      await e.consume(batchOf({ calls: all.slice(0, 200) }));
      await e.consume(batchOf({ calls: all.slice(100, 300) })); // overlapping re-send
      await e.consume(batchOf({ updates: all.slice(0, 50).map((c) => ({ ...c, customer: 'acme' })) }));
      await e.flush();
    });
    const base = await rows<Record<string, unknown>>(client,
      `SELECT toString(toDate(timestamp, 'UTC')) AS day, team, customer, provider, model, count() AS calls, sum(input_tokens) AS input_tokens, sum(cache_read_tokens) AS cache_read_tokens, round(sum(cost_usd), 9) AS cost FROM ${db}.llm_calls FINAL GROUP BY day, team, customer, provider, model ORDER BY day, team, customer, provider, model`);
    const daily = await rows<Record<string, unknown>>(client,
      `SELECT toString(day) AS day, team, customer, provider, model, calls, input_tokens, cache_read_tokens, round(cost_usd, 9) AS cost FROM ${db}.llm_calls_daily FINAL WHERE calls > 0 ORDER BY day, team, customer, provider, model`);
    expect(base.length).toBeGreaterThan(10);
    expect(daily).toEqual(base);
  });

  it('provides a spend store: cost by label over a time range, duplicates counted once', async () => {
    const { config } = target();
    await withExporter(config, async (e, ctx) => {
      const calls = ids(0, 60).map((i) => makeCall(i));
      await e.consume(batchOf({ calls }));
      await e.consume(batchOf({ calls }));
      await e.flush();
      const store = ctx.host.get('spendStore');
      if (!store) throw new Error('no spendStore provided');
      const from = Date.parse('2026-11-20T00:00:00Z');
      const to = Date.parse('2026-11-23T00:00:00Z');
      const byTeam = await store.spendBy({ fromMs: from, toMs: to, groupBy: 'team', where: {} });
      const want = (pred: (i: number) => boolean): number => expectedCost(ids(0, 60).filter(pred));
      expect(byTeam.get('search')).toBeCloseTo(want((i) => i % 3 === 0), 9);
      expect(byTeam.get('ads')).toBeCloseTo(want((i) => i % 3 === 1), 9);
      const byProject = await store.spendBy({ fromMs: from, toMs: to, groupBy: 'project', where: { customer: 'c0' } });
      expect(byProject.get('p0')).toBeCloseTo(want((i) => i % 2 === 0), 9);
      expect(byProject.has('p1')).toBe(false);
      // Millisecond bounds: call-1 is at 2026-11-21T10:01:05.123456Z.
      const edge = Date.parse('2026-11-21T10:01:05.123Z');
      const one = await store.spendBy({ fromMs: edge, toMs: edge + 1, groupBy: 'model', where: { user: 'u1' } });
      expect([...one.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(0.002, 9);
      const none = await store.spendBy({ fromMs: edge + 1, toMs: edge + 1000, groupBy: 'model', where: { user: 'u1' } });
      expect(none.size).toBe(0);
    });
  });

  it('report prints the spend of a fixture data set by day and team, in table, CSV and JSON', async () => {
    const { config } = target();
    await withExporter(config, async (e) => {
      const calls = ids(0, 90).map((i) => makeCall(i));
      await e.consume(batchOf({ calls }));
      await e.consume(batchOf({ calls: calls.slice(0, 30) }));
      await e.consume(batchOf({ calls: [makeCall(1000, { timestamp: '2026-11-23T00:00:00.000Z' })] })); // outside [from, to)
      await e.flush();
    });
    const opts = { from: '2026-11-20', to: '2026-11-23' } as const;
    const json = JSON.parse(await runReport(config, { ...opts, groupBy: ['day', 'team'], format: 'json' }, { configDir: '.' })) as Record<string, unknown>[];
    // Day d (20 + i % 3) and team (['search', 'ads', ''][i % 3]) go together in the fixture.
    expect(json).toEqual([0, 1, 2].map((k) => {
      const mine = ids(0, 90).filter((i) => i % 3 === k);
      return {
        day: `2026-11-${20 + k}`, team: ['search', 'ads', ''][k], calls: 30,
        input_tokens: mine.reduce((a, i) => a + 100 + i, 0), output_tokens: 1500, cache_read_tokens: 30_000, cache_write_tokens: 300,
        cost_usd: expect.closeTo(expectedCost(mine), 9),
      };
    }));
    const table = await runReport(config, { ...opts, groupBy: ['model'], format: 'table' }, { configDir: '.' });
    expect(table.split('\n')[0]).toMatch(/^model\s+calls\s+input_tokens\s+output_tokens\s+cache_read_tokens\s+cache_write_tokens\s+cost_usd$/);
    expect(table).toMatch(new RegExp(`\\nTOTAL\\s+90\\s+.*\\s${expectedCost(ids(0, 90)).toFixed(6)}\\n$`));
    expect(table).toMatch(/\nclaude-sonnet-4-5\s+68\s/);
    const csv = await runReport(config, { ...opts, groupBy: [], format: 'csv' }, { configDir: '.' });
    expect(csv).toBe(`calls,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd\n90,${ids(0, 90).reduce((a, i) => a + 100 + i, 0)},4500,90000,900,${expectedCost(ids(0, 90)).toFixed(6)}\n`);
  });

  it('on start, repairs rollup days that disagree with the calls table (a refresh lost to a crash)', async () => {
    const { config, client } = target();
    const db = config.database;
    await withExporter(config, async (e) => {
      await e.consume(batchOf({ calls: ids(0, 30).map((i) => makeCall(i)) }));
      await e.flush();
    });
    // A group the calls table does not have, written by the latest refresh so far: as if the
    // refresh after an update that moved those calls elsewhere had been lost to a crash.
    await client.command({ query: `INSERT INTO ${db}.llm_calls_daily (day, team, customer, provider, model, calls, cost_usd, refresh_version) VALUES (toDate('2026-11-20'), 'ghost', '', '', '', 5, 1.5, ${Date.now() * 1000})` });
    const daily = async (): Promise<{ calls: number; cost: number }> => {
      const [r] = await rows<{ n: string; cost: number }>(client, `SELECT sum(calls) AS n, sum(cost_usd) AS cost FROM ${db}.llm_calls_daily FINAL WHERE calls > 0`);
      return { calls: Number(r.n), cost: Number(r.cost) };
    };
    expect((await daily()).calls).toBe(35);
    await withExporter(config, async (e) => { await e.flush(); });
    expect(await daily()).toEqual({ calls: 30, cost: expect.closeTo(expectedCost(ids(0, 30)), 9) });
    // The second start found every migration recorded and applied none again.
    const migrations = await rows<{ version: number }>(client, `SELECT version FROM ${db}.schema_migrations ORDER BY version`);
    expect(migrations.map((m) => Number(m.version))).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('keeps every reconciliation run written after calls were stored: nothing of the calls insert carries over to later inserts', async () => {
    const { config } = target();
    const run = (day: string, cost: number): ReconciliationRow => ({
      day, provider: 'anthropic', model: 'claude-sonnet-4-5', team: '', status: 'final', ledger_calls: 3, ledger: zeroTokens(), reported: zeroTokens(),
      ledger_cost_usd: cost, reported_cost_usd: cost, drift_usd: 0, drift_ratio: 0, unmatched_cost_usd: 0, price_drift_usd: 0, explanation: '', reconciled_at: '2026-11-25T00:00:00Z',
    });
    await withExporter(config, async (e, ctx) => {
      await e.consume(batchOf({ calls: ids(0, 9).map((i) => makeCall(i)) }));
      await e.flush();
      const store = ctx.host.get('reconciliationStore');
      if (!store) throw new Error('no reconciliationStore provided');
      // Runs with no call stored in between (an idle ledger reconciled every interval), all in one month.
      await store.write([run('2026-11-20', 1)]);
      await store.write([run('2026-11-21', 2)]);
      await store.write([run('2026-11-20', 3)]);
      const stored = await store.read('2026-11-01', '2026-12-01');
      expect(stored.map((r) => [r.day, r.ledger_cost_usd])).toEqual([['2026-11-20', 3], ['2026-11-21', 2]]);
    });
  });

  it('drops a call that cannot be stored, counts it, and stores the rest of the batch', async () => {
    const { config, client } = target();
    const ctx = testContext('clickhouse');
    const e = new ClickhouseExporter(config, ctx);
    await e.start();
    await e.consume(batchOf({ calls: [makeCall(1), makeCall(2, { output_tokens: -5 }), makeCall(3, { call_id: '' })] }));
    await e.flush();
    await e.shutdown();
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total', { exporter: 'clickhouse' })).toBe(2);
    expect(ctx.logs.filter((l) => l.msg === 'call dropped: it cannot be stored').map((l) => l.reason)).toEqual(['output_tokens -5 is not a non-negative integer', 'call_id is empty']);
    expect((await totals(client, config.database)).n).toBe(1);
  });

  it('ttl_days becomes a table TTL where the server has TTL, and a warning where it has not', async () => {
    const { config, client, modern } = target();
    const ctx = testContext('clickhouse');
    const e = new ClickhouseExporter({ ...config, ttl_days: 3650 }, ctx);
    await e.start();
    await e.shutdown();
    const [{ ddl }] = await rows<{ ddl: string }>(client, `SELECT create_table_query AS ddl FROM system.tables WHERE database = '${config.database}' AND name = 'llm_calls'`);
    if (modern) expect(ddl).toMatch(/TTL toDateTime\(timestamp\) \+ (INTERVAL 3650 DAY|toIntervalDay\(3650\))/);
    else expect(ctx.logs.some((l) => l.level === 'warn' && String(l.msg).startsWith('ttl_days ignored'))).toBe(true);
  });

  it('a spend query first delivers what is still queued, so a backlog is counted', async () => {
    const { config } = target();
    await withExporter({ ...config, batch: { max_rows: 5000, max_delay: '1m' } }, async (e, ctx) => {
      await e.consume(batchOf({ calls: ids(0, 10).map((i) => makeCall(i)) }));
      const store = ctx.host.get('spendStore');
      if (!store) throw new Error('no spendStore provided');
      const spend = await store.spendBy({ fromMs: Date.parse('2026-11-01T00:00:00Z'), toMs: Date.parse('2026-12-01T00:00:00Z'), groupBy: 'key_alias', where: {} });
      expect(spend.get('k1')).toBeCloseTo(expectedCost(ids(0, 10)), 9);
    });
  });
}
