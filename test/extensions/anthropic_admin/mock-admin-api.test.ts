import { afterEach, describe, expect, it } from 'vitest';
import { MockAdminApi } from '../../helpers/anthropic-admin-mock.js';

const KEY = 'sk-ant-admin01-mock-test';
const MODEL = 'claude-sonnet-4-5-20250929';
const PRICES = { [MODEL]: { input_tokens: 3, output_tokens: 15, cache_read_tokens: 0.3, cache_write_5m_tokens: 3.75, cache_write_1h_tokens: 6 } };
const T0 = Date.parse('2026-11-01T00:00:00Z');
const HOUR = 3_600_000;

let mock: MockAdminApi;
afterEach(async () => { await mock?.close(); });

async function get(path: string, params: [string, string][], headers: Record<string, string> = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' }): Promise<{ status: number; body: any }> {
  const url = new URL(path, mock.url);
  for (const [k, v] of params) url.searchParams.append(k, v);
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json() };
}

/** The mock is the oracle of the reconciliation tests: its own answers must add up whatever the grouping. */
describe('mock Admin API', () => {
  async function start(): Promise<void> {
    mock = await new MockAdminApi({ adminKey: KEY, prices: PRICES, now: () => T0 + 30 * HOUR }).start();
    for (let i = 0; i < 12; i++) {
      mock.calls.push({
        atMs: T0 + i * 2 * HOUR + 60_000, model: MODEL, api_key_id: i % 3 ? `apikey_${i % 3}` : null, workspace_id: i % 2 ? 'wrkspc_a' : null,
        service_tier: i % 4 === 0 ? 'batch' : 'standard', context_window: i % 5 === 0 ? '200k-1M' : '0-200k', inference_geo: i % 2 ? 'us' : 'global',
        tokens: { input_tokens: 10 * i, output_tokens: i, cache_read_tokens: 100, cache_write_5m_tokens: 7, cache_write_1h_tokens: 0 },
      });
    }
  }
  const day: [string, string][] = [['starting_at', '2026-11-01T05:13:00Z'], ['ending_at', '2026-11-03T00:00:00Z']];

  it('sums to the same totals under every group_by, nulls where not grouped and for the default workspace and keyless usage', async () => {
    await start();
    const totals = new Set<string>();
    for (const g of [[], ['model'], ['api_key_id'], ['workspace_id'], ['service_tier'], ['context_window'], ['inference_geo'], ['model', 'api_key_id', 'workspace_id', 'service_tier', 'context_window', 'inference_geo']]) {
      const { status, body } = await get('/v1/organizations/usage_report/messages', [...day, ...g.map((x): [string, string] => ['group_by[]', x])]);
      expect(status).toBe(200);
      // starting_at snapped to the day; the current day (now is 06:00 on the 2nd) is there, partial: no call yet
      expect(body.data.map((b: any) => [b.starting_at, b.ending_at, b.results.length])).toEqual([['2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', expect.any(Number)], ['2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z', 0]]);
      const results = body.data[0].results;
      totals.add(JSON.stringify(results.reduce((s: number[], r: any) => [s[0] + r.uncached_input_tokens, s[1] + r.output_tokens, s[2] + r.cache_read_input_tokens, s[3] + r.cache_creation.ephemeral_5m_input_tokens], [0, 0, 0, 0])));
      if (!g.includes('workspace_id')) expect(results.every((r: any) => r.workspace_id === null)).toBe(true);
      if (g.includes('workspace_id')) expect(results.some((r: any) => r.workspace_id === null)).toBe(true);
      if (g.includes('api_key_id')) expect(results.some((r: any) => r.api_key_id === null)).toBe(true);
    }
    expect([...totals]).toEqual([JSON.stringify([660, 66, 1200, 84])]);
  });

  it('pages 1h buckets by limit with next_page, and returns the current hour only once it is over', async () => {
    await start();
    const params: [string, string][] = [['starting_at', '2026-11-01T00:00:00Z'], ['bucket_width', '1h'], ['limit', '10']];
    const starts: string[] = [];
    let page: string | null = null;
    do {
      const { body }: { body: any } = await get('/v1/organizations/usage_report/messages', page ? [...params, ['page', page]] : params);
      starts.push(...body.data.map((b: any) => b.starting_at));
      page = body.has_more ? body.next_page : null;
    } while (page);
    expect(starts).toHaveLength(30);
    expect(starts.at(-1)).toBe('2026-11-02T05:00:00Z');
  });

  it('prices cost items in cents as decimal strings, by token type, with tiers and context windows', async () => {
    await start();
    const { body } = await get('/v1/organizations/cost_report', [...day, ['group_by[]', 'description']]);
    const items = body.data[0].results;
    const cents = items.reduce((s: number, r: any) => s + Number(r.amount), 0);
    // 660 input × $3 + 66 output × $15 + 1200 cache reads × $0.30 + 84 5m writes × $3.75, per million, in cents
    expect(cents).toBeCloseTo((660 * 3 + 66 * 15 + 1200 * 0.3 + 84 * 3.75) / 1e4, 12);
    expect(new Set(items.map((r: any) => r.token_type))).toEqual(new Set(['uncached_input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation.ephemeral_5m_input_tokens']));
    expect(new Set(items.map((r: any) => r.service_tier))).toEqual(new Set(['standard', 'batch']));
    expect(items.every((r: any) => r.currency === 'USD' && typeof r.amount === 'string' && r.cost_type === 'tokens')).toBe(true);
  });

  it('refuses what the API refuses: a wrong key, no version header, a bad group_by, limit or bucket width', async () => {
    await start();
    expect((await get('/v1/organizations/cost_report', day, { 'x-api-key': 'nope', 'anthropic-version': '2023-06-01' })).status).toBe(401);
    expect((await get('/v1/organizations/cost_report', day, { 'x-api-key': KEY })).status).toBe(400);
    expect((await get('/v1/organizations/cost_report', [...day, ['group_by[]', 'model']])).body.error.type).toBe('invalid_request_error');
    expect((await get('/v1/organizations/cost_report', [...day, ['bucket_width', '1h']])).status).toBe(400);
    expect((await get('/v1/organizations/usage_report/messages', [...day, ['limit', '32']])).status).toBe(400);
  });
});
