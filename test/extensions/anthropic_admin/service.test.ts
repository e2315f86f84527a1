import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { factories } from '../../../bin/components.js';
import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import { TOKEN_TYPES, type ReconciliationRow, type Tokens } from '../../../core/reconciliation.js';
import { Service } from '../../../core/service.js';
import { defaults, type ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { ClickhouseExporter } from '../../../exporters/clickhouse/exporter.js';
import { MockAdminApi, type BilledCall } from '../../helpers/anthropic-admin-mock.js';
import { batchOf, testContext } from '../../helpers/context.js';

/**
 * The anthropic_admin extension in a running service over embedded chDB: it starts after the
 * clickhouse exporter, reads the ledger and stores its rows through the exporter's capabilities,
 * sets the drift gauges and serves /api/v1/reconciliation; the Admin key is in none of its logs,
 * rows, metrics or answers.
 */
const KEY = 'sk-ant-admin01-SERVICE-TEST-never-shown-7c1d';
const MODEL = 'claude-sonnet-4-5-20250929';
const PRICE: Tokens = { input_tokens: 3, output_tokens: 15, cache_read_tokens: 0.3, cache_write_5m_tokens: 3.75, cache_write_1h_tokens: 6 };
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), 'tl-recon-svc-'));
const chPath = join(dir, 'clickhouse');
let mock: MockAdminApi;
let service: Service;
let admin: string;
const stderr: string[] = [];

/** Yesterday's calls (all billed and all in the ledger) and today's (one never reached tokenledger). */
function traffic(): { billed: BilledCall[]; ledger: LlmCall[] } {
  const today = Math.floor(Date.now() / DAY) * DAY;
  const billed: BilledCall[] = [];
  const ledger: LlmCall[] = [];
  for (let i = 0; i < 10; i++) {
    const yesterday = i < 6;
    const atMs = yesterday ? today - DAY + (i + 1) * 3_600_000 : Math.min(Date.now() - 1000, today + i * 1000);
    const tokens: Tokens = { input_tokens: 100 + i, output_tokens: 20 + i, cache_read_tokens: 1000 * (i % 2), cache_write_5m_tokens: 50, cache_write_1h_tokens: i === 3 ? 70 : 0 };
    billed.push({ atMs, model: MODEL, api_key_id: 'apikey_x', workspace_id: null, tokens });
    if (i === 9) continue; // lost on its way to tokenledger
    const cost = TOKEN_TYPES.reduce((s, t) => s + (tokens[t] * PRICE[t]) / 1e6, 0);
    ledger.push({ ...emptyCall(), call_id: `svc-${i}`, timestamp: new Date(atMs).toISOString(), provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: MODEL, route: 'anthropic_messages', source: 'litellm', status: 'ok', ...tokens, cost_usd: cost });
  }
  // A Bedrock call of the same model: billed by AWS, not Anthropic, so not compared.
  ledger.push({ ...emptyCall(), call_id: 'svc-bedrock', timestamp: new Date(today - DAY + 3_600_000).toISOString(), provider: 'aws.bedrock', model: 'claude-sonnet-4-5', input_tokens: 999, cost_usd: 1 });
  return { billed, ledger };
}

beforeAll(async () => {
  const { billed, ledger } = traffic();
  const cfg: ClickhouseConfig = { ...defaults, mode: 'embedded', path: chPath, queue: { type: 'memory', path: '', max_bytes: 64 << 20 }, batch: { max_rows: 500, max_delay: '20ms' } };
  const seed = new ClickhouseExporter(cfg, testContext('clickhouse'));
  await seed.start();
  await seed.consume(batchOf({ calls: ledger }));
  await seed.flush();
  await seed.shutdown();

  mock = await new MockAdminApi({ adminKey: KEY, prices: { [MODEL]: PRICE }, echoKeyInErrors: true }).start();
  mock.calls = billed;
  mock.failNext({ status: 429, retryAfter: '1' }, { status: 502 });
  writeFileSync(join(dir, 'pipeline.yaml'), `receivers:
  otlp: { protocols: { grpc: { enabled: false }, http: { endpoint: 127.0.0.1:0 } } }
exporters:
  clickhouse: { mode: embedded, path: ${chPath}, queue: { type: memory } }
extensions:
  anthropic_admin:
    admin_key: \${env:ANTHROPIC_ADMIN_KEY}
    url: ${mock.url}
    interval: 1h
    lookback: 24h
    settle: 1m
    max_retry_wait: 2s
service:
  extensions: [anthropic_admin]
  pipelines: { calls: { receivers: [otlp], exporters: [clickhouse] } }
  telemetry: { logs: { level: debug }, admin: { endpoint: 127.0.0.1:0 } }
  shutdown_timeout: 10s
`);
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr.push(String(chunk));
    return write(chunk, ...(rest as []));
  });
  service = new Service(join(dir, 'pipeline.yaml'), factories, { ...process.env, ANTHROPIC_ADMIN_KEY: KEY });
  await service.start();
  admin = `http://${service.adminAddress()}`;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  vi.restoreAllMocks();
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function metrics(): Promise<string> {
  return (await fetch(`${admin}/metrics`)).text();
}

