/**
 * The deployment the README's "High availability" describes: two tokenledger replicas sharing one
 * Redis join store and one ClickHouse server. The real Claude Code CLI calls the mock Anthropic API
 * through a real LiteLLM proxy (`/anthropic` and `/v1/messages`); LiteLLM's traces go to replica A
 * (its sidecar), Claude Code's metrics and events to replica B (the shared endpoint). Each served
 * call must be one ClickHouse row with both sources' attribution, counted once over both replicas.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, redisAvailable } from '../../helpers/redis.js';
import { serviceAvailable } from '../../helpers/services.js';
import { MASTER_KEY, litellmInstalled, startLitellm, type LitellmProxy } from '../harness/litellm.js';
import { litellmConfig, litellmEnv, settingsFor } from '../harness/litellm-config.js';
import { acceptedSpans, allocatePorts, metricSum, readCalls, startTokenledger, type ClickhouseTarget, type TokenledgerProcess } from '../harness/tokenledger.js';
import { CI_VERSIONS } from '../litellm/versions.mjs';
import { startMockUpstream, type MockUpstream } from '../mock-upstream/server.js';
import { CLAUDE_CODE_VERSIONS, E2E_MODEL, claudeBinary, runClaude } from './cli.js';
import { startEgressTrap, type EgressTrap } from './egress-trap.js';
import { mockTokens, promptFor, reportsCacheSplit, rowTokens, sumTokens, type CcRow } from './rows.js';
import { CLICKHOUSE_SERVER_URL, clickhouseServerUp, dropDatabase, tokenledgerBuilt } from './services.js';

const CLAUDE = CLAUDE_CODE_VERSIONS[CLAUDE_CODE_VERSIONS.length - 1];
const missingLitellm = CI_VERSIONS.filter((v) => !litellmInstalled(v));
const ready =
  serviceAvailable('claude-code CLI', claudeBinary(CLAUDE) !== null, `version ${CLAUDE} not installed; run scripts/setup-claude-code.sh`) &&
  serviceAvailable('LiteLLM proxy', missingLitellm.length === 0, `versions ${missingLitellm.join(', ')} not installed; run scripts/setup-litellm.sh`) &&
  serviceAvailable('tokenledger build', tokenledgerBuilt(), 'dist/bin/tokenledger.js missing; run npx tsc -p .') &&
  redisAvailable() &&
  serviceAvailable('clickhouse-server', await clickhouseServerUp(), `nothing answers on ${CLICKHOUSE_SERVER_URL}`);

const ROUTES = [
  { suffix: '/anthropic', route: 'anthropic_passthrough' },
  { suffix: '', route: 'anthropic_messages' },
] as const;

describe.skipIf(!ready)('two tokenledger replicas on one Redis: LiteLLM\'s traces to A, Claude Code\'s telemetry to B', () => {
  let workDir: string;
  let mock: MockUpstream;
  let trap: EgressTrap;
  let redis: RedisServer;
  let ch: ClickhouseTarget & { mode: 'server' };
  let a: TokenledgerProcess;
  let b: TokenledgerProcess;
  const sessions: { session: string; customer: string; route: string; known: boolean }[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tokenledger-e2e-replicas-'));
    mock = await startMockUpstream({ idPrefix: 'replicas' });
    trap = await startEgressTrap();
    redis = await RedisServer.start();
    ch = { mode: 'server', url: CLICKHOUSE_SERVER_URL, database: `tl_e2e_replicas_${process.pid}_${Math.floor(Math.random() * 1e6)}` };
    const normalizer = { 'claude-normalizer': { dedupe: { store: 'redis', redis: { url: redis.url, key_prefix: 'e2e' } } } };
    for (const name of ['a', 'b']) mkdirSync(join(workDir, name));
    a = await startTokenledger(join(workDir, 'a'), await allocatePorts(), ch, { processors: normalizer });
    b = await startTokenledger(join(workDir, 'b'), await allocatePorts(), ch, { processors: normalizer });
  }, 120_000);

  afterAll(async () => {
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
      const proxy: LitellmProxy = await startLitellm({ version, config, env: litellmEnv(mock.url, a.httpEndpoint, setting), workDir: dir, delivered: () => acceptedSpans(a) });
      try {
        for (const [i, r] of ROUTES.entries()) {
          const id = `rep-${version}-${i}`.replace(/[^a-z0-9]+/gi, '-');
          const customer = `cust-${id}`;
          const run = await runClaude({
            version: CLAUDE, baseUrl: `${proxy.url}${r.suffix}`, apiKey: MASTER_KEY, egressProxy: trap.url,
            otlp: { protocol: 'http/protobuf', endpoint: b.httpEndpoint },
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

  it('every served call is one ClickHouse row with both sources\' attribution, counted once over both replicas', async () => {
    const metrics = [await a.metrics(), await b.metrics()];
    expect(await a.stop(), a.logTail()).toBe(0);
    expect(await b.stop(), b.logTail()).toBe(0);
    const rows = (await readCalls(ch)) as CcRow[];
    const served = mock.billable();
    expect(rows.length, JSON.stringify(rows.map((r) => [r.call_id, r.source, r.session_id, r.customer]))).toBe(served.length);
    expect(sumTokens(rows.map(rowTokens))).toEqual(sumTokens(served.map((s) => mockTokens(s.usage))));
    for (const s of sessions) {
      const mine = rows.filter((r) => r.session_id === s.session);
      expect(mine, s.session).toHaveLength(1);
      if (!s.known) expect(mine[0]).toMatchObject({ customer: s.customer, route: s.route, team: 'platform' });
    }
    const counted = metrics.reduce((sum, m) => sum + metricSum(m, 'tokenledger_llm_calls_total'), 0);
    expect(counted).toBe(served.length);
    expect(metrics.every((m) => metricSum(m, 'tokenledger_normalizer_join_store_errors_total') === 0)).toBe(true);
    expect(trap.attempts).toEqual([]);
    process.stdout.write(`[replicas] ${served.length} calls served, ${rows.length} rows, ${counted} counted over two replicas (A ${metricSum(metrics[0], 'tokenledger_llm_calls_total')}, B ${metricSum(metrics[1], 'tokenledger_llm_calls_total')})\n`);
  }, 120_000);
});
