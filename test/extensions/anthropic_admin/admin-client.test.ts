import { afterEach, describe, expect, it } from 'vitest';
import { AdminApiError, AdminClient, retryAfterMs } from '../../../extensions/anthropic_admin/admin-client.js';
import type { UsageResult } from '../../../extensions/anthropic_admin/api-shapes.js';
import { MockAdminApi } from '../../helpers/anthropic-admin-mock.js';

const KEY = 'sk-ant-admin01-client-test-3f9c2e7d';
const PRICES = { 'claude-sonnet-4-5-20250929': { input_tokens: 3, output_tokens: 15, cache_read_tokens: 0.3, cache_write_5m_tokens: 3.75, cache_write_1h_tokens: 6 } };
const T0 = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;

let mock: MockAdminApi;
afterEach(async () => { await mock?.close(); });

async function start(over: Partial<ConstructorParameters<typeof MockAdminApi>[0]> = {}): Promise<MockAdminApi> {
  mock = await new MockAdminApi({ adminKey: KEY, prices: PRICES, now: () => T0 + 10 * DAY, ...over }).start();
  for (let d = 0; d < 10; d++) {
    mock.calls.push({ atMs: T0 + d * DAY + 3_600_000, model: 'claude-sonnet-4-5-20250929', api_key_id: 'apikey_a', workspace_id: null, tokens: { input_tokens: 10 + d, output_tokens: 5, cache_read_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0 } });
  }
  return mock;
}

function client(waits: number[], over: Partial<ConstructorParameters<typeof AdminClient>[0]> = {}): AdminClient {
  return new AdminClient({ url: mock.url, adminKey: KEY, anthropicVersion: '2023-06-01', timeoutMs: 5000, maxRetries: 3, maxRetryWaitMs: 30_000, sleep: async (ms) => { waits.push(ms); }, ...over });
}

const range = (days: number, limit: number): [string, string][] => [
  ['starting_at', new Date(T0).toISOString()], ['ending_at', new Date(T0 + days * DAY).toISOString()], ['bucket_width', '1d'], ['limit', String(limit)], ['group_by[]', 'model'],
];
const USAGE = 'v1/organizations/usage_report/messages';

describe('Admin API client', () => {
  it('follows next_page until has_more is false, sending the key and version headers', async () => {
    await start();
    const data = await client([]).all<UsageResult>('usage_report', USAGE, range(10, 3));
    expect(data.map((b) => b.starting_at)).toEqual(Array.from({ length: 10 }, (_, d) => new Date(T0 + d * DAY).toISOString().replace('.000Z', 'Z')));
    expect(data.map((b) => b.results[0].uncached_input_tokens)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(mock.requests.map((r) => [r.status, r.params.get('page') !== null])).toEqual([[200, false], [200, true], [200, true], [200, true]]);
  });

  it('waits retry-after after a 429, backs off exponentially after 5xx, and then succeeds', async () => {
    await start();
    mock.failNext({ status: 429, retryAfter: '7' }, { status: 500 }, { status: 503 });
    const waits: number[] = [];
    const data = await client(waits).all<UsageResult>('usage_report', USAGE, range(2, 31));
    expect(data).toHaveLength(2);
    expect(waits).toEqual([7000, 2000, 4000]);
    expect(mock.requests.map((r) => r.status)).toEqual([429, 500, 503, 200]);
  });

  it('caps the wait at max_retry_wait and gives up after max_retries, naming the status and attempts', async () => {
    await start();
    mock.failNext({ status: 429, retryAfter: '3600' }, { status: 529 }, { status: 529 }, { status: 529 });
    const waits: number[] = [];
    const err = await client(waits, { maxRetryWaitMs: 1500 }).all('usage_report', USAGE, range(2, 31)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminApiError);
    expect((err as Error).message).toBe('usage_report: HTTP 529: overloaded_error: internal error (after 4 attempts)');
    expect(waits).toEqual([1500, 1500, 1500]);
  });

  it('does not retry a request the API refuses (400), and says why', async () => {
    await start();
    const err = await client([]).all('usage_report', USAGE, [...range(2, 31), ['group_by[]', 'team']]).catch((e: unknown) => e);
    expect((err as Error).message).toBe('usage_report: HTTP 400: invalid_request_error: group_by: team is not one of api_key_id, workspace_id, model, service_tier, context_window, inference_geo');
    expect(mock.requests).toHaveLength(1);
  });

  it('never puts the key in an error, even when the answer echoes it', async () => {
    await start({ echoKeyInErrors: true });
    mock.failNext({ status: 500 });
    const err = await client([], { maxRetries: 0 }).all('usage_report', USAGE, range(2, 31)).catch((e: unknown) => e);
    expect((err as Error).message).toContain('[redacted]');
    expect((err as Error).message).not.toContain(KEY);
    const wrongKey = new AdminClient({ url: mock.url, adminKey: `${KEY}-wrong`, anthropicVersion: '2023-06-01', timeoutMs: 5000, maxRetries: 0, maxRetryWaitMs: 1 });
    const denied = await wrongKey.all('usage_report', USAGE, range(2, 31)).catch((e: unknown) => e);
    expect((denied as Error).message).toMatch(/^usage_report: HTTP 401: authentication_error: invalid x-api-key/);
    expect((denied as Error).message).not.toContain('client-test');
  });

  it('reports an unreachable API as a retryable network error', async () => {
    await start();
    await mock.close();
    const waits: number[] = [];
    const err = await client(waits, { maxRetries: 1 }).all('usage_report', USAGE, range(2, 31)).catch((e: unknown) => e);
    expect((err as AdminApiError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/^usage_report: request failed: .* \(after 2 attempts\)$/);
    expect(waits).toEqual([1000]);
  });

  it('reads retry-after as seconds or an HTTP date', () => {
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const inAMinute = retryAfterMs(new Date(Date.now() + 60_000).toUTCString())!;
    expect(inAMinute).toBeGreaterThan(55_000);
    expect(inAMinute).toBeLessThanOrEqual(60_000);
  });
});
