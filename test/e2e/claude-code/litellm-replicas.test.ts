/**
 * The deployment the README's "High availability" describes: two tokenledger replicas sharing one
 * Redis join store and one ClickHouse server. The real Claude Code CLI calls the mock Anthropic API
 * through a real LiteLLM proxy (`/anthropic` and `/v1/messages`); LiteLLM's traces go to replica A
 * (its sidecar), Claude Code's metrics and events to replica B (the shared endpoint); or every export
 * of both goes through Debian's haproxy, round robin per request over A and B. Either way each served
 * call must be one ClickHouse row with both sources' attribution, counted and costed once over both replicas.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyAvailable, startHaproxy, type Haproxy } from '../../helpers/haproxy.js';
import { freePort } from '../../helpers/net.js';
import { RedisServer, redisAvailable } from '../../helpers/redis.js';
import { serviceAvailable } from '../../helpers/services.js';
import { MASTER_KEY, litellmInstalled, startLitellm, type LitellmProxy } from '../harness/litellm.js';
import { litellmConfig, litellmEnv, settingsFor } from '../harness/litellm-config.js';
import { acceptedSpans, allocatePorts, metricSum, readCalls, startTokenledger, type ClickhouseTarget, type TokenledgerProcess } from '../harness/tokenledger.js';
import type { LlmCall } from '../../../core/llm-call.js';
import { defaults as costDefaults } from '../../../processors/cost-enrichment/config.js';
import { pricerFor } from '../../../processors/cost-enrichment/index.js';
import { CI_VERSIONS } from '../litellm/versions.mjs';
import { startMockUpstream, type MockUpstream } from '../mock-upstream/server.js';
import { CLAUDE_CODE_VERSIONS, E2E_MODEL, claudeBinary, runClaude } from './cli.js';
import { startEgressTrap, type EgressTrap } from './egress-trap.js';
import { TOKEN_TYPE_LABELS, mockTokens, promptFor, reportsCacheSplit, rowTokens, sumTokens, type CcRow } from './rows.js';
import { CLICKHOUSE_SERVER_URL, clickhouseServerUp, dropDatabase, tokenledgerBuilt } from './services.js';

const CLAUDE = CLAUDE_CODE_VERSIONS[CLAUDE_CODE_VERSIONS.length - 1];
const missingLitellm = CI_VERSIONS.filter((v) => !litellmInstalled(v));
const ready =
  serviceAvailable('claude-code CLI', claudeBinary(CLAUDE) !== null, `version ${CLAUDE} not installed; run scripts/setup-claude-code.sh`) &&
  serviceAvailable('LiteLLM proxy', missingLitellm.length === 0, `versions ${missingLitellm.join(', ')} not installed; run scripts/setup-litellm.sh`) &&
  serviceAvailable('tokenledger build', tokenledgerBuilt(), 'dist/bin/tokenledger.js missing; run npx tsc -p .') &&
  redisAvailable() &&
  haproxyAvailable() &&
  serviceAvailable('clickhouse-server', await clickhouseServerUp(), `nothing answers on ${CLICKHOUSE_SERVER_URL}`);

const ROUTES = [
  { suffix: '/anthropic', route: 'anthropic_passthrough' },
  { suffix: '', route: 'anthropic_messages' },
] as const;

const ARRANGEMENTS = [
  { name: 'LiteLLM\'s traces to A, Claude Code\'s telemetry to B', balanced: false },
  { name: 'every export of LiteLLM and Claude Code through haproxy, round robin over A and B', balanced: true },
] as const;

/** What one 1h cache-write token costs over a 5m one, priced as cost-enrichment prices the rows (all one model). */
function premium1h(rows: CcRow[], dir: string): number {
  const pricer = pricerFor(costDefaults, dir);
  const premiums = rows.filter((r) => r.cache_write_1h_tokens > 0).map((r) => {
    const call = r as unknown as LlmCall;
    expect(pricer.price(call).costUsd, r.call_id).toBeCloseTo(r.cost_usd, 9);
    const as5m = pricer.price({ ...call, cache_write_5m_tokens: r.cache_write_5m_tokens + r.cache_write_1h_tokens, cache_write_1h_tokens: 0 }).costUsd;
    return (r.cost_usd - as5m) / r.cache_write_1h_tokens;
  });
  expect(new Set(premiums.map((p) => p.toFixed(12))).size, 'one model, one 1h premium').toBeLessThanOrEqual(1);
  return premiums[0] ?? 0;
}

