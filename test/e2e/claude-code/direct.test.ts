/**
 * Scenario 1: the real Claude Code CLI straight to the mock Anthropic API, its OTel metrics and
 * events exported to a real tokenledger over each OTLP protocol. Every run must end as exactly one
 * billable ClickHouse row with the mock's tokens, Claude Code's own cost, its session and team,
 * and as the matching series on /metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { allocatePorts, metricSum, readCalls, startTokenledger, type ClickhouseTarget, type TokenledgerProcess } from '../harness/tokenledger.js';
import { startMockUpstream, type MockUpstream, type MockUsage } from '../mock-upstream/server.js';
import { CLAUDE_CODE_VERSIONS, OTLP_PROTOCOLS, claudeBinary, runClaude, type OtlpProtocol } from './cli.js';
import { startEgressTrap, type EgressTrap } from './egress-trap.js';
import { FailureTracker } from './failures.js';
import { ScenarioResults } from './results.js';
import { TOKEN_TYPE_LABELS, mockTokens, promptFor, reportsCacheSplit, rowTokens, sumTokens, type CcRow, type Tokens } from './rows.js';
import { CLICKHOUSE_SERVER_URL, clickhouseServerUp, dropDatabase, tokenledgerBuilt } from './services.js';
import { until } from './wait.js';

const missing = CLAUDE_CODE_VERSIONS.filter((v) => !claudeBinary(v));
const ready =
  serviceAvailable('claude-code CLI', missing.length === 0, `versions ${missing.join(', ')} not installed; run scripts/setup-claude-code.sh`) &&
  serviceAvailable('tokenledger build', tokenledgerBuilt(), 'dist/bin/tokenledger.js missing; run npx tsc -p .');
const serverReady = ready && serviceAvailable('clickhouse-server', await clickhouseServerUp(), `nothing answers ${CLICKHOUSE_SERVER_URL}/ping; run scripts/dev-services.sh`);

interface Case {
  version: string;
  protocol: OtlpProtocol;
  /** Beta traces on as well: each call is then reported by an api_request event and an llm_request span. */
  traces: boolean;
  path: 'direct' | 'direct+traces';
  id: string;
  team: string;
  usage: MockUsage;
  /** Filled by the run. */
  sessionId?: string;
  requestId?: string;
  claudeCost?: number;
}

