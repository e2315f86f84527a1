import { afterEach, describe, expect, it } from 'vitest';
import type { UsageRow } from '../../../core/host.js';
import { TOKEN_TYPES, type ReconciliationRow, type Tokens } from '../../../core/reconciliation.js';
import { AdminClient } from '../../../extensions/anthropic_admin/admin-client.js';
import { canonicalModel, compare, NON_TOKEN, UNMAPPED } from '../../../extensions/anthropic_admin/compare.js';
import type { CostResult, UsageResult } from '../../../extensions/anthropic_admin/api-shapes.js';
import type { TeamMapping } from '../../../extensions/anthropic_admin/config.js';
import { MockAdminApi, type BilledCall, type PriceTable } from '../../helpers/anthropic-admin-mock.js';

const KEY = 'sk-ant-admin01-compare-test';
const SONNET = 'claude-sonnet-4-5-20250929';
const HAIKU = 'claude-haiku-4-5-20251001';
const PRICES: PriceTable = {
  [SONNET]: { input_tokens: 3, output_tokens: 15, cache_read_tokens: 0.3, cache_write_5m_tokens: 3.75, cache_write_1h_tokens: 6 },
  [HAIKU]: { input_tokens: 1, output_tokens: 5, cache_read_tokens: 0.1, cache_write_5m_tokens: 1.25, cache_write_1h_tokens: 2 },
};
const D1 = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A sent call: what the provider bills (BilledCall) and what the ledger holds for it (its team and list-price cost). */
interface Sent { billed: BilledCall; team: string }

function tokens(i: number): Tokens {
  return { input_tokens: 100 + i, output_tokens: 20 + i, cache_read_tokens: i % 2 ? 3000 + i : 0, cache_write_5m_tokens: i % 3 ? 500 + i : 0, cache_write_1h_tokens: i % 4 === 0 ? 700 + i : 0 };
}

/** Two days × two models × keys (one mapped to a team, one not, one null) × workspaces (one, and the default null). */
function traffic(): Sent[] {
  const keys: [string | null, string][] = [['apikey_search', 'search'], ['apikey_other', 'ops'], [null, '']];
  const out: Sent[] = [];
  for (let i = 0; i < 24; i++) {
    const [key, team] = keys[i % 3];
    out.push({
      billed: { atMs: D1 + (i % 2) * DAY + (i + 1) * 1000 * 60, model: i % 4 === 1 ? HAIKU : SONNET, api_key_id: key, workspace_id: i % 2 ? 'wrkspc_ads' : null, tokens: tokens(i) },
      team,
    });
  }
  return out;
}

const costOf = (b: BilledCall): number => TOKEN_TYPES.reduce((s, t) => s + (b.tokens[t] * PRICES[b.model][t]) / 1e6, 0);

/** The ledger's usageBy answer for these calls: grouped by day × canonical model (× team). */
function ledgerRows(sent: Sent[], byTeam: boolean): UsageRow[] {
  const out = new Map<string, UsageRow>();
  for (const s of sent) {
    const keys: Record<string, string> = { day: new Date(s.billed.atMs).toISOString().slice(0, 10), model: canonicalModel(s.billed.model), ...(byTeam ? { team: s.team } : {}) };
    const k = JSON.stringify(keys);
    let r = out.get(k);
    if (!r) out.set(k, r = { keys, calls: 0, tokens: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0 }, cost_usd: 0 });
    r.calls++;
    for (const t of TOKEN_TYPES) r.tokens[t] += s.billed.tokens[t];
    r.cost_usd += costOf(s.billed);
  }
  return [...out.values()];
}

let mock: MockAdminApi;
afterEach(async () => { await mock?.close(); });

interface Run {
  billed: BilledCall[];
  ledger: Sent[];
  now?: number;
  lagMs?: number;
  priceFactor?: Record<string, number>;
  apiKeys?: Record<string, TeamMapping>;
  workspaces?: Record<string, TeamMapping>;
}

