import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCall, type LlmCall } from '../../core/llm-call.js';
import { TOKEN_TYPES, type ReconciliationRow, type Tokens } from '../../core/reconciliation.js';
import { ClickhouseExporter } from '../../exporters/clickhouse/exporter.js';
import { MockAdminApi, type BilledCall } from '../helpers/anthropic-admin-mock.js';
import { batchOf, testContext } from '../helpers/context.js';
import { serviceAvailable } from '../helpers/services.js';
import { serverConfig, serverUp, SERVER_URL, testDatabase } from '../exporters/clickhouse/helpers.js';
import { RunningCli } from './cli-process.js';

/**
 * `tokenledger reconcile` and `report reconciliation` against clickhouse-server (Debian's 18.16:
 * the reconciliation table and its queries must work there too) and the mock Admin API.
 */
const KEY = 'sk-ant-admin01-CLI-TEST-secret-91b2';
const SONNET = 'claude-sonnet-4-5-20250929';
const HAIKU = 'claude-haiku-4-5-20251001';
const PRICES: Record<string, Tokens> = {
  [SONNET]: { input_tokens: 3, output_tokens: 15, cache_read_tokens: 0.3, cache_write_5m_tokens: 3.75, cache_write_1h_tokens: 6 },
  [HAIKU]: { input_tokens: 1, output_tokens: 5, cache_read_tokens: 0.1, cache_write_5m_tokens: 1.25, cache_write_1h_tokens: 2 },
};
const D1 = Date.parse('2026-11-01T00:00:00Z');

const up = await serverUp();
const run = serviceAvailable('clickhouse-server', up, `nothing answers at ${SERVER_URL}`);
const database = testDatabase('recon_cli');
const dir = mkdtempSync(join(tmpdir(), 'tl-recon-cli-'));
let mock: MockAdminApi;

async function cli(args: string[], env: NodeJS.ProcessEnv = { ANTHROPIC_ADMIN_KEY: KEY }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const p = new RunningCli(args, env);
  const status = await p.exited;
  return { status, stdout: p.stdout, stderr: p.stderr };
}

