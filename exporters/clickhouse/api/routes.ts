import type { AdminRequest, AdminResponse, AdminRoutes } from '../../../core/admin-routes.js';
import type { Logger } from '../../../core/logger.js';
import type { SelfMetrics } from '../../../core/self-metrics.js';
import { errorText } from '../client.js';
import { csvTable } from '../csv.js';
import { clickhouseCode } from '../errors.js';
import { CALL_COLUMNS, recentCalls } from './calls.js';
import { DEFAULT_DRIFT_THRESHOLD, drift } from './drift.js';
import { apiMetrics } from './metrics.js';
import { QUERY_BOUNDS, type Source } from './query.js';
import { BadRequest, commonParams, groupKeys, type Common, type Format } from './request.js';
import { spend, SPEND_METRICS } from './spend.js';
import { unpriced } from './unpriced.js';

export const API_ENDPOINTS = ['spend', 'calls', 'unpriced', 'drift'] as const;

/** Where one clickhouse exporter's endpoints live besides the unqualified `/api/v1/<name>`. */
export const exporterApiPath = (id: string, endpoint: (typeof API_ENDPOINTS)[number]): string => `/api/v1/exporters/${id}/${endpoint}`;

interface Answer {
  json: Record<string, unknown>;
  /** The rows a CSV answer holds, and its columns. */
  csv: { columns: readonly string[]; rows: readonly object[] };
  next_cursor?: string | null;
}

type Endpoint = (src: Source, url: URL, accept: string | undefined) => Promise<[Common, Answer]>;

const range = (p: Common): Record<string, string> => ({ from: new Date(p.fromMs).toISOString(), to: new Date(p.toMs).toISOString() });

const ENDPOINTS: Record<(typeof API_ENDPOINTS)[number], Endpoint> = {
  async spend(src, url, accept) {
    const p = commonParams(url, accept, ['group_by', 'sort'], { default: 1000, max: 10_000 });
    const groupBy = groupKeys(url.searchParams.get('group_by'));
    const sort = url.searchParams.get('sort') ?? 'keys';
    if (sort !== 'keys' && sort !== 'cost') throw new BadRequest(`sort=${JSON.stringify(sort)}: use keys (by the group_by keys) or cost (most expensive first)`);
    const page = await spend(src, { ...p, groupBy, sort, limit: p.limit, cursor: p.cursor });
    return [p, {
      json: { ...range(p), group_by: groupBy, filters: p.filters, rows: page.rows, next_cursor: page.next_cursor },
      csv: { columns: [...groupBy, ...SPEND_METRICS], rows: page.rows }, next_cursor: page.next_cursor,
    }];
  },
  async calls(src, url, accept) {
    const p = commonParams(url, accept, [], { default: 100, max: 1000 });
    const page = await recentCalls(src, { ...p, cursor: p.cursor });
    return [p, { json: { ...range(p), filters: p.filters, calls: page.calls, next_cursor: page.next_cursor }, csv: { columns: CALL_COLUMNS, rows: page.calls }, next_cursor: page.next_cursor }];
  },
  async unpriced(src, url, accept) {
    const p = commonParams(url, accept, []);
    const models = await unpriced(src, p);
    return [p, { json: { ...range(p), filters: p.filters, models }, csv: { columns: ['model', 'provider', 'model_raw', 'calls', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'first_seen', 'last_seen'], rows: models } }];
  },
  async drift(src, url, accept) {
    const p = commonParams(url, accept, ['threshold']);
    const text = url.searchParams.get('threshold');
    const threshold = text === null ? DEFAULT_DRIFT_THRESHOLD : Number(text);
    if (!(threshold >= 0 && threshold <= 10) || text === '') throw new BadRequest(`threshold=${JSON.stringify(text)}: a ratio from 0 to 10 (0.05 = 5 %)`);
    const groups = await drift(src, { ...p, threshold });
    return [p, {
      json: { ...range(p), filters: p.filters, threshold, groups },
      csv: { columns: ['model', 'source', 'pricing', 'calls', 'cost_usd', 'reported_calls', 'cost_of_reported_usd', 'reported_cost_usd', 'drift_usd', 'drift_ratio', 'warning'], rows: groups },
    }];
  },
};

/** Errors of a bounded query, which the client can avoid by asking for less. */
const TOO_MUCH = new Map<number, [status: number, reason: string]>([
  [158, [400, `more than ${QUERY_BOUNDS.max_rows_to_group_by} groups: narrow the range or the filters, or group by fewer keys`]],
  [159, [503, `the query ran longer than ${QUERY_BOUNDS.max_execution_time} s: narrow the range or the filters`]],
  [241, [503, 'the query needed more memory than it may use: narrow the range or the filters']],
]);

/** The status and reason for a query stopped by QUERY_BOUNDS; undefined for any other error. */
export function boundsProblem(err: unknown): [status: number, reason: string] | undefined {
  const code = clickhouseCode(err);
  return code === undefined ? undefined : TOO_MUCH.get(code);
}

function encode(format: Format, answer: Answer): AdminResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (answer.next_cursor) headers['x-next-cursor'] = answer.next_cursor;
  if (format === 'csv') return { status: 200, contentType: 'text/csv; charset=utf-8', headers, body: csvTable(answer.csv.columns, answer.csv.rows) };
  return { status: 200, contentType: 'application/json', headers, body: JSON.stringify(answer.json) };
}

const problem = (status: number, error: string): AdminResponse => ({ status, contentType: 'application/json', headers: { 'cache-control': 'no-store' }, body: JSON.stringify({ error }) + '\n' });

/**
 * Serves the spend API of one clickhouse exporter. `read` resolves once the exporter can answer
 * (it throws while the exporter is not started). Each endpoint is at `/api/v1/exporters/<id>/…`,
 * and at `/api/v1/…` unless another clickhouse exporter took those first (configuration order).
 */
export function registerApi(routes: AdminRoutes, id: string, read: () => Promise<Source>, logger: Logger, selfMetrics: SelfMetrics): void {
  const metrics = selfMetrics.declare(apiMetrics);
  const unqualified = API_ENDPOINTS.every((e) => routes.find(`/api/v1/${e}`) === undefined);
  if (!unqualified) logger.info('spend API: /api/v1/spend and its siblings are served by another clickhouse exporter; this one answers under its own path', { path: exporterApiPath(id, 'spend') });
  for (const name of API_ENDPOINTS) {
    const answer = async ({ url, headers }: AdminRequest): Promise<AdminResponse> => {
      try {
        const [p, body] = await ENDPOINTS[name](await read(), url, headers.accept);
        return encode(p.format, body);
      } catch (err) {
        if (err instanceof BadRequest) return problem(400, err.message);
        const bounded = boundsProblem(err);
        if (bounded) return problem(...bounded);
        logger.error('spend API query failed', { path: url.pathname, err: errorText(err) });
        return problem(503, `reading the ledger failed: ${errorText(err)}`);
      }
    };
    const handler = async (req: AdminRequest): Promise<AdminResponse> => {
      const end = metrics.duration.startTimer({ exporter: id, endpoint: name });
      const res = await answer(req);
      end();
      metrics.requests.inc({ exporter: id, endpoint: name, code: String(res.status) });
      return res;
    };
    routes.add(exporterApiPath(id, name), handler);
    if (unqualified) routes.add(`/api/v1/${name}`, handler);
  }
}
