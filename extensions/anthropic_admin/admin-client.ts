import type { Page } from './api-shapes.js';

export interface AdminClientOptions {
  url: string;
  adminKey: string;
  anthropicVersion: string;
  timeoutMs: number;
  maxRetries: number;
  maxRetryWaitMs: number;
  /** Called once per HTTP answer (status) or failed attempt ('error'), for the requests metric. */
  onResponse?: (report: string, status: string) => void;
  /** Waits between retries; tests pass a shorter one. */
  sleep?: (ms: number) => Promise<void>;
}

/** An Admin API failure; its message never holds the key (see redact). */
export class AdminApiError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly retryable: boolean) {
    super(message);
    this.name = 'AdminApiError';
  }
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * GETs every page of one report (`next_page` → `page`), retrying 429 (after its retry-after),
 * 5xx and network errors up to maxRetries times with capped exponential backoff. The key travels
 * only in the x-api-key header; any text that comes back is scrubbed of it before it reaches an
 * error message.
 */
export class AdminClient {
  constructor(private readonly o: AdminClientOptions) {}

  async all<R>(report: string, path: string, params: [string, string][]): Promise<Page<R>['data']> {
    const out: Page<R>['data'] = [];
    let page: string | null = null;
    for (let n = 0; ; n++) {
      if (n >= 10_000) throw new AdminApiError(`${report}: more than 10000 pages; stopping (a next_page that never ends?)`, undefined, false);
      const body: Page<R> = await this.get<Page<R>>(report, path, page === null ? params : [...params, ['page', page]]);
      if (!Array.isArray(body?.data)) throw new AdminApiError(`${report}: answer has no data array`, 200, false);
      out.push(...body.data);
      if (!body.has_more) return out;
      if (typeof body.next_page !== 'string' || body.next_page === '' || body.next_page === page) {
        throw new AdminApiError(`${report}: has_more without a new next_page`, 200, false);
      }
      page = body.next_page;
    }
  }

  private async get<T>(report: string, path: string, params: [string, string][]): Promise<T> {
    const url = new URL(path, this.o.url.endsWith('/') ? this.o.url : `${this.o.url}/`);
    for (const [k, v] of params) url.searchParams.append(k, v);
    const sleep = this.o.sleep ?? sleepFor;
    for (let attempt = 0; ; attempt++) {
      let err: AdminApiError;
      let waitMs = Math.min(this.o.maxRetryWaitMs, 1000 * 2 ** attempt);
      try {
        const res = await fetch(url, {
          headers: { 'x-api-key': this.o.adminKey, 'anthropic-version': this.o.anthropicVersion, accept: 'application/json' },
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        this.o.onResponse?.(report, String(res.status));
        const text = await res.text();
        if (res.ok) return parseJson<T>(text, report, this.redact.bind(this));
        const retryable = res.status === 429 || res.status >= 500;
        err = new AdminApiError(`${report}: HTTP ${res.status}: ${this.redact(errorMessageOf(text))}`, res.status, retryable);
        const after = retryAfterMs(res.headers.get('retry-after'));
        if (res.status === 429 && after !== undefined) waitMs = Math.min(this.o.maxRetryWaitMs, after);
      } catch (e) {
        if (e instanceof AdminApiError) throw e;
        this.o.onResponse?.(report, 'error');
        err = new AdminApiError(`${report}: request failed: ${this.redact((e as Error).message)}`, undefined, true);
      }
      if (!err.retryable || attempt >= this.o.maxRetries) {
        throw attempt > 0 ? new AdminApiError(`${err.message} (after ${attempt + 1} attempts)`, err.status, err.retryable) : err;
      }
      await sleep(waitMs);
    }
  }

  /** Scrubs the key (and any sk-ant- secret) from text that came from outside. */
  redact(text: string): string {
    const scrubbed = this.o.adminKey ? text.split(this.o.adminKey).join('[redacted]') : text;
    return scrubbed.replace(/sk-ant-[A-Za-z0-9_-]+/g, '[redacted]');
  }
}

function parseJson<T>(text: string, report: string, redact: (s: string) => string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new AdminApiError(`${report}: answer is not JSON (${redact((e as Error).message)})`, 200, false);
  }
}

/** The API answers errors as { type: 'error', error: { type, message } }; anything else (a proxy's HTML page) is cut short. */
function errorMessageOf(text: string): string {
  let body: { error?: { type?: string; message?: string } } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return text.slice(0, 200);
  }
  return body?.error?.message ? `${body.error.type ?? 'error'}: ${body.error.message}` : text.slice(0, 200);
}

/** retry-after in seconds or as an HTTP date. */
export function retryAfterMs(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
