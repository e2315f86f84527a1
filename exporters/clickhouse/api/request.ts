import { instantMs } from '../instant.js';

/** A request the API refuses (HTTP 400), with the reason the client gets. */
export class BadRequest extends Error {}

/** Labels calls can be filtered on (`?team=search&model=gpt-4o`) and spend grouped by. */
export const FILTER_LABELS = ['team', 'model', 'provider', 'key_alias', 'customer', 'route', 'user', 'source', 'region', 'status'] as const;
export type FilterLabel = (typeof FILTER_LABELS)[number];
export const GROUP_KEYS = ['day', ...FILTER_LABELS] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

/** Widest time range one request may cover: every query reads the calls table, with FINAL. */
export const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

export interface Range {
  fromMs: number;
  toMs: number;
}

export type Format = 'json' | 'csv';

/** What every endpoint reads from the query string; each names the extra parameters it takes. */
export interface Common extends Range {
  filters: Partial<Record<FilterLabel, string>>;
  format: Format;
  /** Paged endpoints only: rows a page holds, and where the page starts. */
  limit: number;
  cursor: string | undefined;
}

/** A paged endpoint's page sizes; an endpoint without one takes no `limit` or `cursor`. */
export interface Paging {
  default: number;
  max: number;
}

/**
 * Reads the parameters every endpoint shares and refuses unknown ones (a misspelt filter would
 * otherwise widen the answer silently). `from` defaults to the start of this month (UTC), `to` to now.
 */
export function commonParams(url: URL, accept: string | undefined, extra: readonly string[], paging?: Paging, now = Date.now()): Common {
  const q = url.searchParams;
  const known = new Set<string>(['from', 'to', 'format', ...(paging ? ['limit', 'cursor'] : []), ...FILTER_LABELS, ...extra]);
  for (const key of q.keys()) {
    if (!known.has(key)) throw new BadRequest(`unknown parameter ${JSON.stringify(key)}; this endpoint takes ${[...known].join(', ')}`);
  }
  for (const key of known) if (q.getAll(key).length > 1) throw new BadRequest(`parameter ${key} is given more than once`);
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const fromMs = instant(q.get('from'), 'from', monthStart);
  const toMs = instant(q.get('to'), 'to', now);
  if (!(toMs > fromMs)) throw new BadRequest(`to (${new Date(toMs).toISOString()}) is not after from (${new Date(fromMs).toISOString()})`);
  const days = (toMs - fromMs) / DAY_MS;
  if (days > MAX_RANGE_DAYS) throw new BadRequest(`the range from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()} covers ${Math.ceil(days)} days; one request may cover at most ${MAX_RANGE_DAYS}: split it`);
  const filters: Common['filters'] = {};
  for (const label of FILTER_LABELS) {
    const v = q.get(label);
    if (v !== null) filters[label] = v;
  }
  return { fromMs, toMs, filters, format: formatOf(q.get('format'), accept), limit: paging ? limitOf(q.get('limit'), paging) : 0, cursor: q.get('cursor') ?? undefined };
}

function instant(text: string | null, name: string, fallback: number): number {
  if (text === null || text === '') return fallback;
  const ms = instantMs(text);
  if (Number.isNaN(ms)) throw new BadRequest(`${name}=${JSON.stringify(text)} is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-11-05T14:00:00Z)`);
  return ms;
}

/** `?format=` wins; otherwise CSV when the client asks for text/csv and not for JSON. */
function formatOf(text: string | null, accept: string | undefined): Format {
  if (text !== null) {
    if (text === 'json' || text === 'csv') return text;
    throw new BadRequest(`format=${JSON.stringify(text)}: use json or csv`);
  }
  return accept !== undefined && /\btext\/csv\b/.test(accept) && !/\bapplication\/json\b/.test(accept) ? 'csv' : 'json';
}

function limitOf(text: string | null, limits: Paging): number {
  if (text === null) return limits.default;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > limits.max) throw new BadRequest(`limit=${JSON.stringify(text)}: a whole number from 1 to ${limits.max}`);
  return n;
}

/** The comma-separated group_by keys, each known, none twice. */
export function groupKeys(text: string | null): GroupKey[] {
  if (text === null || text.trim() === '') return [];
  const keys = text.split(',').map((s) => s.trim());
  for (const k of keys) {
    if (!(GROUP_KEYS as readonly string[]).includes(k)) throw new BadRequest(`group_by: cannot group by ${JSON.stringify(k)}; use ${GROUP_KEYS.join(', ')}`);
  }
  if (new Set(keys).size !== keys.length) throw new BadRequest(`group_by=${JSON.stringify(text)} names a key twice`);
  return keys as GroupKey[];
}

/** Cursors are opaque to clients: base64url JSON, checked on the way back in. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(cursor: string, shape: { [K in keyof T]: 'string' | 'number' }): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new BadRequest(`cursor ${JSON.stringify(cursor)} is not one this API gave out (${(err as Error).message}); start again without it`);
  }
  const ok = typeof value === 'object' && value !== null && Object.entries(shape).every(([k, t]) => typeof (value as Record<string, unknown>)[k] === t);
  if (!ok) throw new BadRequest(`cursor ${JSON.stringify(cursor)} is not one this API gave out; start again without it`);
  return value as T;
}