async function reconcile(r: Run): Promise<ReconciliationRow[]> {
  const now = r.now ?? D1 + 3 * DAY;
  mock = await new MockAdminApi({ adminKey: KEY, prices: PRICES, now: () => now, lagMs: r.lagMs, priceFactor: r.priceFactor }).start();
  mock.calls = r.billed;
  const client = new AdminClient({ url: mock.url, adminKey: KEY, anthropicVersion: '2023-06-01', timeoutMs: 5000, maxRetries: 0, maxRetryWaitMs: 1 });
  const apiKeys = r.apiKeys ?? {};
  const workspaces = r.workspaces ?? {};
  const range: [string, string][] = [['starting_at', new Date(D1).toISOString()], ['ending_at', new Date(D1 + 3 * DAY).toISOString()], ['bucket_width', '1d']];
  const groups: [string, string][] = [['group_by[]', 'model'], ...(Object.keys(apiKeys).length ? [['group_by[]', 'api_key_id'] as [string, string]] : []), ...(Object.keys(workspaces).length ? [['group_by[]', 'workspace_id'] as [string, string]] : [])];
  const usage = await client.all<UsageResult>('usage_report', 'v1/organizations/usage_report/messages', [...range, ...groups]);
  const cost = await client.all<CostResult>('cost_report', 'v1/organizations/cost_report', [...range, ['group_by[]', 'description']]);
  const mapped = Object.keys(apiKeys).length + Object.keys(workspaces).length > 0;
  return compare({ usage, cost, ledger: ledgerRows(r.ledger, mapped), nowMs: now, settleMs: 6 * HOUR, apiKeys, workspaces, reconciledAt: new Date(now).toISOString() });
}

const totals = (rows: ReconciliationRow[]): ReconciliationRow[] => rows.filter((r) => r.team === '');

