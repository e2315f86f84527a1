/**
 * An agent on the Claude Agent SDK, Python (agent_app.py, .venv/sources-claude-agent-sdk) and npm
 * (agent_app.mjs, .tools/sources/claude-agent-sdk): the SDK runs the Claude Code CLI it ships,
 * whose OTel events and metrics go to a real tokenledger, the Anthropic API being the mock. Its
 * telemetry must bill exactly as the CLI's does
 * (../claude-code/direct.test.ts): one row per call with the mock's tokens, Claude Code's cost,
 * the agent's session and the team it sets; /metrics the same.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { claudeEnv, E2E_MODEL } from '../claude-code/cli.js';
import { startEgressTrap, type EgressTrap } from '../claude-code/egress-trap.js';
import { mockTokens, promptFor, rowTokens, type CcRow } from '../claude-code/rows.js';
import { until } from '../claude-code/wait.js';
import { allocatePorts, metricSum, readCalls, startTokenledger, TOKENLEDGER_JS, type TokenledgerProcess } from '../harness/tokenledger.js';
import { startMockUpstream, type MockUpstream, type MockUsage } from '../mock-upstream/server.js';
import { installed, npmDir, pinnedVersion, venvPython, type Library } from './libraries.js';
import { writeAgentResult } from './results.js';

const DIR = 'claude-agent-sdk';
const SDKS: { runtime: Library['runtime']; pkg: string; label: string }[] = [
  { runtime: 'python', pkg: 'claude-agent-sdk', label: 'Python' },
  { runtime: 'node', pkg: '@anthropic-ai/claude-agent-sdk', label: 'npm' },
];

interface AgentResult { session_id: string; total_cost_usd: number; is_error: boolean }

async function runAgent(runtime: Library['runtime'], prompt: string, env: Record<string, string>, timeoutMs = 90_000): Promise<AgentResult> {
  const [cmd, app] = runtime === 'python' ? [venvPython(DIR), 'agent_app.py'] : [process.execPath, 'agent_app.mjs'];
  const child = spawn(cmd, [join(import.meta.dirname, app), prompt], { env: { ...env, APP_NODE_MODULES: npmDir(DIR) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || line === undefined) throw new Error(`${app} exited ${code} without a result: ${stdout.slice(-1000)} ${stderr.slice(-2000)}`);
  return JSON.parse(line) as AgentResult;
}

for (const [n, { runtime, pkg, label }] of SDKS.entries()) {
  const lib = { runtime, dir: DIR };
  const ready = serviceAvailable(`Claude Agent SDK (${label})`, installed(lib) && existsSync(TOKENLEDGER_JS), `scripts/setup-sources.sh ${runtime === 'node' ? 'npm-' : ''}${DIR} and dist/ (npm run build)`);

  describe.skipIf(!ready)(`Claude Agent SDK ${ready ? pinnedVersion(lib, pkg) : ''} (${label}) → mock Anthropic API, OTel → tokenledger`, () => {
    const id = `agent-sdk-${runtime}`;
    const team = `team-agent-sdk-${runtime}`;
    const usage: MockUsage = { input: 321 + n, output: 54 + n, cacheRead: 9800, cacheWrite5m: 1200, cacheWrite1h: 300 };
    let work = '';
    let mock: MockUpstream;
    let trap: EgressTrap;
    let tl: TokenledgerProcess;
    let result: AgentResult;
    let rows: CcRow[] = [];
    let metrics = '';
    /** Tests passed and what failed, for the compatibility matrix. */
    let passed = 0;
    const problems: string[] = [];
    const counted = (name: string, f: () => void) => () => {
      try {
        f();
        passed++;
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
        throw err;
      }
    };

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'tl-e2e-agent-sdk-'));
      mock = await startMockUpstream({ idPrefix: 'agentsdk' });
      trap = await startEgressTrap();
      const ch = { mode: 'embedded' as const, path: join(work, 'clickhouse') };
      tl = await startTokenledger(work, await allocatePorts(), ch);
      const home = join(work, 'home');
      const cwd = join(work, 'agent');
      mkdirSync(home);
      mkdirSync(cwd);
      const env = {
        ...claudeEnv({ baseUrl: mock.url, apiKey: 'sk-ant-e2e-agent', egressProxy: trap.url, otlp: { protocol: 'http/protobuf', endpoint: tl.httpEndpoint }, resourceAttributes: { 'team.id': team } }, home),
        APP_MODEL: E2E_MODEL,
        APP_CWD: cwd,
      };
      result = await runAgent(runtime, promptFor(id, usage), env);
      await until(`tokenledger_llm_calls_total{team="${team}"} = 1`, async () => metricSum(await tl.metrics(), 'tokenledger_llm_calls_total', { team }) >= 1, 20_000);
      metrics = await tl.metrics();
      expect(await tl.stop(), tl.logTail()).toBe(0);
      rows = (await readCalls(ch)) as CcRow[];
    }, 180_000);

    afterAll(async () => {
      if (result !== undefined) writeAgentResult(label, `${pkg} ${pinnedVersion(lib, pkg)}`, passed === 3, problems);
      await tl?.stop();
      await mock?.close();
      await trap?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('runs the agent: one call served, nothing left loopback', counted('run', () => {
      expect(result.is_error).toBe(false);
      expect(mock.billable().filter((s) => s.mockId === id)).toHaveLength(1);
      expect(trap.attempts).toEqual([]);
    }));

    it('stores one row with the mock\'s tokens, Claude Code\'s cost, the agent\'s session and team', counted('row', () => {
      const served = mock.billable().filter((s) => s.mockId === id)[0];
      expect(rows, JSON.stringify(rows)).toHaveLength(1);
      const row = rows[0];
      expect(row).toMatchObject({ call_id: served.requestId, record_type: 'call', source: 'claude_code', provider: 'anthropic', model: 'claude-sonnet-4-5', status: 'ok', team, session_id: result.session_id });
      expect(rowTokens(row)).toEqual(mockTokens(usage));
      expect(row.reported_cost_usd).toBeCloseTo(result.total_cost_usd, 9);
      expect(row.cost_usd).toBeCloseTo(result.total_cost_usd, 9);
    }));

    it('counts the call once in /metrics with its tokens and cost', counted('/metrics', () => {
      expect(metricSum(metrics, 'tokenledger_llm_calls_total', { team, status: 'ok' })).toBe(1);
      expect(metricSum(metrics, 'tokenledger_llm_tokens_total', { team, token_type: 'cache_write_1h' })).toBe(usage.cacheWrite1h);
      expect(metricSum(metrics, 'tokenledger_llm_cost_usd_total', { team })).toBeCloseTo(result.total_cost_usd, 9);
    }));
  });
}
