/**
 * A mock of Anthropic's Admin API usage and cost reports on 127.0.0.1, built from the documented
 * shapes (extensions/anthropic_admin/README.md "What the API says"): the messages usage report
 * (1d/1h/1m buckets, group_by[] of api_key_id, workspace_id, model, service_tier, context_window,
 * inference_geo; ungrouped dimensions null) and the cost report (1d, group_by[] workspace_id and
 * description; amounts in cents as decimal strings), pagination by `limit` buckets a page and
 * `next_page`, x-api-key + anthropic-version checks, and injected failures (429 with retry-after,
 * 5xx). It aggregates the calls it is given, so a test feeds it what it sent and knows the answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TOKEN_TYPES, type TokenType, type Tokens } from '../../core/reconciliation.js';

export interface BilledCall {
  atMs: number;
  /** As the API names it: `claude-sonnet-4-5-20250929`. */
  model: string;
  /** null: usage not made with an API key (e.g. the Console's Workbench). */
  api_key_id: string | null;
  /** null: the default workspace. */
  workspace_id: string | null;
  service_tier?: string;
  context_window?: string;
  inference_geo?: string;
  tokens: Tokens;
  web_search_requests?: number;
}

/** USD per million tokens of each type (at most 4 decimals), per API model name. */
export type PriceTable = Record<string, Record<TokenType, number>>;

export interface MockAdminOptions {
  adminKey: string;
  prices: PriceTable;
  /** Buckets starting at or after now are absent; calls later than now − lagMs are not reported yet. Default: the real clock, no lag. */
  now?: () => number;
  lagMs?: number;
  /** Multiplies an API model's cost (a negotiated discount: 0.9). */
  priceFactor?: Record<string, number>;
  /** Every error body also names the key it was sent (to prove the client scrubs answers). */
  echoKeyInErrors?: boolean;
}

export interface MockRequest {
  path: string;
  params: URLSearchParams;
  status: number;
}

const USAGE_GROUPS = ['api_key_id', 'workspace_id', 'model', 'service_tier', 'context_window', 'inference_geo'] as const;
const COST_GROUPS = ['workspace_id', 'description'] as const;
const WIDTH_MS = { '1d': 86_400_000, '1h': 3_600_000, '1m': 60_000 } as const;
const LIMITS = { '1d': [7, 31], '1h': [24, 168], '1m': [60, 1440] } as const;
const TOKEN_TYPE_NAMES: Record<TokenType, [string, string]> = {
  input_tokens: ['uncached_input_tokens', 'Input Tokens'],
  output_tokens: ['output_tokens', 'Output Tokens'],
  cache_read_tokens: ['cache_read_input_tokens', 'Cache Read Tokens'],
  cache_write_5m_tokens: ['cache_creation.ephemeral_5m_input_tokens', 'Cache Write 5m Tokens'],
  cache_write_1h_tokens: ['cache_creation.ephemeral_1h_input_tokens', 'Cache Write 1h Tokens'],
};

class BadRequest extends Error {}