async function untilRun(): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await metrics();
    if (/tokenledger_reconciliation_runs_total\{provider="anthropic",result="(ok|error)"\} 1/.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`no reconciliation run within 60 s; metrics:\n${text.split('\n').filter((l) => l.includes('reconciliation')).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('anthropic_admin extension in a running service', () => {
  it('reconciles at start through the retried API, stores the rows, sets the gauges and serves them', async () => {
    const text = await untilRun();
    expect(text).toContain('tokenledger_reconciliation_runs_total{provider="anthropic",result="ok"} 1');
    expect(mock.requests.map((r) => r.status).slice(0, 3)).toEqual([429, 502, 200]);
    // The window reaches today: no ending_at (a future one is not documented), the answer runs to now.
    expect(mock.requests.map((r) => [r.path, r.params.has('ending_at'), r.params.get('bucket_width'), r.params.getAll('group_by[]').join(',')]).slice(2)).toEqual([
      ['/v1/organizations/usage_report/messages', false, '1d', 'model'], ['/v1/organizations/cost_report', false, '1d', 'description'],
    ]);
    expect(text).toContain('tokenledger_reconciliation_api_requests_total{provider="anthropic",report="usage_report",status="429"} 1');
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
    expect(text).toContain(`tokenledger_reconciliation_drift_usd{provider="anthropic",model="claude-sonnet-4-5",day="${yesterday}",status="final"} 0`);
    expect(text).toContain('tokenledger_reconciliation_drift_threshold_ratio{provider="anthropic"} 0.02');
    const lost = (109 * 3 + 29 * 15 + 1000 * 0.3 + 50 * 3.75) / 1e6;
    const todayGauge = new RegExp(`tokenledger_reconciliation_unmatched_usd\\{provider="anthropic",model="claude-sonnet-4-5",day="${today}",status="partial"\\} ([0-9.e-]+)`).exec(text);
    expect(Number(todayGauge?.[1])).toBeCloseTo(lost, 9);

    const res = await fetch(`${admin}/api/v1/reconciliation?from=${yesterday}&to=${new Date(Date.now() + DAY).toISOString().slice(0, 10)}`);
    expect(res.status).toBe(200);
    const { rows } = (await res.json()) as { rows: ReconciliationRow[] };
    expect(rows.map((r) => [r.day, r.model, r.status, r.ledger_calls])).toEqual([[yesterday, 'claude-sonnet-4-5', 'final', 6], [today, 'claude-sonnet-4-5', 'partial', 3]]);
    expect(rows[0]).toMatchObject({ drift_usd: 0, price_drift_usd: 0, unmatched_cost_usd: 0, explanation: '' });
    expect(rows[0].reported).toEqual(rows[0].ledger);
    expect(rows[1].drift_usd).toBeCloseTo(lost, 9);
    expect(rows[1].explanation).toMatch(/^day not final: .*; reported but not in the ledger: 109 input_tokens, 29 output_tokens, 1000 cache_read_tokens, 50 cache_write_5m_tokens/);
    expect((await fetch(`${admin}/api/v1/reconciliation?from=2026-13-01`)).status).toBe(400);
  }, 90_000);

  it('never shows the Admin key: not in logs (debug level), metrics, stored rows, or the API', async () => {
    await untilRun();
    const rows = await (await fetch(`${admin}/api/v1/reconciliation?from=2000-01-01&to=2100-01-01`)).text();
    for (const where of [stderr.join(''), await metrics(), rows]) {
      expect(where).not.toContain(KEY);
      expect(where).not.toContain('SERVICE-TEST');
    }
    expect(stderr.join('')).toContain('reconciliation done');
  }, 90_000);
});

describe('anthropic_admin without a ledger', () => {
  it('refuses to start without a clickhouse exporter, saying so', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'tl-recon-bare-'));
    writeFileSync(join(bare, 'pipeline.yaml'), `receivers:
  otlp: { protocols: { grpc: { enabled: false }, http: { endpoint: 127.0.0.1:0 } } }
exporters: { debug: }
extensions:
  anthropic_admin:
    admin_key: \${env:ANTHROPIC_ADMIN_KEY}
    url: http://127.0.0.1:9
service:
  extensions: [anthropic_admin]
  pipelines: { calls: { receivers: [otlp], exporters: [debug] } }
  telemetry: { logs: { level: error }, admin: { endpoint: 127.0.0.1:0 } }
`);
    const s = new Service(join(bare, 'pipeline.yaml'), factories, { ANTHROPIC_ADMIN_KEY: KEY });
    await expect(s.start()).rejects.toThrow('anthropic_admin failed to start: needs a clickhouse exporter in a pipeline: the ledger is read from it and the results are stored there');
    await s.stop();
    rmSync(bare, { recursive: true, force: true });
  });
});
