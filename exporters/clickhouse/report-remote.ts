import { MAX_RANGE_DAYS, type GroupKey } from './api/request.js';
import { exporterApiPath } from './api/routes.js';
import { SPEND_METRICS, type SpendPage, type SpendQuery } from './api/spend.js';
import { format, reportQuery, type ReportOptions, type ReportRow } from './report.js';

/** A running tokenledger's admin server: its base URL and a bearer token it accepts (when it needs one). */
export interface AdminApi {
  base: string;
  token?: string;
}

/** Rows one request asks for: the API's largest page. */
const PAGE = 10_000;

/**
 * `tokenledger report` through a running tokenledger's spend API, for when that process holds the
 * embedded data directory: the same query (the API's), every page, the same output.
 */
export async function remoteReport(api: AdminApi, exporterId: string, opts: ReportOptions): Promise<string> {
  const q = reportQuery(opts);
  // The API answers at most MAX_RANGE_DAYS a request: a wider report is asked window by window.
  const windowMs = MAX_RANGE_DAYS * 86_400_000;
  const windows: SpendQuery[] = [];
  for (let from = q.fromMs; from < q.toMs; from += windowMs) windows.push({ ...q, fromMs: from, toMs: Math.min(from + windowMs, q.toMs) });
  const parts: ReportRow[][] = [];
  for (const w of windows) parts.push(await spendRows(api, exporterId, w));
  return format(parts.length === 1 ? parts[0] : merge(parts.flat(), q.groupBy), q.groupBy, opts.format);
}

/** Rows of several windows summed per group, in the order of the keys (as ClickHouse sorts them: by bytes). */
function merge(rows: ReportRow[], keys: GroupKey[]): ReportRow[] {
  const groups = new Map<string, ReportRow>();
  for (const r of rows) {
    const id = JSON.stringify(keys.map((k) => r[k]));
    const g = groups.get(id);
    if (g === undefined) groups.set(id, { ...r });
    else for (const m of SPEND_METRICS) g[m] += r[m];
  }
  const bytes = (r: ReportRow): Buffer[] => keys.map((k) => Buffer.from(r[k] ?? ''));
  return [...groups.values()].sort((a, b) => {
    const [x, y] = [bytes(a), bytes(b)];
    for (let i = 0; i < x.length; i++) {
      const c = Buffer.compare(x[i], y[i]);
      if (c !== 0) return c;
    }
    return 0;
  });
}

/** Every page of one window's spend. */
async function spendRows(api: AdminApi, exporterId: string, q: SpendQuery): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  let cursor: string | null = null;
  do {
    const url = new URL(exporterApiPath(exporterId, 'spend'), api.base);
    url.searchParams.set('from', new Date(q.fromMs).toISOString());
    url.searchParams.set('to', new Date(q.toMs).toISOString());
    if (q.groupBy.length > 0) url.searchParams.set('group_by', q.groupBy.join(','));
    url.searchParams.set('limit', String(PAGE));
    if (cursor !== null) url.searchParams.set('cursor', cursor);
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/json', ...(api.token ? { authorization: `Bearer ${api.token}` } : {}) }, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw new Error(`report through ${api.base}: no answer (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`, { cause: err });
    }
    if (!res.ok) {
      const detail = (await res.text()).trim();
      const hint = res.status === 401 ? (api.token ? ': the token was refused' : ': it needs a bearer token; set the variable service.telemetry.admin.auth.bearer_tokens_env names') : '';
      throw new Error(`report through ${url.origin}${url.pathname}: HTTP ${res.status}${hint} (${detail})`);
    }
    const page = await res.json() as SpendPage;
    rows.push(...page.rows);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return rows;
}