describe('reconciliation of the Admin API reports with the ledger', () => {
  it('the same calls on both sides: zero drift on every day × model, nothing to explain', async () => {
    const sent = traffic();
    const rows = await reconcile({ billed: sent.map((s) => s.billed), ledger: sent });
    expect(rows.map((r) => [r.day, r.model, r.team])).toEqual([
      ['2026-11-01', 'claude-sonnet-4-5', ''], ['2026-11-02', 'claude-haiku-4-5', ''], ['2026-11-02', 'claude-sonnet-4-5', ''],
    ]);
    for (const r of rows) {
      expect(r).toMatchObject({ status: 'final', drift_usd: 0, drift_ratio: 0, unmatched_cost_usd: 0, price_drift_usd: 0, explanation: '' });
      expect(r.reported).toEqual(r.ledger);
      expect(r.reported_cost_usd).toBeCloseTo(r.ledger_cost_usd, 9);
    }
    expect(rows.reduce((s, r) => s + r.ledger_calls, 0)).toBe(24);
  });

  it('calls that never reached tokenledger: their tokens and their cost at the provider\'s rates explain the whole drift', async () => {
    const sent = traffic();
    const lost = [sent[2], sent[4]]; // both sonnet on 2026-11-01
    const rows = await reconcile({ billed: sent.map((s) => s.billed), ledger: sent.filter((s) => !lost.includes(s)) });
    const hit = rows.find((r) => r.day === '2026-11-01' && r.model === 'claude-sonnet-4-5')!;
    const lostCost = lost.reduce((s, x) => s + costOf(x.billed), 0);
    expect(hit.drift_usd).toBeCloseTo(lostCost, 9);
    expect(hit.unmatched_cost_usd).toBeCloseTo(lostCost, 9);
    expect(hit.price_drift_usd).toBe(0);
    expect(hit.drift_ratio).toBeCloseTo(lostCost / hit.reported_cost_usd!, 9);
    expect(hit.reported.input_tokens - hit.ledger.input_tokens).toBe(lost[0].billed.tokens.input_tokens + lost[1].billed.tokens.input_tokens);
    expect(hit.explanation).toMatch(/^reported but not in the ledger: 206 input_tokens, 46 output_tokens, .* \(calls that never reached tokenledger/);
    for (const r of rows.filter((x) => x !== hit)) expect(r.drift_usd).toBe(0);
  });

  it('a negotiated discount: tokens equal, cost differs, all of it explained as price', async () => {
    const sent = traffic();
    const rows = await reconcile({ billed: sent.map((s) => s.billed), ledger: sent, priceFactor: { [HAIKU]: 0.9 } });
    for (const r of totals(rows)) {
      expect(r.reported).toEqual(r.ledger);
      if (r.model === 'claude-sonnet-4-5') { expect(r.drift_usd).toBe(0); continue; }
      expect(r.drift_usd).toBeCloseTo(-0.1 * r.ledger_cost_usd, 9);
      expect(r.price_drift_usd).toBeCloseTo(r.drift_usd, 9);
      expect(r.drift_ratio).toBeCloseTo(-0.1, 9);
      expect(r.unmatched_cost_usd).toBe(0);
      expect(r.explanation).toMatch(/^price difference -0\.\d{6} USD on the ledger's own tokens \(negotiated discount/);
    }
  });

  it('calls in the ledger the provider does not bill: surplus tokens, negative drift', async () => {
    const sent = traffic();
    const rows = await reconcile({ billed: sent.slice(1).map((s) => s.billed), ledger: sent });
    const hit = rows.find((r) => r.day === '2026-11-01' && r.model === 'claude-sonnet-4-5')!;
    expect(hit.drift_usd).toBeCloseTo(-costOf(sent[0].billed), 9);
    expect(hit.price_drift_usd).toBe(0);
    expect(hit.explanation).toMatch(/^in the ledger but not reported: 100 input_tokens, 20 output_tokens, 700 cache_write_1h_tokens \(calls billed elsewhere, or counted twice\)$/);
  });

  it('the current day is partial: the provider lags, the drift is there and said to be timing', async () => {
    const sent = traffic().map((s) => ({ ...s, billed: { ...s.billed, atMs: D1 + 2 * DAY + (s.billed.atMs % DAY) } }));
    const now = D1 + 2 * DAY + 20 * 60_000; // 20 minutes into the day; calls minute 1..24
    const rows = await reconcile({ billed: sent.map((s) => s.billed), ledger: sent, now, lagMs: 10 * 60_000 });
    const sonnet = rows.find((r) => r.model === 'claude-sonnet-4-5')!;
    expect(sonnet.day).toBe('2026-11-03');
    expect(sonnet.status).toBe('partial');
    expect(sonnet.drift_usd).toBeLessThan(0);
    expect(sonnet.explanation).toMatch(/^day not final: the provider's buckets may still grow \(timing\); in the ledger but not reported/);
    const settled = await reconcile({ billed: sent.map((s) => s.billed), ledger: sent, now: D1 + 3 * DAY + 7 * HOUR });
    expect(totals(settled).every((r) => r.status === 'final' && r.drift_usd === 0)).toBe(true);
  });

  it('maps API keys and workspaces to teams; null keys and the default workspace fall in (unmapped)', async () => {
    const apiKeys = { apikey_search: { team: 'search' } };
    const workspaces = { wrkspc_ads: { team: 'ops' } };
    // The gateway attributes teams as the mapping describes: by key first, else by workspace; the rest has no team.
    const sent = traffic().map((s) => ({ ...s, team: (s.billed.api_key_id === 'apikey_search' ? 'search' : s.billed.workspace_id === 'wrkspc_ads' ? 'ops' : '') }));
    const lost = sent[3]; // apikey_search, team search, sonnet, 2026-11-02
    const rows = await reconcile({ billed: sent.map((s) => s.billed), ledger: sent.filter((s) => s !== lost), apiKeys, workspaces });
    const teams = rows.filter((r) => r.team !== '');
    expect(new Set(teams.map((r) => r.team))).toEqual(new Set(['search', 'ops', UNMAPPED]));
    for (const r of teams) {
      expect(r.reported_cost_usd).toBeNull();
      const isLost = r.team === 'search' && r.day === '2026-11-02' && r.model === 'claude-sonnet-4-5';
      if (!isLost) expect([r.day, r.model, r.team, r.drift_usd, r.reported]).toEqual([r.day, r.model, r.team, 0, r.ledger]);
      else expect(r.drift_usd).toBeCloseTo(costOf(lost.billed), 9);
    }
    // null api_key_id or an unmapped key in the default workspace: usage the mapping cannot place, matched by the ledger's calls without a mapped team
    const unmapped = teams.filter((r) => r.team === UNMAPPED);
    expect(sent.some((s) => s.team === '' && s.billed.api_key_id === null && s.billed.workspace_id === null)).toBe(true);
    expect(unmapped.reduce((s, r) => s + r.ledger_calls, 0)).toBe(sent.filter((s) => s.team === '').length);
    const total = totals(rows).find((r) => r.day === '2026-11-02' && r.model === 'claude-sonnet-4-5')!;
    expect(total.drift_usd).toBeCloseTo(costOf(lost.billed), 9);
  });

  it('web search costs get a (non-token) row of their own, explained', async () => {
    const sent = traffic();
    sent[0].billed.web_search_requests = 3;
    const rows = await reconcile({ billed: sent.map((s) => s.billed), ledger: sent });
    const row = rows.find((r) => r.model === NON_TOKEN)!;
    expect(row).toMatchObject({ day: '2026-11-01', reported_cost_usd: 0.03, ledger_cost_usd: 0, drift_usd: 0.03, drift_ratio: 1, price_drift_usd: 0 });
    expect(row.explanation).toBe('web search / code execution costs: tokenledger prices tokens only');
    expect(totals(rows).filter((r) => r.model !== NON_TOKEN).every((r) => r.drift_usd === 0)).toBe(true);
  });

  it('1h cache writes the ledger holds as 5m (a source that loses the split): both sides of it named, the cost difference exact', async () => {
    const sent = traffic();
    const lostSplit = sent.map((s) => ({ ...s, billed: { ...s.billed, tokens: { ...s.billed.tokens, cache_write_5m_tokens: s.billed.tokens.cache_write_5m_tokens + s.billed.tokens.cache_write_1h_tokens, cache_write_1h_tokens: 0 } } }));
    const rows = await reconcile({ billed: sent.map((s) => s.billed), ledger: lostSplit });
    const hit = rows.find((r) => r.day === '2026-11-01' && r.model === 'claude-sonnet-4-5')!;
    const moved = hit.reported.cache_write_1h_tokens;
    expect(moved).toBeGreaterThan(0);
    expect(hit.drift_usd).toBeCloseTo((moved * (6 - 3.75)) / 1e6, 9);
    expect(hit.price_drift_usd).toBe(0);
    expect(hit.explanation).toContain(`up to ${moved} cache-write tokens are in the ledger at the other TTL`);
  });

  it('a model only one side knows is all drift', async () => {
    const sent = traffic();
    const rows = await reconcile({ billed: sent.filter((s) => s.billed.model === SONNET).map((s) => s.billed), ledger: sent });
    const haiku = totals(rows).filter((r) => r.model === 'claude-haiku-4-5');
    expect(haiku).toHaveLength(1);
    for (const r of haiku) {
      expect(r.reported_cost_usd).toBe(0);
      expect(r.drift_usd).toBeCloseTo(-r.ledger_cost_usd, 9);
      expect(r.drift_ratio).toBe(-1);
      expect(r.explanation).toMatch(/^in the ledger but not reported/);
    }
  });

  it('canonical model ids drop the snapshot date as the ledger does', () => {
    expect(canonicalModel('claude-sonnet-4-20250514')).toBe('claude-sonnet-4');
    expect(canonicalModel('claude-3-5-haiku-20241022')).toBe('claude-3-5-haiku');
    expect(canonicalModel('claude-3-7-sonnet-latest')).toBe('claude-3-7-sonnet');
    expect(canonicalModel('claude-opus-4-5')).toBe('claude-opus-4-5');
  });
});
