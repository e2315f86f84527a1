import { TOKEN_TYPES, zeroTokens, type ReconciliationRow, type TokenType, type Tokens } from '../../core/reconciliation.js';
import type { UsageRow } from '../../core/host.js';
import { COST_TOKEN_TYPES, type CostResult, type Page, type UsageResult } from './api-shapes.js';
import type { TeamMapping } from './config.js';

export const PROVIDER = 'anthropic';
/** Team of usage whose API key and workspace map to no team (and of ledger teams no mapping names). */
export const UNMAPPED = '(unmapped)';
/** The row of a day's costs that are not tokens (web search, code execution): tokenledger prices tokens only. */
export const NON_TOKEN = '(non-token)';
/** Costs and tokens closer than this count as equal (sums of floats; the report is exact to 1e-7 cent). */
const EPSILON_USD = 1e-9;

export interface CompareInput {
  usage: Page<UsageResult>['data'];
  /** Grouped by description: one item per model × token type (× tier, context window), plus non-token costs. */
  cost: Page<CostResult>['data'];
  /** Ledger rows grouped by day and model (and team when mappings exist). */
  ledger: UsageRow[];
  nowMs: number;
  settleMs: number;
  apiKeys: Record<string, TeamMapping>;
  workspaces: Record<string, TeamMapping>;
  reconciledAt: string;
}

/** The report's model id → the ledger's canonical one: the snapshot date goes (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`). */
export function canonicalModel(model: string): string {
  const m = model.toLowerCase().trim();
  if (m.endsWith('-latest')) return m.slice(0, -7);
  return m.replace(/-\d{8}$/, '');
}

interface Side {
  tokens: Tokens;
  calls: number;
  cost: number;
}

interface Cell {
  day: string;
  model: string;
  team: string;
  ledger: Side;
  reported: Tokens;
}

interface DayModelCost {
  total: number;
  /** Provider rate per token type, USD a token: cost of the type / reported tokens of it. */
  byType: Partial<Record<TokenType, number>>;
  /** Non-standard pricing seen in the cost items (batch tier, long context...), for the explanation. */
  pricing: Set<string>;
}

const key = (day: string, model: string, team: string): string => `${day}\u0000${model}\u0000${team}`;
const dayOf = (rfc3339: string): string => new Date(rfc3339).toISOString().slice(0, 10);
const round = (usd: number): number => Math.round(usd * 1e9) / 1e9;

export function reportedTokens(r: UsageResult): Tokens {
  return {
    input_tokens: r.uncached_input_tokens ?? 0,
    output_tokens: r.output_tokens ?? 0,
    cache_read_tokens: r.cache_read_input_tokens ?? 0,
    cache_write_5m_tokens: r.cache_creation?.ephemeral_5m_input_tokens ?? 0,
    cache_write_1h_tokens: r.cache_creation?.ephemeral_1h_input_tokens ?? 0,
  };
}

function add(into: Tokens, from: Tokens): void {
  for (const t of TOKEN_TYPES) into[t] += from[t];
}

/**
 * Compares the provider's usage (and cost) report with the ledger, per UTC day × model, and per
 * team when API keys or workspaces are mapped. Every day of a usage bucket gets its rows, also
 * days the ledger has nothing for, and every ledger day × model too. Pure: data in, rows out.
 */
