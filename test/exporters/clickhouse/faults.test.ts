import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClient } from '../../../exporters/clickhouse/client.js';
import { defaults, type ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { ClickhouseExporter } from '../../../exporters/clickhouse/exporter.js';
import { DiskQueue } from '../../../core/exporter-helper/disk-queue.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { serviceAvailable } from '../../helpers/services.js';
import { compileChild, runChild } from './child.js';
import { PrivateServer, expectedCost, clickhouseServerBinary, makeCall, serverConfig, totals } from './helpers.js';

const haveServer = serviceAvailable('clickhouse-server binary', clickhouseServerBinary() !== undefined, 'clickhouse-server is not installed (fault tests run private instances of it)');
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let child = '';
beforeAll(() => { child = compileChild(); });

/**
 * kill -9 of tokenledger mid-stream, then a restart: every call whose consume() resolved is in
 * ClickHouse exactly once. The one batch in flight at the kill may or may not have made it
 * (its acknowledgement was never seen), but never twice.
 */
async function killAndRestart(config: ClickhouseConfig, configDir: string): Promise<{ acked: number; total: number }> {
  const first = runChild(child, { config, configDir, from: 0, count: 100_000, batch: 25, pauseMs: 2 });
  await first.waitFor((lines) => lines.filter((l) => l.startsWith('ack ')).length >= 45, 20_000);
  first.proc.kill('SIGKILL');
  await first.exited;
  const acked = first.acked();
  // Batches of 200 rows: 45 acks of 25 leave at least 125 acknowledged rows that only the disk holds.
  const left = new DiskQueue(join(configDir, config.queue.path), config.queue.max_bytes);
  await left.open();
  expect(left.rows).toBeGreaterThanOrEqual(125);
  await left.close();
  const second = runChild(child, { config, configDir, from: 200_000, count: 100, batch: 25, pauseMs: 0 });
  await second.waitFor((lines) => lines.includes('done'), 30_000);
  expect(await second.exited).toBe(0);
  return { acked, total: acked + 100 };
}

function expectExactly(t: { n: number; ids: number; cost: number }, acked: number, inFlight: number): void {
  expect(t.ids).toBe(t.n); // no call twice
  const stored = [...range(0, t.n - 100), ...range(200_000, 200_100)];
  expect(t.n - 100 === acked || t.n - 100 === acked + inFlight).toBe(true); // nothing acknowledged lost
  expect(t.cost).toBeCloseTo(expectedCost(stored), 6);
}

describe('clickhouse exporter fault tolerance', () => {
  it('kill -9 mid-stream with the disk queue on embedded chDB: 0 lost, 0 duplicated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-kill-emb-'));
    const config: ClickhouseConfig = { ...defaults, mode: 'embedded', path: 'ch', queue: { type: 'disk', path: 'queue', max_bytes: 256 << 20 }, batch: { max_rows: 200, max_delay: '1m' } };
    const { acked } = await killAndRestart(config, dir);
    const conn = await openClient(config, dir);
    try {
      expectExactly(await totals(conn.client, 'tokenledger'), acked, 25);
    } finally {
      await conn.close();
    }
  }, 60_000);

  describe.skipIf(!haveServer)('with a private clickhouse-server', () => {
    const server = new PrivateServer();
    beforeAll(async () => { await server.start(); });
    afterAll(async () => { await server.kill(); });

    it('kill -9 mid-stream with the disk queue on clickhouse-server: 0 lost, 0 duplicated', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tl-kill-srv-'));
      const config = serverConfig('tl_kill', { url: server.url, queue: { type: 'disk', path: 'queue', max_bytes: 256 << 20 }, batch: { max_rows: 200, max_delay: '1m' } });
      const { acked } = await killAndRestart(config, dir);
      const client = createClient({ url: server.url });
      try {
        expectExactly(await totals(client, 'tl_kill'), acked, 25);
      } finally {
        await client.close();
      }
    }, 60_000);

    it('ClickHouse killed mid-stream and started again: every acknowledged call once, batches sent twice too', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tl-outage-'));
      const ctx = testContext('clickhouse');
      const config = serverConfig('tl_outage', {
        url: server.url, request_timeout: '2s', queue: { type: 'disk', path: 'queue', max_bytes: 256 << 20 },
        batch: { max_rows: 100, max_delay: '10ms' }, retry: { initial_interval: '50ms', max_interval: '300ms', max_elapsed: '0s' },
      });
      const exporter = new ClickhouseExporter(config, { ...ctx, configDir: dir });
      await exporter.start();
      let acked = 0;
      const t0 = Date.now();
      let outage: Promise<void> | undefined;
      for (let b = 0; Date.now() - t0 < 2500; b++) {
        const batch = batchOf({ calls: range(b * 20, b * 20 + 20).map((i) => makeCall(i)) });
        await exporter.consume(batch);
        await exporter.consume(batch); // a client re-sending after a timeout
        acked = b * 20 + 20;
        if (!outage && Date.now() - t0 > 500) outage = server.kill().then(() => sleep(1000)).then(() => server.start());
        await sleep(5);
      }
      await outage;
      await exporter.flush();
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_retries_total', { exporter: 'clickhouse' })).toBeGreaterThan(0);
      await exporter.shutdown();
      const client = createClient({ url: server.url });
      try {
        const t = await totals(client, 'tl_outage');
        expect(t).toEqual({ n: acked, ids: acked, cost: expect.closeTo(expectedCost(range(0, acked)), 6) });
      } finally {
        await client.close();
      }
    }, 60_000);
    it('ClickHouse down for two minutes under a steady stream, default retry settings: every acknowledged call once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tl-long-outage-'));
      const ctx = testContext('clickhouse');
      // The shipped retry settings (500 ms doubling to 30 s, never giving up): the backoff is at its
      // ceiling long before the server returns, which is what an hours-long outage looks like too.
      const config = serverConfig('tl_long_outage', { url: server.url, queue: { type: 'disk', path: 'queue', max_bytes: 256 << 20 } });
      const exporter = new ClickhouseExporter(config, { ...ctx, configDir: dir });
      await exporter.start();
      let acked = 0;
      const send = async (n: number) => {
        await exporter.consume(batchOf({ calls: range(acked, acked + n).map((i) => makeCall(i)) }));
        acked += n;
      };
      await send(20);
      await server.kill();
      const downUntil = Date.now() + 120_000;
      while (Date.now() < downUntil) {
        await send(10);
        await sleep(1000);
      }
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_queue_rows', { exporter: 'clickhouse' })).toBeGreaterThanOrEqual(1000);
      await server.start();
      await send(20);
      await exporter.flush();
      await exporter.shutdown();
      const client = createClient({ url: server.url });
      try {
        expect(await totals(client, 'tl_long_outage')).toEqual({ n: acked, ids: acked, cost: expect.closeTo(expectedCost(range(0, acked)), 6) });
      } finally {
        await client.close();
      }
    }, 240_000);

    it('starts while ClickHouse is down: calls are acknowledged from the queue and delivered once it is up', async () => {
      await server.kill();
      const dir = mkdtempSync(join(tmpdir(), 'tl-late-'));
      const ctx = testContext('clickhouse');
      const config = serverConfig('tl_late', { url: server.url, queue: { type: 'disk', path: 'queue', max_bytes: 256 << 20 } });
      const exporter = new ClickhouseExporter(config, { ...ctx, configDir: dir });
      await exporter.start();
      expect(ctx.logs.some((l) => l.level === 'warn' && String(l.msg).includes('not reachable at start'))).toBe(true);
      await exporter.consume(batchOf({ calls: range(0, 50).map((i) => makeCall(i)) }));
      await sleep(300);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_queue_rows', { exporter: 'clickhouse' })).toBe(50);
      await server.start();
      await exporter.flush();
      await exporter.shutdown();
      const client = createClient({ url: server.url });
      try {
        expect(await totals(client, 'tl_late')).toEqual({ n: 50, ids: 50, cost: expect.closeTo(expectedCost(range(0, 50)), 9) });
      } finally {
        await client.close();
      }
    }, 30_000);

    it('a row ClickHouse rejects as bad data is isolated and dropped, counted, never retried; the rest of its batch is stored', async () => {
      const ctx = testContext('clickhouse');
      const exporter = new ClickhouseExporter(serverConfig('tl_bad', { url: server.url }), ctx);
      await exporter.start();
      // Sabotage: a cost column that cannot hold a fraction, so exactly the calls with fractional cost fail to parse.
      const admin = createClient({ url: server.url });
      await admin.command({ query: 'ALTER TABLE tl_bad.llm_calls MODIFY COLUMN cost_usd UInt8' });
      const calls = range(0, 40).map((i) => makeCall(i, { cost_usd: i === 17 ? 0.5 : 1 }));
      await exporter.consume(batchOf({ calls }));
      const t0 = Date.now();
      await exporter.flush();
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total', { exporter: 'clickhouse' })).toBe(1);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_sent_rows_total', { exporter: 'clickhouse' })).toBe(39);
      expect(await metricValue(ctx.registry, 'tokenledger_exporter_retries_total', { exporter: 'clickhouse' })).toBe(0);
      expect(ctx.logs.filter((l) => l.msg === 'call rejected by ClickHouse; dropped').map((l) => l.call_id)).toEqual(['call-17']);
      await exporter.shutdown();
      const [r] = await (await admin.query({ query: 'SELECT count() AS n, uniqExact(call_id) AS ids FROM tl_bad.llm_calls FINAL', format: 'JSONEachRow' })).json<{ n: string; ids: string }>();
      expect([Number(r.n), Number(r.ids)]).toEqual([39, 39]);
      await admin.close();
    }, 30_000);
  });
});