/** Beta traces were verified on 2.1.330 (../shared/research/claude-code.md §6). */
const TRACES_VERSION = '2.1.330';
const TRACE_ENV = { CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1', OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_EXPORT_INTERVAL: '500' };

const makeCases = (): Case[] => {
  const plan: [string, OtlpProtocol, boolean][] = [
    ...CLAUDE_CODE_VERSIONS.flatMap((v) => OTLP_PROTOCOLS.map((p): [string, OtlpProtocol, boolean] => [v, p, false])),
    ...(CLAUDE_CODE_VERSIONS.includes(TRACES_VERSION) ? [[TRACES_VERSION, 'http/protobuf', true] as [string, OtlpProtocol, boolean]] : []),
  ];
  return plan.map(([version, protocol, traces], n): Case => {
    const path = traces ? 'direct+traces' : 'direct';
    const slug = `${version}-${protocol}-${path}`.replace(/[^a-z0-9]+/gi, '-');
    return {
      version, protocol, traces, path, id: slug, team: `team-${slug}`,
      usage: { input: 100 + 10 * n, output: 50 + n, cacheRead: 9800, cacheWrite5m: 1200, cacheWrite1h: reportsCacheSplit(version) ? 300 : 0 },
    };
  });
};

const TARGETS: { name: ClickhouseTarget['mode']; run: boolean; target: (workDir: string) => ClickhouseTarget }[] = [
  { name: 'embedded', run: ready, target: (workDir) => ({ mode: 'embedded', path: join(workDir, 'clickhouse') }) },
  { name: 'server', run: serverReady, target: () => ({ mode: 'server', url: CLICKHOUSE_SERVER_URL, database: `tl_e2e_cc_${process.pid}_${Date.now()}` }) },
];

for (const { name: clickhouse, run: runIt, target } of TARGETS) describe.skipIf(!runIt)(`Claude Code → mock Anthropic API, OTel → tokenledger → ClickHouse ${clickhouse}`, () => {
  const cases = makeCases();
  const results = new ScenarioResults(clickhouse === 'embedded' ? 'direct' : 'direct-clickhouse-server');
  let workDir: string;
  let mock: MockUpstream;
  let trap: EgressTrap;
  let ch: ClickhouseTarget;
  let tl: TokenledgerProcess;
  let rows: CcRow[] = [];
  const failures = new FailureTracker();
  const { track } = failures;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tokenledger-e2e-cc-direct-'));
    mock = await startMockUpstream({ idPrefix: 'ccdirect' });
    trap = await startEgressTrap();
    ch = target(workDir);
    tl = await startTokenledger(workDir, await allocatePorts(), ch);
    for (const c of cases) {
      results.plan({
        client_version: c.version, path: c.path, litellm_version: '', otlp_protocol: c.protocol, clickhouse,
        checks: ['one billable row per api_request', 'tokens = mock usage', 'cost_usd = reported_cost_usd = Claude Code cost', 'session_id and team', '/metrics calls, tokens and cost'],
      });
    }
  });

  afterAll(async () => {
    await tl?.stop();
    if (!failures.failed && ch?.mode === 'server') await dropDatabase(ch.url, ch.database);
    await mock?.close();
    await trap?.close();
    results.write();
    if (failures.failed) process.stderr.write(`claude-code direct e2e (${clickhouse}): kept ${workDir} (tokenledger.1.log, pipeline.yaml, clickhouse/)${ch?.mode === 'server' ? ` and database ${ch.database}` : ''}\n`);
    else if (workDir) rmSync(workDir, { recursive: true, force: true });
  });


  for (const c of cases) {
    it(`${c.version} over ${c.protocol}${c.traces ? ' with traces' : ''}: the run's call is counted on /metrics`, track(async () => {
      const run = await runClaude({
        version: c.version, baseUrl: mock.url, apiKey: 'sk-ant-e2e-direct', egressProxy: trap.url,
        otlp: { protocol: c.protocol, endpoint: c.protocol === 'grpc' ? tl.grpcEndpoint : tl.httpEndpoint },
        resourceAttributes: { 'team.id': c.team },
        prompt: promptFor(c.id, c.usage),
        extraEnv: c.traces ? TRACE_ENV : {},
      });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.result.is_error).toBe(false);
      const served = mock.billable().filter((s) => s.mockId === c.id);
      expect(served).toHaveLength(1);
      expect(served[0].headers['x-claude-code-session-id']).toBe(run.result.session_id);
      c.sessionId = run.result.session_id;
      c.requestId = served[0].requestId;
      c.claudeCost = run.result.total_cost_usd;

      const team = { source: 'claude_code', team: c.team };
      await until(`tokenledger_llm_calls_total{team="${c.team}"} = 1`, async () => metricSum(await tl.metrics(), 'tokenledger_llm_calls_total', team) >= 1, 15_000);
      const text = await tl.metrics();
      expect(metricSum(text, 'tokenledger_llm_calls_total', { ...team, status: 'ok', model: 'claude-sonnet-4-5', provider: 'anthropic' })).toBe(1);
      for (const [field, tokenType] of Object.entries(TOKEN_TYPE_LABELS) as [keyof Tokens, string][]) {
        expect(metricSum(text, 'tokenledger_llm_tokens_total', { ...team, token_type: tokenType }), tokenType).toBe(mockTokens(c.usage)[field]);
      }
      expect(metricSum(text, 'tokenledger_llm_cost_usd_total', team)).toBeCloseTo(c.claudeCost, 9);
      process.stdout.write(`[claude-code ${c.path} ${clickhouse} ${c.version} ${c.protocol}] run ${run.durationMs} ms, session ${c.sessionId}, ${c.requestId}, cost ${c.claudeCost}: /metrics ok\n`);
    }), 60_000);
  }

  const retry = { version: CLAUDE_CODE_VERSIONS[CLAUDE_CODE_VERSIONS.length - 1], id: 'direct-retry-529', team: 'team-retry', sessionId: '', okRequestId: '' };
  const retryUsage: MockUsage = { input: 77, output: 33, cacheRead: 5000, cacheWrite5m: 0, cacheWrite1h: 0 };

  it(`${retry.version}: a 529 answered by one client retry is one ok row; the failed attempt bills nothing`, track(async () => {
    const run = await runClaude({
      version: retry.version, baseUrl: mock.url, apiKey: 'sk-ant-e2e-direct', egressProxy: trap.url,
      otlp: { protocol: 'http/protobuf', endpoint: tl.httpEndpoint },
      resourceAttributes: { 'team.id': retry.team },
      prompt: promptFor(retry.id, retryUsage).replace(']]', ' error=529 times=1]]'),
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const attempts = mock.calls.filter((s) => s.mockId === retry.id);
    expect(attempts.map((a) => a.status)).toEqual([529, 200]);
    retry.sessionId = run.result.session_id;
    retry.okRequestId = attempts[1].requestId;
    await until(`tokenledger_llm_calls_total{team="${retry.team}",status="ok"} = 1`, async () => metricSum(await tl.metrics(), 'tokenledger_llm_calls_total', { team: retry.team, status: 'ok' }) >= 1, 15_000);
    const text = await tl.metrics();
    expect(metricSum(text, 'tokenledger_llm_tokens_total', { team: retry.team, token_type: 'input' })).toBe(retryUsage.input);
    expect(metricSum(text, 'tokenledger_llm_tokens_total', { team: retry.team, token_type: 'cache_read' })).toBe(retryUsage.cacheRead);
    process.stdout.write(`[claude-code direct ${clickhouse} retry ${retry.version}] attempts ${attempts.map((a) => `${a.requestId}:${a.status}`).join(', ')}, calls ${JSON.stringify(samplesByStatus(text, retry.team))}\n`);
  }), 60_000);

  it(`tokenledger drains into ClickHouse (${clickhouse}) and exits 0 on SIGTERM`, track(async () => {
    expect(await tl.stop(), tl.logTail()).toBe(0);
    // readCalls selects every column: the rows carry the Claude Code fields CcRow names.
    rows = (await readCalls(ch)) as CcRow[];
  }), 60_000);

  for (const c of cases) {
    it(`${c.version} over ${c.protocol}${c.traces ? ' with traces' : ''}: one billable row with the mock's tokens, Claude Code's cost and session`, track(async () => {
      expect(c.sessionId, 'the run above failed').toBeDefined();
      const mine = rows.filter((r) => r.session_id === c.sessionId);
      expect(mine, JSON.stringify(mine)).toHaveLength(1);
      const row = mine[0];
      expect(row).toMatchObject({
        call_id: c.requestId, record_type: 'call', source: 'claude_code', source_version: c.version, provider: 'anthropic',
        model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5-20250929', status: 'ok', team: c.team, service_name: 'claude-code',
      });
      expect(rowTokens(row)).toEqual(mockTokens(c.usage));
      expect(row.reported_cost_usd).toBeCloseTo(c.claudeCost ?? NaN, 9);
      expect(row.cost_usd).toBeCloseTo(c.claudeCost ?? NaN, 9);
      results.pass({ client_version: c.version, path: c.path, litellm_version: '', otlp_protocol: c.protocol, clickhouse });
      process.stdout.write(`[claude-code ${c.path} ${clickhouse} ${c.version} ${c.protocol}] row ${row.call_id}: tokens ${JSON.stringify(rowTokens(row))}, cost ${row.cost_usd} = reported ${row.reported_cost_usd}\n`);
    }));
  }

  it(`${retry.version}: the retried call's rows — one ok row with the mock's tokens, errors (if reported) with none`, track(async () => {
    expect(retry.sessionId, 'the retry run failed').not.toBe('');
    const mine = rows.filter((r) => r.session_id === retry.sessionId);
    const ok = mine.filter((r) => r.status === 'ok');
    expect(ok, JSON.stringify(mine)).toHaveLength(1);
    expect(ok[0].call_id).toBe(retry.okRequestId);
    expect(rowTokens(ok[0])).toEqual(mockTokens(retryUsage));
    for (const r of mine.filter((x) => x.status !== 'ok')) {
      expect(r.status).toBe('error');
      expect(rowTokens(r)).toEqual(mockTokens({ input: 0, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 }));
      expect(r.cost_usd).toBe(0);
    }
  }));

  it('stores nothing but the served calls, and nothing left loopback', track(async () => {
    const billable = mock.billable();
    expect(rows.filter((r) => r.status === 'ok')).toHaveLength(billable.length);
    expect(sumTokens(rows.map(rowTokens))).toEqual(sumTokens(billable.map((s) => mockTokens(s.usage))));
    expect(trap.attempts).toEqual([]);
  }));
});

function samplesByStatus(text: string, team: string): Record<string, number> {
  return { ok: metricSum(text, 'tokenledger_llm_calls_total', { team, status: 'ok' }), error: metricSum(text, 'tokenledger_llm_calls_total', { team, status: 'error' }) };
}