export class MockAdminApi {
  calls: BilledCall[] = [];
  readonly requests: MockRequest[] = [];
  private readonly failures: { status: number; retryAfter?: string }[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly o: MockAdminOptions) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next requests answer these statuses (429 with retry-after seconds, 500, 503...), in order. */
  failNext(...failures: { status: number; retryAfter?: string }[]): void {
    this.failures.push(...failures);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://mock');
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      this.requests.push({ path: url.pathname, params: url.searchParams, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string, headers: Record<string, string> = {}): void =>
      answer(status, { type: 'error', error: { type, message: this.o.echoKeyInErrors ? `${message} (key ${String(req.headers['x-api-key'])})` : message } }, headers);
    if (req.headers['x-api-key'] !== this.o.adminKey) return error(401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return error(400, 'invalid_request_error', 'anthropic-version header is required');
    const failure = this.failures.shift();
    if (failure) {
      return failure.status === 429
        ? error(429, 'rate_limit_error', 'rate limited', failure.retryAfter !== undefined ? { 'retry-after': failure.retryAfter } : {})
        : error(failure.status, failure.status === 529 ? 'overloaded_error' : 'api_error', 'internal error');
    }
    try {
      if (url.pathname === '/v1/organizations/usage_report/messages') return answer(200, this.page(url.searchParams, 'usage'));
      if (url.pathname === '/v1/organizations/cost_report') return answer(200, this.page(url.searchParams, 'cost'));
      return error(404, 'not_found_error', `no route ${url.pathname}`);
    } catch (err) {
      if (err instanceof BadRequest) return error(400, 'invalid_request_error', err.message);
      throw err;
    }
  }

  private page(q: URLSearchParams, report: 'usage' | 'cost'): unknown {
    const width = (q.get('bucket_width') ?? '1d') as keyof typeof WIDTH_MS;
    if (!(width in WIDTH_MS) || (report === 'cost' && width !== '1d')) throw new BadRequest(`bucket_width: ${width} is not allowed`);
    const groups = q.getAll('group_by[]');
    const allowed: readonly string[] = report === 'usage' ? USAGE_GROUPS : COST_GROUPS;
    for (const g of groups) if (!allowed.includes(g)) throw new BadRequest(`group_by: ${g} is not one of ${allowed.join(', ')}`);
    const startText = q.get('starting_at');
    if (!startText || Number.isNaN(Date.parse(startText))) throw new BadRequest('starting_at: a RFC 3339 time is required');
    const [defLimit, maxLimit] = LIMITS[width];
    const limit = q.has('limit') ? Number(q.get('limit')) : defLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw new BadRequest(`limit: must be 1..${maxLimit} for ${width}`);
    const w = WIDTH_MS[width];
    const snapped = Math.floor(Date.parse(startText) / w) * w;
    const page = q.get('page');
    const first = page ? Date.parse(Buffer.from(page.replace(/^page_/, ''), 'base64').toString()) : snapped;
    if (Number.isNaN(first)) throw new BadRequest('page: not a token this API gave');
    const now = (this.o.now ?? Date.now)();
    const end = Math.min(q.has('ending_at') ? Date.parse(q.get('ending_at')!) : Infinity, Math.ceil(now / w) * w);
    const data: unknown[] = [];
    let t = first;
    for (; t + w <= end && data.length < limit; t += w) {
      const inBucket = this.calls.filter((c) => c.atMs >= t && c.atMs < t + w && c.atMs <= now - (this.o.lagMs ?? 0));
      data.push({ starting_at: iso(t), ending_at: iso(t + w), results: report === 'usage' ? usageResults(inBucket, groups) : this.costResults(inBucket, groups) });
    }
    const more = t + w <= end;
    return { data, has_more: more, next_page: more ? `page_${Buffer.from(iso(t)).toString('base64')}` : null };
  }

  private costResults(calls: BilledCall[], groups: string[]): unknown[] {
    const byWorkspace = groups.includes('workspace_id');
    const described = groups.includes('description');
    const items = new Map<string, { base: Record<string, unknown>; units: bigint }>();
    const put = (k: string, base: Record<string, unknown>, units: bigint): void => {
      const item = items.get(k);
      if (item) item.units += units;
      else items.set(k, { base, units });
    };
    for (const c of calls) {
      const ws = byWorkspace ? c.workspace_id : null;
      const price = this.o.prices[c.model];
      if (!price) throw new Error(`mock admin API: no price for ${c.model}`);
      const factor = this.o.priceFactor?.[c.model] ?? 1;
      for (const type of TOKEN_TYPES) {
        if (c.tokens[type] === 0) continue;
        const units = centUnits(c.tokens[type], price[type] * factor);
        const [tokenType, label] = TOKEN_TYPE_NAMES[type];
        const tier = c.service_tier ?? 'standard';
        const context = c.context_window ?? '0-200k';
        const base = described
          ? { workspace_id: ws, description: `${c.model} Usage - ${label}`, cost_type: 'tokens', context_window: context, model: c.model, service_tier: tier, token_type: tokenType, inference_geo: null }
          : { workspace_id: ws, description: null, cost_type: null, context_window: null, model: null, service_tier: null, token_type: null, inference_geo: null };
        put(JSON.stringify(base), base, units);
      }
      if (c.web_search_requests) {
        // $10 per 1000 searches: 1 cent each.
        const base = described
          ? { workspace_id: ws, description: 'Web Search', cost_type: 'web_search', context_window: null, model: null, service_tier: null, token_type: null, inference_geo: null }
          : { workspace_id: ws, description: null, cost_type: null, context_window: null, model: null, service_tier: null, token_type: null, inference_geo: null };
        put(JSON.stringify(base), base, BigInt(c.web_search_requests) * 10n ** 8n);
      }
    }
    return [...items.values()].map(({ base, units }) => ({ currency: 'USD', amount: centsText(units), ...base }));
  }
}

function usageResults(calls: BilledCall[], groups: string[]): unknown[] {
  const out = new Map<string, Record<string, unknown> & { tokens: Tokens; searches: number }>();
  for (const c of calls) {
    const dims = Object.fromEntries(USAGE_GROUPS.map((g) => [g, groups.includes(g) ? dimension(c, g) : null]));
    const k = JSON.stringify(dims);
    let r = out.get(k);
    if (!r) out.set(k, r = { ...dims, tokens: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0 }, searches: 0 });
    for (const t of TOKEN_TYPES) r.tokens[t] += c.tokens[t];
    r.searches += c.web_search_requests ?? 0;
  }
  return [...out.values()].map(({ tokens, searches, ...dims }) => ({
    ...dims,
    uncached_input_tokens: tokens.input_tokens,
    cache_read_input_tokens: tokens.cache_read_tokens,
    cache_creation: { ephemeral_5m_input_tokens: tokens.cache_write_5m_tokens, ephemeral_1h_input_tokens: tokens.cache_write_1h_tokens },
    output_tokens: tokens.output_tokens,
    server_tool_use: { web_search_requests: searches },
  }));
}

function dimension(c: BilledCall, g: (typeof USAGE_GROUPS)[number]): string | null {
  switch (g) {
    case 'api_key_id': return c.api_key_id;
    case 'workspace_id': return c.workspace_id;
    case 'model': return c.model;
    case 'service_tier': return c.service_tier ?? 'standard';
    case 'context_window': return c.context_window ?? '0-200k';
    case 'inference_geo': return c.inference_geo ?? 'not_available';
  }
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Cost of tokens at USD per MTok, in units of 1e-8 cent (exact: prices have at most 4 decimals). */
function centUnits(tokens: number, usdPerMTok: number): bigint {
  return BigInt(tokens) * BigInt(Math.round(usdPerMTok * 10_000));
}

function centsText(units: bigint): string {
  const whole = units / 10n ** 8n;
  const frac = (units % 10n ** 8n).toString().padStart(8, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}