export function compare(input: CompareInput): ReconciliationRow[] {
  const mapped = Object.keys(input.apiKeys).length > 0 || Object.keys(input.workspaces).length > 0;
  const mappedTeams = new Set([...Object.values(input.apiKeys), ...Object.values(input.workspaces)].map((m) => m.team));
  const teamOfReport = (r: UsageResult): string =>
    (r.api_key_id ? input.apiKeys[r.api_key_id]?.team : undefined) ?? (r.workspace_id ? input.workspaces[r.workspace_id]?.team : undefined) ?? UNMAPPED;

  const cells = new Map<string, Cell>();
  const cell = (day: string, model: string, team: string): Cell => {
    const k = key(day, model, team);
    let c = cells.get(k);
    if (!c) cells.set(k, c = { day, model, team, ledger: { tokens: zeroTokens(), calls: 0, cost: 0 }, reported: zeroTokens() });
    return c;
  };
  const bucketEnd = new Map<string, number>();
  for (const bucket of input.usage) {
    const day = dayOf(bucket.starting_at);
    bucketEnd.set(day, Math.max(bucketEnd.get(day) ?? 0, Date.parse(bucket.ending_at)));
    for (const r of bucket.results) {
      const model = canonicalModel(r.model ?? '');
      const tokens = reportedTokens(r);
      add(cell(day, model, '').reported, tokens);
      if (mapped) add(cell(day, model, teamOfReport(r)).reported, tokens);
    }
  }
  for (const row of input.ledger) {
    const day = row.keys.day;
    const model = row.keys.model;
    const targets = [cell(day, model, '')];
    if (mapped) targets.push(cell(day, model, mappedTeams.has(row.keys.team) ? row.keys.team : UNMAPPED));
    for (const c of targets) {
      add(c.ledger.tokens, row.tokens);
      c.ledger.calls += row.calls;
      c.ledger.cost += row.cost_usd;
    }
  }
  const costs = costsByDayModel(input.cost, cells);
  const nonToken = nonTokenCosts(input.cost);
  for (const day of nonToken.keys()) cell(day, NON_TOKEN, '');

  const rows: ReconciliationRow[] = [];
  for (const c of cells.values()) {
    const final = (bucketEnd.get(c.day) ?? Date.parse(`${c.day}T00:00:00Z`) + 86_400_000) + input.settleMs <= input.nowMs;
    const dm = costs.get(key(c.day, c.model, ''));
    // Team rows have no reported cost: the cost report cannot be grouped by API key.
    const reportedCost = c.model === NON_TOKEN ? nonToken.get(c.day) ?? 0 : c.team === '' ? dm?.total ?? 0 : null;
    rows.push(explainRow(c, final, reportedCost, dm, input.reconciledAt));
  }
  return rows.sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model) || a.team.localeCompare(b.team));
}

/** Token costs of each day × model, and the provider's rate per token type (from the day × model reported tokens). */
function costsByDayModel(cost: Page<CostResult>['data'], cells: Map<string, Cell>): Map<string, DayModelCost> {
  const out = new Map<string, DayModelCost>();
  const typeCost = new Map<string, number>();
  for (const bucket of cost) {
    const day = dayOf(bucket.starting_at);
    for (const r of bucket.results) {
      if (r.cost_type !== 'tokens' || !r.model) continue;
      const model = canonicalModel(r.model);
      const k = key(day, model, '');
      let dm = out.get(k);
      if (!dm) out.set(k, dm = { total: 0, byType: {}, pricing: new Set() });
      const usd = centsToUsd(r.amount);
      dm.total += usd;
      const type = COST_TOKEN_TYPES[(r.token_type ?? '') as keyof typeof COST_TOKEN_TYPES];
      if (type) typeCost.set(`${k}\u0000${type}`, (typeCost.get(`${k}\u0000${type}`) ?? 0) + usd);
      if (r.service_tier && r.service_tier !== 'standard') dm.pricing.add(`service tier ${r.service_tier}`);
      if (r.context_window && r.context_window !== '0-200k') dm.pricing.add(`context window ${r.context_window}`);
    }
  }
  for (const [k, dm] of out) {
    const reported = cells.get(k)?.reported;
    for (const t of TOKEN_TYPES) {
      const c = typeCost.get(`${k}\u0000${t}`);
      if (c !== undefined && reported && reported[t] > 0) dm.byType[t] = c / reported[t];
    }
  }
  return out;
}

function nonTokenCosts(cost: Page<CostResult>['data']): Map<string, number> {
  const out = new Map<string, number>();
  for (const bucket of cost) {
    const day = dayOf(bucket.starting_at);
    for (const r of bucket.results) {
      if (r.cost_type == null || r.cost_type === 'tokens') continue;
      out.set(day, (out.get(day) ?? 0) + centsToUsd(r.amount));
    }
  }
  return out;
}

