/**
 * Scenario 2: the real Claude Code CLI through a real LiteLLM proxy — its `/anthropic` pass-through
 * and its native `/v1/messages` — to the mock Anthropic API, with ANTHROPIC_CUSTOM_HEADERS carrying
 * LiteLLM's customer and tag headers. LiteLLM's OTel callback and Claude Code's own OTel export
 * both go to one tokenledger, so every call is reported twice: it must still be ONE billable
 * ClickHouse row, with the session from Claude Code and the customer and tags from LiteLLM.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { MASTER_KEY, litellmInstalled, startLitellm, type LitellmProxy } from '../harness/litellm.js';
import { acceptedSpans, allocatePorts, metricSum, readCalls, startTokenledger, type ClickhouseTarget, type TokenledgerProcess } from '../harness/tokenledger.js';
import { litellmConfig, litellmEnv, settingsFor } from '../harness/litellm-config.js';
import { CI_VERSIONS } from '../litellm/versions.mjs';
import { startMockUpstream, type MockUpstream, type MockUsage } from '../mock-upstream/server.js';
import { CLAUDE_CODE_VERSIONS, E2E_MODEL, OTLP_PROTOCOLS, claudeBinary, runClaude, type OtlpProtocol } from './cli.js';
import { startEgressTrap, type EgressTrap } from './egress-trap.js';
import { FailureTracker } from './failures.js';
import { ScenarioResults } from './results.js';
import { TOKEN_TYPE_LABELS, mockTokens, promptFor, reportsCacheSplit, rowTokens, sumTokens, type CcRow, type Tokens } from './rows.js';
import { tokenledgerBuilt } from './services.js';

const missingClaude = CLAUDE_CODE_VERSIONS.filter((v) => !claudeBinary(v));
const missingLitellm = CI_VERSIONS.filter((v) => !litellmInstalled(v));
const ready =
  serviceAvailable('claude-code CLI', missingClaude.length === 0, `versions ${missingClaude.join(', ')} not installed; run scripts/setup-claude-code.sh`) &&
  serviceAvailable('LiteLLM proxy', missingLitellm.length === 0, `versions ${missingLitellm.join(', ')} not installed; run scripts/setup-litellm.sh`) &&
  serviceAvailable('tokenledger build', tokenledgerBuilt(), 'dist/bin/tokenledger.js missing; run npx tsc -p .');

const ROUTES = [
  { path: 'litellm-anthropic-passthrough', suffix: '/anthropic', route: 'anthropic_passthrough' },
  { path: 'litellm-v1-messages', suffix: '', route: 'anthropic_messages' },
] as const;

interface Case {
  litellm: string;
  claude: string;
  /** The LiteLLM route taken. */
  routePath: (typeof ROUTES)[number]['path'];
  /** Claude Code's beta traces on, with `traceparent` sent to LiteLLM: a third report of each call. */
  traces: boolean;
  /** routePath, with `+traces` when traces are on: the matrix's path. */
  path: string;
  suffix: string;
  route: string;
  protocol: OtlpProtocol;
  id: string;
  customer: string;
  tag: string;
  usage: MockUsage;
  sessionId?: string;
  requestId?: string;
  claudeCost?: number;
}

/**
 * Combinations where a strict check fails for a reason outside this harness (reported to the
 * owners). Their row check is still run in full: a failure is printed as KNOWN ISSUE and the test
 * is skipped; either way the results (and the matrix) record the issue. The file-wide checks hold the
 * other cases exactly and these to consistency between ClickHouse and /metrics.
 */
const KNOWN_ISSUES: { litellm: string; path: Case['routePath']; claude?: string; litellmDefect: boolean; issue: string }[] = [
  {
    litellm: '1.80.11', path: 'litellm-anthropic-passthrough', litellmDefect: true,
    issue: 'LiteLLM 1.80.11 does not log streamed /anthropic pass-through calls reliably (a plain streaming client gets no LLM span either): now and then no LLM span '
      + 'at all, and then no customer/tags can reach the row (the call is still billed once, from Claude Code). A span without usage does reach it (claude-normalizer joins it by session).',
  },
];

