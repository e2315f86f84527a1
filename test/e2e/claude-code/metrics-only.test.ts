/**
 * Scenario 3: a metrics-only setup. The real Claude Code CLI straight to the mock Anthropic API,
 * exporting only its OTel metrics (no events) to a tokenledger whose claude-normalizer bills them
 * (`claude_code.usage_from: metrics`). The `usage_interval` rows in ClickHouse and the token
 * series on /metrics must add up to exactly the usage the mock returned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { allocatePorts, metricSum, readCalls, startTokenledger, type ClickhouseTarget, type TokenledgerProcess } from '../harness/tokenledger.js';
import { startMockUpstream, type MockUpstream, type MockUsage } from '../mock-upstream/server.js';
import { claudeBinary, runClaude } from './cli.js';
import { startEgressTrap, type EgressTrap } from './egress-trap.js';
import { FailureTracker } from './failures.js';
import { ScenarioResults } from './results.js';
import { TOKEN_TYPE_LABELS, mockTokens, promptFor, rowTokens, sumTokens, type CcRow, type Tokens } from './rows.js';
import { tokenledgerBuilt } from './services.js';
import { until } from './wait.js';

const VERSION = '2.1.330';
const ready =
  serviceAvailable('claude-code CLI', claudeBinary(VERSION) !== null, `version ${VERSION} not installed; run scripts/setup-claude-code.sh`) &&
  serviceAvailable('tokenledger build', tokenledgerBuilt(), 'dist/bin/tokenledger.js missing; run npx tsc -p .');

const ID = 'metrics-only-2-1-330';
const TEAM = 'team-metrics-only';
/** No 1h cache write: the metrics carry cache creation as one number, billed at the 5-minute rate. */
const USAGE: MockUsage = { input: 321, output: 87, cacheRead: 9800, cacheWrite5m: 1500, cacheWrite1h: 0 };
const KEY = { client_version: VERSION, path: 'direct, metrics only', litellm_version: '', otlp_protocol: 'http/protobuf', clickhouse: 'embedded' as const };

describe.skipIf(!ready)(`Claude Code ${VERSION} → mock Anthropic API, OTel metrics only → tokenledger (usage_from: metrics)`, () => {
  const results = new ScenarioResults('direct-metrics-only');
  let workDir: string;
  let mock: MockUpstream;
  let trap: EgressTrap;
  let ch: ClickhouseTarget;
  let tl: TokenledgerProcess;
  const failures = new FailureTracker();
  const { track } = failures;
  let sessionId = '';
  let claudeCost = NaN;
  let metricsText = '';
  let rows: CcRow[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tokenledger-e2e-cc-metrics-'));
    mock = await startMockUpstream({ idPrefix: 'ccmetrics' });
    trap = await startEgressTrap();
    ch = { mode: 'embedded', path: join(workDir, 'clickhouse') };
    tl = await startTokenledger(workDir, await allocatePorts(), ch, { processors: { 'claude-normalizer': { claude_code: { usage_from: 'metrics' } } } });
    results.plan({ ...KEY, checks: ['usage_interval rows only', 'tokens = mock usage', 'cost_usd = Claude Code cost', 'session_id and team', '/metrics tokens and cost = rows'] });
  });

  afterAll(async () => {
    await tl?.stop();
    await mock?.close();
    await trap?.close();
    results.write();
    if (failures.failed) process.stderr.write(`claude-code metrics-only e2e: kept ${workDir} (tokenledger.1.log, pipeline.yaml, clickhouse/)\n`);
    else if (workDir) rmSync(workDir, { recursive: true, force: true });
  });


  /** What the metrics can report: cache creation without the 5m/1h split. */
  const expected: Tokens = { ...mockTokens(USAGE), cacheWrite5m: USAGE.cacheWrite5m + USAGE.cacheWrite1h, cacheWrite1h: 0 };
  const tokensOnMetrics = (text: string): Tokens => {
    const t = (field: keyof Tokens): number => metricSum(text, 'tokenledger_llm_tokens_total', { source: 'claude_code', team: TEAM, token_type: TOKEN_TYPE_LABELS[field] });
    return { input: t('input'), output: t('output'), cacheRead: t('cacheRead'), cacheWrite5m: t('cacheWrite5m'), cacheWrite1h: t('cacheWrite1h') };
  };

  it('runs the call with only the metrics exporter on; /metrics counts the mock\'s tokens and Claude Code\'s cost', track(async () => {
    const run = await runClaude({
      version: VERSION, baseUrl: mock.url, apiKey: 'sk-ant-e2e-metrics', egressProxy: trap.url,
      otlp: { protocol: 'http/protobuf', endpoint: tl.httpEndpoint },
      resourceAttributes: { 'team.id': TEAM },
      prompt: promptFor(ID, USAGE),
      extraEnv: { OTEL_LOGS_EXPORTER: 'none' },
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(mock.billable().map((s) => s.mockId)).toEqual([ID]);
    sessionId = run.result.session_id;
    claudeCost = run.result.total_cost_usd;

    // Claude Code exports cumulative sums every second and once more on exit: wait for the total.
    await until(`tokenledger_llm_tokens_total{team="${TEAM}"} = the mock's usage`, async () => {
      metricsText = await tl.metrics();
      return tokensOnMetrics(metricsText).output >= USAGE.output;
    }, 15_000);
    const logs = metricSum(metricsText, 'tokenledger_receiver_accepted_items_total', { signal: 'logs' });
    expect(logs, 'Claude Code exported events: the scenario is not metrics-only').toBe(0);
    expect(tokensOnMetrics(metricsText)).toEqual(expected);
    expect(metricSum(metricsText, 'tokenledger_llm_cost_usd_total', { source: 'claude_code', team: TEAM })).toBeCloseTo(claudeCost, 9);
    // An interval may cover several calls: it adds tokens and cost, never a call.
    expect(metricSum(metricsText, 'tokenledger_llm_calls_total', { source: 'claude_code' })).toBe(0);
    process.stdout.write(`[claude-code direct metrics-only ${VERSION}] run ${run.durationMs} ms, session ${sessionId}, cost ${claudeCost}: /metrics tokens ${JSON.stringify(tokensOnMetrics(metricsText))}\n`);
  }), 60_000);

  it('tokenledger drains into embedded ClickHouse and exits 0 on SIGTERM', track(async () => {
    expect(await tl.stop(), tl.logTail()).toBe(0);
    rows = (await readCalls(ch)) as CcRow[];
  }), 60_000);

  it('stores usage_interval rows that add up to the mock\'s usage and Claude Code\'s cost, as /metrics does', track(async () => {
    expect(sessionId, 'the run above failed').not.toBe('');
    expect(rows.map((r) => r.record_type)).toEqual(rows.map(() => 'usage_interval'));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toMatchObject({ source: 'claude_code', session_id: sessionId, team: TEAM, provider: 'anthropic', model: 'claude-sonnet-4-5', status: 'ok' });
    const stored = sumTokens(rows.map(rowTokens));
    expect(stored).toEqual(expected);
    expect(stored).toEqual(tokensOnMetrics(metricsText));
    const cost = rows.reduce((a, r) => a + Number(r.cost_usd), 0);
    expect(cost).toBeCloseTo(claudeCost, 9);
    expect(trap.attempts).toEqual([]);
    results.pass(KEY);
    process.stdout.write(`[claude-code direct metrics-only ${VERSION}] ${rows.length} usage_interval row(s): tokens ${JSON.stringify(stored)} = mock = /metrics, cost ${cost} = Claude Code ${claudeCost}\n`);
  }));
});