function pipeline(extra = ''): string {
  const file = join(dir, `pipeline-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `receivers:
  otlp: { protocols: { grpc: { enabled: false }, http: { endpoint: 127.0.0.1:0 } } }
exporters:
  clickhouse: { mode: server, url: ${SERVER_URL}, database: ${database}, queue: { type: memory } }
extensions:
  anthropic_admin:
    admin_key: \${env:ANTHROPIC_ADMIN_KEY}
    url: ${mock.url}
    max_retries: 1
    max_retry_wait: 100ms
${extra}service:
  extensions: [anthropic_admin]
  pipelines: { calls: { receivers: [otlp], exporters: [clickhouse] } }
`);
  return file;
}

describe.runIf(run)('tokenledger reconcile', () => {
  beforeAll(async () => {
    const billed: BilledCall[] = [];
    const ledger: LlmCall[] = [];
    for (let i = 0; i < 12; i++) {
      const model = i % 3 === 0 ? HAIKU : SONNET;
      const tokens: Tokens = { input_tokens: 50 + i, output_tokens: 10 + i, cache_read_tokens: i % 2 ? 400 : 0, cache_write_5m_tokens: 30, cache_write_1h_tokens: 0 };
      const atMs = D1 + (i % 2) * 86_400_000 + i * 60_000;
      billed.push({ atMs, model, api_key_id: i % 2 ? 'apikey_search' : null, workspace_id: null, tokens });
      const cost = TOKEN_TYPES.reduce((s, t) => s + (tokens[t] * PRICES[model][t]) / 1e6, 0);
      ledger.push({ ...emptyCall(), call_id: `cli-${i}`, timestamp: new Date(atMs).toISOString(), provider: 'anthropic', model: model === SONNET ? 'claude-sonnet-4-5' : 'claude-haiku-4-5', model_raw: model, team: i % 2 ? 'search' : '', ...tokens, cost_usd: cost });
    }
    const seed = new ClickhouseExporter(serverConfig(database), testContext('clickhouse'));
    await seed.start();
    await seed.consume(batchOf({ calls: ledger }));
    await seed.flush();
    await seed.shutdown();
    // Anthropic bills Haiku 10 % below list price (a negotiated discount).
    mock = await new MockAdminApi({ adminKey: KEY, prices: PRICES, priceFactor: { [HAIKU]: 0.9 }, echoKeyInErrors: true }).start();
    mock.calls = billed;
  }, 120_000);

  afterAll(async () => {
    await mock?.close();
    const client = createClient({ url: SERVER_URL });
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
  });

  it('compares whole days, stores the rows, and report reconciliation reads them back', async () => {
    const file = pipeline('    api_keys: { apikey_search: { team: search } }\n');
    const r = await cli(['reconcile', '-c', file, '--from', '2026-11-01', '--to', '2026-11-03', '-f', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as ReconciliationRow[];
    const totals = rows.filter((x) => x.team === '');
    expect(totals.map((x) => [x.day, x.model])).toEqual([
      ['2026-11-01', 'claude-haiku-4-5'], ['2026-11-01', 'claude-sonnet-4-5'], ['2026-11-02', 'claude-haiku-4-5'], ['2026-11-02', 'claude-sonnet-4-5'],
    ]);
    for (const t of totals) {
      expect(t.status).toBe('final');
      expect(t.reported).toEqual(t.ledger);
      if (t.model === 'claude-sonnet-4-5') expect(t.drift_usd).toBe(0);
      else {
        expect(t.drift_ratio).toBeCloseTo(-0.1, 9);
        expect(t.price_drift_usd).toBeCloseTo(t.drift_usd, 9);
      }
    }
    expect(new Set(rows.filter((x) => x.team !== '').map((x) => x.team))).toEqual(new Set(['search', '(unmapped)']));
    expect(rows.filter((x) => x.team !== '').every((x) => x.drift_usd === 0)).toBe(true);

    expect(mock.requests.at(-1)!.params.get('ending_at')).toBe('2026-11-03T00:00:00.000Z'); // a past window is bounded
    expect(mock.requests.find((r) => r.path.endsWith('/messages'))!.params.getAll('group_by[]')).toEqual(['model', 'api_key_id']);
    const table = await cli(['reconcile', '-c', file, '--from', '2026-11-01', '--to', '2026-11-03']);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^day\s+model\s+team\s+status\s+ledger_tokens/);
    expect(table.stdout).toContain("↳ price difference -0.");

    const report = await cli(['report', 'reconciliation', '-c', file, '--from', '2026-11-01', '--to', '2026-11-03', '-f', 'json']);
    expect(report.stderr).toBe('');
    const stored = JSON.parse(report.stdout) as ReconciliationRow[];
    // The second run replaced the first: one row per day × model × team.
    expect(stored.map((x) => [x.day, x.model, x.team, x.drift_usd])).toEqual(rows.map((x) => [x.day, x.model, x.team, x.drift_usd]));
  }, 120_000);

  it('an API that keeps failing: exit 2 naming the status, never the key (even when the API echoes it)', async () => {
    mock.failNext({ status: 500 }, { status: 500 });
    const r = await cli(['reconcile', '-c', pipeline(), '--from', '2026-11-01', '--to', '2026-11-02']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^tokenledger reconcile: usage_report: HTTP 500: api_error: internal error \(key \[redacted\]\) \(after 2 attempts\)\n$/);
    expect(r.stderr + r.stdout).not.toContain(KEY);
  }, 60_000);

  it('bad input: a day that is not one, no extension, a key that cannot be one; the key is in no diagnostic', async () => {
    const bad = await cli(['reconcile', '-c', pipeline(), '--from', '2026-11-31', '--to', '2026-12-02']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('tokenledger reconcile: "2026-11-31" is not a YYYY-MM-DD day\n');
    const bare = join(dir, 'bare.yaml');
    writeFileSync(bare, `receivers: { otlp: }\nexporters: { clickhouse: { mode: server, url: ${SERVER_URL}, database: ${database} } }\nservice: { pipelines: { p: { receivers: [otlp], exporters: [clickhouse] } } }\n`);
    const none = await cli(['reconcile', '-c', bare]);
    expect(none.stderr).toBe(`tokenledger reconcile: ${bare}: no anthropic_admin extension (anthropic_admin extensions: none)\n`);
    const spaced = `${KEY} trailing`;
    const invalid = await cli(['validate', '-c', pipeline()], { ANTHROPIC_ADMIN_KEY: spaced });
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('extensions.anthropic_admin.admin_key: contains whitespace (value not shown: it is a secret)');
    expect(invalid.stderr + invalid.stdout).not.toContain('CLI-TEST');
  }, 60_000);
});