const accepted = async (tl: TokenledgerProcess): Promise<number> => metricSum(await tl.metrics(), 'tokenledger_receiver_accepted_items_total');

describe.skipIf(!ready).each(ARRANGEMENTS)('two tokenledger replicas on one Redis: $name', ({ balanced }) => {
  let workDir: string;
  let mock: MockUpstream;
  let trap: EgressTrap;
  let redis: RedisServer;
  let ch: ClickhouseTarget & { mode: 'server' };
  let a: TokenledgerProcess;
  let b: TokenledgerProcess;
  let lb: Haproxy | undefined;
  /** Where LiteLLM's traces and Claude Code's telemetry go. */
  let litellmOtlp: string;
  let claudeOtlp: string;
  const sessions: { session: string; customer: string; route: string; known: boolean }[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tokenledger-e2e-replicas-'));
    mock = await startMockUpstream({ idPrefix: 'replicas' });
    trap = await startEgressTrap();
    redis = await RedisServer.start();
    ch = { mode: 'server', url: CLICKHOUSE_SERVER_URL, database: `tl_e2e_replicas_${process.pid}_${Math.floor(Math.random() * 1e6)}` };
    const normalizer = { 'claude-normalizer': { dedupe: { store: 'redis', redis: { url: redis.url, key_prefix: 'e2e' } } } };
    for (const name of ['a', 'b']) mkdirSync(join(workDir, name));
    const ports = [await allocatePorts(), await allocatePorts()];
    a = await startTokenledger(join(workDir, 'a'), ports[0], ch, { processors: normalizer });
    b = await startTokenledger(join(workDir, 'b'), ports[1], ch, { processors: normalizer });
    if (balanced) lb = await startHaproxy(workDir, await freePort(), ports.map((p) => p.http));
    litellmOtlp = lb?.url ?? a.httpEndpoint;
    claudeOtlp = lb?.url ?? b.httpEndpoint;
  }, 120_000);

  afterAll(async () => {
    await lb?.stop();
    await a?.stop();
    await b?.stop();
    await redis?.close();
    await mock?.close();
    await trap?.close();
    if (ch) await dropDatabase(ch.url, ch.database);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  for (const version of CI_VERSIONS) {
    it(`LiteLLM ${version}, both routes: Claude Code ${CLAUDE} runs through it`, async () => {
      const dir = join(workDir, `litellm-${version}`);
      mkdirSync(dir);
      const setting = settingsFor(version)[0];
      const config = litellmConfig(mock.url, setting, MASTER_KEY);
      (config.model_list as unknown[]).push({ model_name: E2E_MODEL, litellm_params: { model: `anthropic/${E2E_MODEL}`, api_base: mock.url, api_key: 'sk-ant-mock' } });
      const proxy: LitellmProxy = await startLitellm({ version, config, env: litellmEnv(mock.url, litellmOtlp, setting), workDir: dir, delivered: async () => (await acceptedSpans(a)) + (await acceptedSpans(b)) });
      try {
        for (const [i, r] of ROUTES.entries()) {
          const id = `rep-${version}-${i}`.replace(/[^a-z0-9]+/gi, '-');
          const customer = `cust-${id}`;
          const run = await runClaude({
            version: CLAUDE, baseUrl: `${proxy.url}${r.suffix}`, apiKey: MASTER_KEY, egressProxy: trap.url,
            otlp: { protocol: 'http/protobuf', endpoint: claudeOtlp },
            resourceAttributes: { 'team.id': 'platform' },
            customHeaders: { 'x-litellm-customer-id': customer, 'x-litellm-tags': 'project:acme' },
            prompt: promptFor(id, { input: 300 + i, output: 70 + i, cacheRead: 9800, cacheWrite5m: 1200, cacheWrite1h: reportsCacheSplit(CLAUDE) ? 300 : 0 }),
            extraEnv: {},
          });
          expect(run.exitCode, run.stderr).toBe(0);
          // LiteLLM 1.80.11 now and then logs no span for a streamed /anthropic call (litellm.test.ts KNOWN_ISSUES).
          sessions.push({ session: run.result.session_id, customer, route: r.route, known: version === '1.80.11' && r.suffix === '/anthropic' });
        }
      } finally {
        await proxy.stop();
      }
    }, 240_000);
  }

  it('every served call is one ClickHouse row with both sources\' attribution, counted and costed once over both replicas', async () => {
    // Through the load balancer, both replicas must have received exports: else it proves nothing about sharing.
    if (balanced) for (const tl of [a, b]) expect(await accepted(tl), tl.logTail()).toBeGreaterThan(0);
    const metrics = [await a.metrics(), await b.metrics()];
    expect(await a.stop(), a.logTail()).toBe(0);
    expect(await b.stop(), b.logTail()).toBe(0);
    const rows = (await readCalls(ch)) as CcRow[];
    const served = mock.billable();
    expect(rows.length, JSON.stringify(rows.map((r) => [r.call_id, r.source, r.session_id, r.customer]))).toBe(served.length);
    expect(sumTokens(rows.map(rowTokens)), JSON.stringify(rows.map((r) => [r.call_id, r.source, rowTokens(r)]))).toEqual(sumTokens(served.map((s) => mockTokens(s.usage))));
    for (const s of sessions) {
      const mine = rows.filter((r) => r.session_id === s.session);
      expect(mine, s.session).toHaveLength(1);
      if (!s.known) expect(mine[0]).toMatchObject({ customer: s.customer, route: s.route, team: 'platform' });
    }
    const counted = metrics.reduce((sum, m) => sum + metricSum(m, 'tokenledger_llm_calls_total'), 0);
    expect(counted).toBe(served.length);
    const overReplicas = (name: string, match: Record<string, string> = {}): number => metrics.reduce((sum, m) => sum + metricSum(m, name, match), 0);
    const servedTokens = sumTokens(served.map((s) => mockTokens(s.usage)));
    const countedTokens = Object.values(TOKEN_TYPE_LABELS).reduce((sum, token_type) => sum + overReplicas('tokenledger_llm_tokens_total', { token_type }), 0);
    expect(countedTokens).toBe(Object.values(servedTokens).reduce((sum, n) => sum + n, 0));
    const cost = overReplicas('tokenledger_llm_cost_usd_total');
    const rowsCost = rows.reduce((sum, r) => sum + r.cost_usd, 0);
    expect(rowsCost).toBeGreaterThan(0);
    // /metrics counts a call as first reported: where LiteLLM's span (no 5m/1h split) came before Claude
    // Code's event, its 1h cache writes stay in the token counter as 5m, and the update that restores
    // the split adds the 1h premium to the cost counter on whichever replica emits it (its base is
    // the version it replaces): the cost summed over replicas is the ledger's, exactly.
    const missing1h = servedTokens.cacheWrite1h - overReplicas('tokenledger_llm_tokens_total', { token_type: 'cache_write_1h' });
    const premium = premium1h(rows, workDir);
    expect(cost).toBeCloseTo(rowsCost, 9);
    expect(metrics.every((m) => metricSum(m, 'tokenledger_normalizer_join_store_errors_total') === 0)).toBe(true);
    expect(trap.attempts).toEqual([]);
    const bySignal = (m: string): string => ['traces', 'metrics', 'logs'].map((signal) => `${signal} ${metricSum(m, 'tokenledger_receiver_accepted_items_total', { signal })}`).join(', ');
    process.stdout.write(`[replicas${balanced ? ', haproxy' : ''}] ${served.length} calls served, ${rows.length} rows, ${counted} counted over two replicas (A ${metricSum(metrics[0], 'tokenledger_llm_calls_total')}, B ${metricSum(metrics[1], 'tokenledger_llm_calls_total')}), $${cost.toFixed(6)} (ClickHouse $${rowsCost.toFixed(6)}; ${missing1h} 1h cache-write tokens counted as 5m, their $${(premium * 1e6).toFixed(2)}/M premium counted from the update); accepted A: ${bySignal(metrics[0])}; B: ${bySignal(metrics[1])}\n`);
  }, 120_000);
});