/** "123.45" cents → 1.2345 USD. */
export function centsToUsd(amount: string): number {
  const cents = Number(amount);
  if (!Number.isFinite(cents)) throw new Error(`cost report: amount ${JSON.stringify(amount)} is not a decimal number`);
  return cents / 100;
}

function explainRow(c: Cell, final: boolean, reportedCost: number | null, dm: DayModelCost | undefined, reconciledAt: string): ReconciliationRow {
  const reasons: string[] = [];
  const rate = (t: TokenType): number | undefined => dm?.byType[t];
  let unmatched = 0;
  let extra = 0;
  let unpriced = false;
  const missing: string[] = [];
  const surplus: string[] = [];
  for (const t of TOKEN_TYPES) {
    const d = c.reported[t] - c.ledger.tokens[t];
    if (d === 0) continue;
    const r = rate(t);
    if (r === undefined) unpriced = true;
    if (d > 0) { unmatched += d * (r ?? 0); missing.push(`${d} ${t}`); }
    else { extra += -d * (r ?? 0); surplus.push(`${-d} ${t}`); }
  }
  if (c.model === NON_TOKEN) {
    reasons.push('web search / code execution costs: tokenledger prices tokens only');
  } else {
    if (missing.length) reasons.push(`reported but not in the ledger: ${missing.join(', ')} (calls that never reached tokenledger: lost telemetry or a route without telemetry)`);
    if (surplus.length) reasons.push(`in the ledger but not reported: ${surplus.join(', ')} (calls billed elsewhere, or counted twice)`);
    const w5 = c.reported.cache_write_5m_tokens - c.ledger.tokens.cache_write_5m_tokens;
    const w1 = c.reported.cache_write_1h_tokens - c.ledger.tokens.cache_write_1h_tokens;
    if (w5 !== 0 && w1 !== 0 && Math.sign(w5) !== Math.sign(w1)) {
      reasons.push(`up to ${Math.min(Math.abs(w5), Math.abs(w1))} cache-write tokens are in the ledger at the other TTL (the source did not say which were 5m and which 1h)`);
    }
    if (unpriced && reportedCost !== null) reasons.push('the cost report has no rate for some token type: their cost is not estimated');
  }
  const drift = reportedCost === null ? round(unmatched - extra) : round(reportedCost - c.ledger.cost);
  const priceDrift = reportedCost === null || c.model === NON_TOKEN ? 0 : round(drift - unmatched + extra);
  if (Math.abs(priceDrift) > EPSILON_USD) {
    const tiers = dm && dm.pricing.size ? `; the cost report lists ${[...dm.pricing].join(', ')}` : '';
    reasons.push(`price difference ${priceDrift > 0 ? '+' : ''}${priceDrift.toFixed(6)} USD on the ledger's own tokens (negotiated discount, tier or long-context pricing${tiers})`);
  }
  if (!final && (reasons.length || Math.abs(drift) > EPSILON_USD)) reasons.unshift("day not final: the provider's buckets may still grow (timing)");
  const base = Math.max(Math.abs(reportedCost ?? 0), Math.abs(c.ledger.cost));
  return {
    day: c.day,
    provider: PROVIDER,
    model: c.model,
    team: c.team,
    status: final ? 'final' : 'partial',
    ledger_calls: c.ledger.calls,
    ledger: c.ledger.tokens,
    reported: c.reported,
    ledger_cost_usd: round(c.ledger.cost),
    reported_cost_usd: reportedCost === null ? null : round(reportedCost),
    drift_usd: Math.abs(drift) <= EPSILON_USD ? 0 : drift,
    drift_ratio: base > EPSILON_USD && Math.abs(drift) > EPSILON_USD ? drift / base : 0,
    unmatched_cost_usd: round(unmatched),
    price_drift_usd: Math.abs(priceDrift) <= EPSILON_USD ? 0 : priceDrift,
    explanation: reasons.join('; '),
    reconciled_at: reconciledAt,
  };
}