function knownIssue(c: Case): (typeof KNOWN_ISSUES)[number] | undefined {
  return KNOWN_ISSUES.find((k) => k.litellm === c.litellm && k.path === c.routePath && (k.claude === undefined || k.claude === c.claude));
}

/** Beta traces were verified on 2.1.330 (../shared/research/claude-code.md §6); older versions run without. */
const TRACES_FROM = '2.1.330';
const TRACE_ENV = { CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1', OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_EXPORT_INTERVAL: '500', CLAUDE_CODE_PROPAGATE_TRACEPARENT: '1' };

let n = 0;
const variants = (claude: string): boolean[] => (claude === TRACES_FROM ? [false, true] : [false]);
const cases: Case[] = CI_VERSIONS.flatMap((litellm) => CLAUDE_CODE_VERSIONS.flatMap((claude) => variants(claude).flatMap((traces) => ROUTES.map((r): Case => {
  const i = n++;
  const path = `${r.path}${traces ? '+traces' : ''}`;
  const slug = `${litellm}-${claude}-${path}`.replace(/[^a-z0-9]+/gi, '-');
  return {
    litellm, claude, routePath: r.path, traces, path, suffix: r.suffix, route: r.route,
    // Rotate the OTLP protocol of Claude Code's export: scenario 1 covers each one fully.
    protocol: OTLP_PROTOCOLS[i % OTLP_PROTOCOLS.length],
    id: `ll-${slug}`, customer: `cust-${slug}`, tag: `case:${slug}`,
    usage: { input: 200 + 10 * i, output: 60 + i, cacheRead: 9800, cacheWrite5m: 1200, cacheWrite1h: reportsCacheSplit(claude) ? 300 : 0 },
  };
}))));

describe.skipIf(!ready)('Claude Code → LiteLLM (/anthropic and /v1/messages) → mock Anthropic API, both reporting to tokenledger', () => {
  const results = new ScenarioResults('litellm');
  let workDir: string;
  let mock: MockUpstream;
  let trap: EgressTrap;
  let ch: ClickhouseTarget;
  let tl: TokenledgerProcess;
  let rows: CcRow[] = [];
  let metricsText = '';
  const failures = new FailureTracker();
  const { track } = failures;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tokenledger-e2e-cc-litellm-'));
    mock = await startMockUpstream({ idPrefix: 'cclitellm' });
    trap = await startEgressTrap();
    ch = { mode: 'embedded', path: join(workDir, 'clickhouse') };
    tl = await startTokenledger(workDir, await allocatePorts(), ch);
    for (const c of cases) {
      results.plan({
        client_version: c.claude, path: c.path, litellm_version: c.litellm, otlp_protocol: c.protocol, clickhouse: 'embedded',
        checks: ['one billable row for the two reports (LiteLLM + Claude Code)', 'tokens = mock usage', 'cost_usd = Claude Code cost', 'session_id from Claude Code', 'customer and tags from LiteLLM'],
      });
    }
  });

  afterAll(async () => {
    await tl?.stop();
    await mock?.close();
    await trap?.close();
    results.write();
    if (failures.failed) process.stderr.write(`claude-code litellm e2e: kept ${workDir} (tokenledger.1.log, litellm-*/litellm.log, clickhouse/)\n`);
    else if (workDir) rmSync(workDir, { recursive: true, force: true });
  });


  for (const litellmVersion of CI_VERSIONS) {
    describe(`LiteLLM ${litellmVersion}`, () => {
      let proxy: LitellmProxy;

      beforeAll(async () => {
        const dir = join(workDir, `litellm-${litellmVersion}`);
        mkdirSync(dir);
        const setting = settingsFor(litellmVersion)[0];
        const config = litellmConfig(mock.url, setting, MASTER_KEY);
        // Claude Code asks /v1/messages for the dated model id: route it to the mock like the alias.
        (config.model_list as unknown[]).push({ model_name: E2E_MODEL, litellm_params: { model: `anthropic/${E2E_MODEL}`, api_base: mock.url, api_key: 'sk-ant-mock' } });
        proxy = await startLitellm({ version: litellmVersion, config, env: litellmEnv(mock.url, tl.httpEndpoint, setting), workDir: dir, delivered: () => acceptedSpans(tl) });
      });

      afterAll(async () => {
        await proxy?.stop();
      });

      for (const c of cases.filter((x) => x.litellm === litellmVersion)) {
        it(`Claude Code ${c.claude} via ${c.path} (OTel ${c.protocol}): the call reaches the mock with the attribution headers`, track(async () => {
          const run = await runClaude({
            version: c.claude, baseUrl: `${proxy.url}${c.suffix}`, apiKey: MASTER_KEY, egressProxy: trap.url,
            otlp: { protocol: c.protocol, endpoint: c.protocol === 'grpc' ? tl.grpcEndpoint : tl.httpEndpoint },
            resourceAttributes: { 'team.id': 'platform' },
            customHeaders: { 'x-litellm-customer-id': c.customer, 'x-litellm-tags': `project:acme,${c.tag}` },
            prompt: promptFor(c.id, c.usage),
            extraEnv: c.traces ? TRACE_ENV : {},
          });
          expect(run.exitCode, run.stderr).toBe(0);
          expect(run.result.is_error).toBe(false);
          const served = mock.billable().filter((s) => s.mockId === c.id);
          expect(served).toHaveLength(1);
          expect(rowTokensOfResult(run.result.usage)).toEqual({ ...mockTokens(c.usage), cacheWrite5m: c.usage.cacheWrite5m + c.usage.cacheWrite1h, cacheWrite1h: 0 });
          c.sessionId = run.result.session_id;
          c.requestId = served[0].requestId;
          c.claudeCost = run.result.total_cost_usd;
          process.stdout.write(`[claude-code ${c.path} litellm ${c.litellm} claude ${c.claude} ${c.protocol}] run ${run.durationMs} ms, session ${c.sessionId}, upstream ${c.requestId}, cost ${c.claudeCost}\n`);
        }), 60_000);
      }
    });
  }

  it('tokenledger drains into embedded ClickHouse and exits 0 on SIGTERM', track(async () => {
    metricsText = await tl.metrics();
    expect(await tl.stop(), tl.logTail()).toBe(0);
    // readCalls selects every column: the rows carry the Claude Code fields CcRow names.
    rows = (await readCalls(ch)) as CcRow[];
  }), 60_000);

  function checkRow(c: Case): CcRow {
    expect(c.sessionId, 'the run above failed').toBeDefined();
    const mine = rows.filter((r) => r.session_id === c.sessionId || r.customer === c.customer || r.call_id === c.requestId);
    expect(mine, JSON.stringify(mine.map(brief), null, 1)).toHaveLength(1);
    const row = mine[0];
    expect(row).toMatchObject({
      record_type: 'call', session_id: c.sessionId, customer: c.customer, provider: 'anthropic',
      model: 'claude-sonnet-4-5', status: 'ok', team: 'platform',
    });
    // LiteLLM's route wins the join whichever report arrived first (claude-normalizer merge.ts).
    expect(row.route).toBe(c.route);
    expect(row.tags).toEqual(expect.arrayContaining(['project:acme', c.tag]));
    expect(rowTokens(row)).toEqual(mockTokens(c.usage));
    expect(row.cost_usd).toBeCloseTo(c.claudeCost ?? NaN, 9);
    return row;
  }

  for (const c of cases) {
    it(`Claude Code ${c.claude} via ${c.path} on LiteLLM ${c.litellm}: one billable row, session from Claude Code, customer and tags from LiteLLM`, async (ctx) => {
      const key = { client_version: c.claude, path: c.path, litellm_version: c.litellm, otlp_protocol: c.protocol, clickhouse: 'embedded' as const };
      const known = knownIssue(c);
      let row: CcRow;
      try {
        row = checkRow(c);
      } catch (err) {
        if (!known) {
          failures.failed = true;
          throw err;
        }
        results.problem(key, known.issue, known.litellmDefect);
        process.stdout.write(`\n*** KNOWN ISSUE reproduced [claude-code ${c.path} litellm ${c.litellm} claude ${c.claude}]: ${known.issue}\n    ${(err as Error).message.split('\n').slice(0, 12).join('\n    ')}\n\n`);
        ctx.skip(`known issue: ${known.issue}`);
        return;
      }
      // An intermittent known issue stays in the results when it did not show this time, so that
      // every green run writes the same results (test/docs.test.ts compares docs/compatibility.md with them).
      if (known) results.problem(key, known.issue, known.litellmDefect);
      else results.pass(key);
      process.stdout.write(`[claude-code ${c.path} litellm ${c.litellm} claude ${c.claude}] row ${row.call_id} (${row.source}, ${row.route}): tokens ${JSON.stringify(rowTokens(row))}, cost ${row.cost_usd}, customer ${row.customer}, tags ${row.tags.join('|')}${known ? ' (known issue did not reproduce this time)' : ''}\n`);
    });
  }

  it('stores and counts each served call once, and nothing left loopback', track(async () => {
    // Cases without a known issue: exactly the served calls, one row each.
    const known = cases.filter((c) => knownIssue(c) !== undefined);
    const knownIds = new Set(known.map((c) => c.id));
    const isKnown = (r: CcRow): boolean => known.some((c) => r.session_id === c.sessionId || r.customer === c.customer || r.call_id === c.requestId);
    const served = mock.billable().filter((x) => !knownIds.has(x.mockId));
    const clean = rows.filter((r) => !isKnown(r));
    expect(clean.length, JSON.stringify(clean.map(brief), null, 1)).toBe(served.length);
    expect(sumTokens(clean.map(rowTokens))).toEqual(sumTokens(served.map((x) => mockTokens(x.usage))));
    const extra = rows.length - clean.length - (mock.billable().length - served.length);
    if (extra !== 0) process.stdout.write(`*** KNOWN ISSUE: ${extra} row(s) more than the calls served for the known-issue cases\n`);

    // /metrics agrees with ClickHouse: every row counted once. /metrics counts a call's first
    // report: when LiteLLM 1.80.11's (1500/0) came before Claude Code's (1200/300), the row gets the
    // split by an update and /metrics keeps 1500/0 (claude-normalizer README), so cache writes compare as 5m + 1h.
    const fold = (t: Tokens): Tokens => ({ ...t, cacheWrite5m: t.cacheWrite5m + t.cacheWrite1h, cacheWrite1h: 0 });
    const calls = metricsText.split('\n').filter((l) => l.startsWith('tokenledger_llm_calls_total{')).join('\n');
    expect(metricSum(metricsText, 'tokenledger_llm_calls_total'), calls).toBe(rows.length);
    const byType = (field: keyof Tokens): number => metricSum(metricsText, 'tokenledger_llm_tokens_total', { token_type: TOKEN_TYPE_LABELS[field] });
    const counted: Tokens = { input: byType('input'), output: byType('output'), cacheRead: byType('cacheRead'), cacheWrite5m: byType('cacheWrite5m'), cacheWrite1h: byType('cacheWrite1h') };
    const tokenLines = metricsText.split('\n').filter((l) => l.startsWith('tokenledger_llm_tokens_total{')).join('\n');
    expect(fold(counted), tokenLines).toEqual(fold(sumTokens(rows.map(rowTokens))));
    expect(trap.attempts).toEqual([]);
  }));
});

/** Claude Code's result usage, without the 5m/1h split. */
function rowTokensOfResult(u: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number }): Tokens {
  return { input: u.input_tokens, output: u.output_tokens, cacheRead: u.cache_read_input_tokens, cacheWrite5m: u.cache_creation_input_tokens, cacheWrite1h: 0 };
}

/** The fields of a row that tell two reports of one call apart, for assertion messages. */
function brief(r: CcRow): Record<string, unknown> {
  return { call_id: r.call_id, source: r.source, route: r.route, session_id: r.session_id, customer: r.customer, tags: r.tags, tokens: rowTokens(r), cost_usd: r.cost_usd, reported_cost_usd: r.reported_cost_usd };
}
