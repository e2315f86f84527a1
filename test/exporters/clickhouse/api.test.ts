import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseSettings } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminResponse } from '../../../core/admin-routes.js';
import type { LlmCall } from '../../../core/llm-call.js';
import { defaults, type ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { openClient } from '../../../exporters/clickhouse/client.js';
import { ClickhouseExporter } from '../../../exporters/clickhouse/exporter.js';
import { boundsProblem } from '../../../exporters/clickhouse/api/routes.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { serviceAvailable } from '../../helpers/services.js';
import { makeCall, SERVER_URL, serverConfig, serverUp, testDatabase } from './helpers.js';

/**
 * The spend API of the clickhouse exporter, served from its routes as the admin server would,
 * against embedded chDB and against clickhouse-server (18.16 here: the other table layout).
 */

const serverIsUp = serviceAvailable('clickhouse-server', await serverUp(), `nothing answers on ${SERVER_URL}/ping`);
const dir = mkdtempSync(join(tmpdir(), 'tl-api-'));
const embedded = (): ClickhouseConfig => ({
  ...defaults, mode: 'embedded', path: join(dir, 'clickhouse'), database: testDatabase('api'), rollup_refresh: '100s',
  batch: { max_rows: 500, max_delay: '20ms' }, queue: { type: 'memory', path: '', max_bytes: 64 << 20 },
});

const TARGETS = [
  { name: 'embedded chDB', config: embedded, run: true },
  { name: `clickhouse-server at ${SERVER_URL}`, config: () => serverConfig(testDatabase('api')), run: serverIsUp },
];

/** 60 calls over three days, teams and models, plus what makes the other endpoints say something. */
function traffic(): { calls: LlmCall[]; updates: LlmCall[]; final: LlmCall[] } {
  const calls = Array.from({ length: 60 }, (_, i) => makeCall(i));
  const unpriced = [60, 61, 62].map((i) => makeCall(i, { model: 'mystery-1', provider: 'acme', model_raw: `acme/mystery-1-v${i % 2}`, cost_usd: 0, price_ref: '', reported_cost_usd: null }));
  const failedBeforeTheModel = makeCall(63, { model: 'mystery-2', input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_5m_tokens: 0, cost_usd: 0, price_ref: '', status: 'error', error_type: 'timeout' });
  const overridden = [64, 65].map((i) => makeCall(i, { model: 'claude-sonnet-5-5', price_ref: 'override:sonnet-5-5', reported_cost_usd: null }));
  // A second source's report of call 7 moves it to another team: the newest version counts.
  const updates = [makeCall(7, { team: 'moved' })];
  const all = [...calls, ...unpriced, failedBeforeTheModel, ...overridden];
  const final = all.map((c) => updates.find((u) => u.call_id === c.call_id) ?? c);
  return { calls: all, updates, final };
}

function sumBy(calls: LlmCall[], key: (c: LlmCall) => string): Map<string, { calls: number; cost: number }> {
  const m = new Map<string, { calls: number; cost: number }>();
  for (const c of calls) {
    const g = m.get(key(c)) ?? { calls: 0, cost: 0 };
    g.calls++;
    g.cost += c.cost_usd;
    m.set(key(c), g);
  }
  return m;
}

for (const target of TARGETS) {
  describe.skipIf(!target.run)(`spend API on ${target.name}`, () => {
    const ctx = testContext('clickhouse');
    let exporter: ClickhouseExporter;
    let config: ClickhouseConfig;
    const { calls, updates, final } = traffic();
    const RANGE = 'from=2026-11-01&to=2026-12-01';

    async function get(path: string, headers: Record<string, string> = {}): Promise<AdminResponse & { json: () => any }> {
      const url = new URL(path, 'http://admin');
      const handler = ctx.host.adminRoutes.find(url.pathname);
      expect(handler, url.pathname).toBeDefined();
      const res = await handler!({ url, headers });
      return { ...res, json: () => JSON.parse(String(res.body)) };
    }

    beforeAll(async () => {
      config = target.config();
      exporter = new ClickhouseExporter(config, ctx);
      const early = await get(`/api/v1/spend?${RANGE}`);
      expect(early.status).toBe(503);
      expect(early.json().error).toContain('not running');
      await exporter.start();
      await exporter.consume(batchOf({ calls }));
      await exporter.consume(batchOf({ calls: calls.slice(0, 20) })); // re-sent after a timeout
      await exporter.consume(batchOf({ calls: [], updates }));
      await exporter.flush();
    }, 120_000);

    afterAll(async () => {
      await exporter?.shutdown();
      if (config.mode === 'server') {
        const client = createClient({ url: SERVER_URL });
        await client.command({ query: `DROP DATABASE IF EXISTS ${config.database}` });
        await client.close();
      }
    });

    it('sums each call once, in its newest version, per group and under filters', async () => {
      const res = await get(`/api/v1/spend?${RANGE}&group_by=team`);
      expect(res.status).toBe(200);
      expect(res.contentType).toBe('application/json');
      const body = res.json();
      expect(body).toMatchObject({ from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', group_by: ['team'], next_cursor: null });
      const want = sumBy(final, (c) => c.team);
      expect(body.rows.map((r: { team: string }) => r.team)).toEqual([...want.keys()].sort());
      for (const r of body.rows) {
        expect(r.calls, r.team).toBe(want.get(r.team)!.calls);
        expect(r.cost_usd, r.team).toBeCloseTo(want.get(r.team)!.cost, 9);
      }
      const filtered = (await get(`/api/v1/spend?${RANGE}&group_by=day,model&team=search&provider=anthropic`)).json();
      const wantFiltered = sumBy(final.filter((c) => c.team === 'search' && c.provider === 'anthropic'), (c) => `${c.timestamp.slice(0, 10)} ${c.model}`);
      expect(filtered.rows.map((r: { day: string; model: string }) => `${r.day} ${r.model}`)).toEqual([...wantFiltered.keys()].sort());
      const total = (await get(`/api/v1/spend?${RANGE}`)).json().rows;
      expect(total).toHaveLength(1);
      expect(total[0].calls).toBe(final.length);
      expect((await get('/api/v1/spend?from=2026-10-01&to=2026-11-01')).json().rows).toEqual([]);
    });

    it('pages by cursor without overlap or gap, by keys and by cost', async () => {
      for (const sort of ['keys', 'cost']) {
        const whole = (await get(`/api/v1/spend?${RANGE}&group_by=user,model&sort=${sort}`)).json().rows;
        expect(whole.length).toBeGreaterThan(5);
        const paged: unknown[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const res = await get(`/api/v1/spend?${RANGE}&group_by=user,model&sort=${sort}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
          const body = res.json();
          expect(res.headers?.['x-next-cursor'] ?? null).toBe(body.next_cursor);
          paged.push(...body.rows);
          cursor = body.next_cursor;
          pages++;
        } while (cursor !== null);
        expect(paged, sort).toEqual(whole);
        expect(pages).toBe(Math.ceil(whole.length / 3));
        if (sort === 'cost') for (let i = 1; i < whole.length; i++) expect(whole[i - 1].cost_usd).toBeGreaterThanOrEqual(whole[i].cost_usd);
      }
    });

    it('answers CSV for format=csv or Accept: text/csv', async () => {
      const json = (await get(`/api/v1/spend?${RANGE}&group_by=team`)).json().rows as { team: string; calls: number; cost_usd: number }[];
      for (const res of [await get(`/api/v1/spend?${RANGE}&group_by=team&format=csv`), await get(`/api/v1/spend?${RANGE}&group_by=team`, { accept: 'text/csv' })]) {
        expect(res.status).toBe(200);
        expect(res.contentType).toBe('text/csv; charset=utf-8');
        const lines = String(res.body).trim().split('\n');
        expect(lines[0]).toBe('team,calls,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd');
        expect(lines.slice(1).map((l) => l.split(',')).map((f) => [f[0], Number(f[1]), Number(f[6])])).toEqual(json.map((r) => [r.team, r.calls, r.cost_usd]));
      }
    });

    it('lists calls newest first, each once, paged by keyset, without attributes', async () => {
      const seen: Record<string, unknown>[] = [];
      let cursor: string | null = null;
      do {
        const body = (await get(`/api/v1/calls?${RANGE}&limit=7${cursor ? `&cursor=${cursor}` : ''}`)).json();
        seen.push(...body.calls);
        cursor = body.next_cursor;
      } while (cursor !== null);
      expect(seen.map((c) => c.call_id).sort()).toEqual(final.map((c) => c.call_id).sort());
      const order = seen.map((c) => `${c.timestamp as string} ${c.call_id as string}`);
      expect(order).toEqual([...order].sort().reverse());
      const seven = seen.find((c) => c.call_id === 'call-7')!;
      const { attributes, ...want } = { ...final.find((c) => c.call_id === 'call-7')!, timestamp: final.find((c) => c.call_id === 'call-7')!.timestamp.replace(/(\.\d{6})\d*Z$/, '$1Z') };
      expect(attributes).toBeDefined();
      expect(seven).toEqual(want);
      const errors = (await get(`/api/v1/calls?${RANGE}&status=error`)).json().calls;
      expect(errors.map((c: LlmCall) => c.call_id)).toEqual(['call-63']);
    });

    it('lists models that used tokens without a price, and drift between tokenledger\'s price and the reported one', async () => {
      const { models } = (await get(`/api/v1/unpriced?${RANGE}`)).json();
      expect(models).toHaveLength(1);
      expect(models[0]).toMatchObject({ model: 'mystery-1', provider: 'acme', model_raw: ['acme/mystery-1-v0', 'acme/mystery-1-v1'], calls: 3 });
      const { groups, threshold } = (await get(`/api/v1/drift?${RANGE}`)).json();
      expect(threshold).toBe(0.05);
      const sonnet = groups.find((g: { model: string; pricing: string }) => g.model === 'claude-sonnet-4-5' && g.pricing === 'list');
      const reported = final.filter((c) => c.model === 'claude-sonnet-4-5' && c.reported_cost_usd !== null);
      const mine = reported.reduce((s, c) => s + c.cost_usd, 0);
      const theirs = reported.reduce((s, c) => s + c.reported_cost_usd!, 0);
      expect(sonnet.reported_calls).toBe(reported.length);
      expect(sonnet.drift_ratio).toBeCloseTo((mine - theirs) / theirs, 9);
      expect(sonnet.warning).toBe(true);
      expect(groups.find((g: { model: string }) => g.model === 'claude-sonnet-5-5')).toMatchObject({ pricing: 'override', calls: 2, reported_calls: 0, drift_ratio: null, warning: false });
      expect(groups.find((g: { model: string }) => g.model === 'mystery-1')).toMatchObject({ pricing: 'none', warning: true });
      expect(groups.find((g: { model: string }) => g.model === 'mystery-2')).toMatchObject({ pricing: 'none', warning: false });
      expect((await get(`/api/v1/drift?${RANGE}&threshold=100`)).status).toBe(400);
    });

    it('refuses what it cannot answer with 400 and the reason', async () => {
      const cases: [string, string][] = [
        ['/api/v1/spend?from=yesterday', 'from="yesterday" is not a date'],
        ['/api/v1/spend?from=2026-11-05&to=2026-11-01', 'is not after from'],
        ['/api/v1/spend?from=2020-01-01&to=2026-01-01', 'covers 2192 days; one request may cover at most 366'],
        [`/api/v1/spend?${RANGE}&group_by=team,colour`, 'cannot group by "colour"'],
        [`/api/v1/spend?${RANGE}&group_by=team,team`, 'names a key twice'],
        [`/api/v1/spend?${RANGE}&tema=search`, 'unknown parameter "tema"'],
        [`/api/v1/spend?${RANGE}&team=a&team=b`, 'team is given more than once'],
        [`/api/v1/spend?${RANGE}&limit=0`, 'limit="0": a whole number from 1 to 10000'],
        [`/api/v1/spend?${RANGE}&cursor=not-ours`, 'is not one this API gave out'],
        [`/api/v1/spend?${RANGE}&sort=price`, 'sort="price"'],
        [`/api/v1/spend?${RANGE}&format=xml`, 'format="xml": use json or csv'],
        [`/api/v1/calls?${RANGE}&cursor=${Buffer.from('{"us":"1; DROP","id":"x"}').toString('base64url')}`, 'is not one this API gave out'],
        [`/api/v1/unpriced?${RANGE}&limit=5`, 'unknown parameter "limit"'],
      ];
      const before = await metricValue(ctx.registry, 'tokenledger_api_requests_total', { exporter: 'clickhouse', endpoint: 'spend', code: '400' });
      for (const [path, reason] of cases) {
        const res = await get(path);
        expect(res.status, path).toBe(400);
        expect(res.json().error, path).toContain(reason);
      }
      // Each answer is counted, on the short path and the exporter's own alike.
      expect(await metricValue(ctx.registry, 'tokenledger_api_requests_total', { exporter: 'clickhouse', endpoint: 'spend', code: '400' })).toBe(before + 11);
    });

    it('turns the errors of a query stopped by its bounds into 400 or 503 with what to do', async () => {
      // The real errors of this engine for each bound, lowered so that a tiny query reaches it
      // (as the API sends them: in the query, and to a server as request settings too).
      const conn = await openClient(config, dir);
      const embeddedMode = config.mode === 'embedded';
      const failure = async (query: string, settings: ClickHouseSettings): Promise<unknown> => conn.client.query({ query: `${query} SETTINGS ${Object.entries(settings).map(([k, v]) => `${k} = ${/^\d+$/.test(String(v)) ? String(v) : `'${String(v)}'`}`).join(', ')}`, format: 'JSONEachRow', ...(embeddedMode ? {} : { clickhouse_settings: settings }) })
        .then(async (rs) => { await rs.json(); return undefined; }, (err: unknown) => err);
      try {
        const groups = await failure('SELECT number FROM numbers(1000) GROUP BY number', { max_rows_to_group_by: '10', group_by_overflow_mode: 'throw' });
        expect(boundsProblem(groups)).toEqual([400, 'more than 100000 groups: narrow the range or the filters, or group by fewer keys']);
        const slow = await failure('SELECT count() FROM numbers(100000000000) WHERE NOT ignore(sipHash64(number))', { max_execution_time: 1 });
        expect(boundsProblem(slow)?.[0], String(slow)).toBe(503);
        const big = await failure('SELECT count() FROM (SELECT number FROM numbers(5000000) GROUP BY number)', { max_memory_usage: '10000000' });
        expect(boundsProblem(big), String(big)).toEqual([503, 'the query needed more memory than it may use: narrow the range or the filters']);
        expect(boundsProblem(await failure('SELECT nonsense(', {}))).toBeUndefined();
      } finally {
        await conn.close();
      }
    }, 60_000);

    it('serves the same endpoints under the exporter\'s own path', async () => {
      const a = (await get(`/api/v1/spend?${RANGE}&group_by=model`)).json().rows;
      const b = (await get(`/api/v1/exporters/clickhouse/spend?${RANGE}&group_by=model`)).json().rows;
      expect(b).toEqual(a);
    });
  });
}
