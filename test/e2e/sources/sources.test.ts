/**
 * End to end with the real instrumentation libraries: an app (app.py) per library, each in its
 * hash-pinned virtualenv (scripts/setup-sources.sh), calls the real Anthropic / OpenAI / boto3
 * SDKs against the mock upstream and exports OTLP/HTTP to one tokenledger (normalizer, cost,
 * embedded ClickHouse, Prometheus). The apps run in parallel, one process per library. The rows
 * in ClickHouse and the series in /metrics are compared with the usage the mock served. Then the
 * app-plus-gateway case: the OpenLLMetry app calling through a real LiteLLM proxy.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { startMockUpstream, type ServedCall } from '../mock-upstream/server.js';
import { acceptedSpans, allocatePorts, metricSum, readCalls, startTokenledger, TOKENLEDGER_JS, type CallRow, type TokenledgerProcess } from '../harness/tokenledger.js';
import { manifestOf } from './capture.js';
import { checkSource, problemsOf, type CheckedRow } from './check.js';
import { runApp } from './drive.js';
import { GATEWAY_LIB, GATEWAY_LITELLM, runThroughGateway } from './gateway.js';
import { litellmInstalled } from '../harness/litellm.js';
import { installed, LIBRARIES, sdksOf, type Library } from './libraries.js';
import { lossesOf, LOSSES } from './losses.js';
import { sourcePlan } from './plan.js';
import { expectedCost } from './prices.js';
import { writeSourceResults } from './results.js';

const present = LIBRARIES.filter((l) => installed(l));
const missing = LIBRARIES.filter((l) => !installed(l)).map((l) => l.lib);
const ready = serviceAvailable('instrumentation libraries', missing.length === 0 && existsSync(TOKENLEDGER_JS),
  `the virtualenvs of ${missing.join(', ') || 'every library'} (scripts/setup-sources.sh) and dist/ (npm run build)`);

type Row = CallRow & CheckedRow;

interface LibRun {
  l: Library;
  manifest: ReturnType<typeof manifestOf>;
  rows: Row[];
}

describe.skipIf(!ready)('instrumentation libraries → tokenledger (OTLP http/protobuf, embedded ClickHouse)', () => {
  let work = '';
  let tl: TokenledgerProcess | undefined;
  let runs: LibRun[] = [];
  let metrics = '';
  let served: ServedCall[] = [];
  let allRows: Row[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tl-e2e-sources-'));
    const ch = { mode: 'embedded' as const, path: join(work, 'clickhouse') };
    const mock = await startMockUpstream({ idPrefix: 'src' });
    try {
      tl = await startTokenledger(work, await allocatePorts(), ch, { processors: { 'claude-normalizer': { dimensions: { env: ['resource:deployment.environment'] } } } });
      const plans = present.map((l) => ({ l, plan: sourcePlan(sdksOf(l), `${l.lib}-`) }));
      // One process per library, all at once: the CI time is the slowest library's.
      const outcomes = await Promise.all(plans.map(({ l, plan }) => runApp(l, plan, mock.url, tl!.httpEndpoint)));
      metrics = await tl.metrics();
      expect(await tl.stop(), tl.logTail()).toBe(0);
      served = mock.calls;
      allRows = (await readCalls(ch)) as Row[];
      runs = plans.map(({ l, plan }, i) => ({
        l,
        manifest: manifestOf(l, plan, outcomes[i], mock.calls),
        rows: allRows.filter((r) => r.service_name === `app-${l.lib}`),
      }));
    } finally {
      await tl?.stop();
      await mock.close();
    }
  }, 300_000);

  afterAll(() => {
    if (runs.length > 0) writeSourceResults(runs.map((r) => ({ l: r.l, manifest: r.manifest, result: checkSource(r.l.lib, r.manifest, r.rows) })));
    if (work && !process.env.TOKENLEDGER_E2E_KEEP) rmSync(work, { recursive: true, force: true });
  });

  for (const l of LIBRARIES) {
    it(`${l.lib}: one row per call the library reported, with exactly the mock's tokens, the app's attribution and the right cost`, () => {
      const run = runs.find((r) => r.l.lib === l.lib)!;
      const result = checkSource(l.lib, run.manifest, run.rows);
      const problems = problemsOf(result);
      for (const c of result.calls) {
        const losses = lossesOf(l.lib, c.call);
        const ok = c.rows.find((r) => r.status === 'ok');
        if (ok === undefined || losses.length > 0) continue;
        const want = expectedCost(ok);
        if (want === null || Math.abs(ok.cost_usd - want) > 1e-9) problems.push(`${c.call.id}: cost ${ok.cost_usd} != ${String(want)}`);
      }
      process.stdout.write(`[sources ${l.lib}] ${run.manifest.calls.length} calls, ${run.rows.length} rows; ${problems.length} problem(s)\n`);
      expect(problems).toEqual([]);
    });
  }

  it('counts every stored token and call in /metrics, as in ClickHouse', () => {
    const types: [string, (r: Row) => number][] = [
      ['input', (r) => r.input_tokens], ['output', (r) => r.output_tokens], ['cache_read', (r) => r.cache_read_tokens],
      ['cache_write_5m', (r) => r.cache_write_5m_tokens], ['cache_write_1h', (r) => r.cache_write_1h_tokens],
    ];
    for (const [type, f] of types) {
      expect(metricSum(metrics, 'tokenledger_llm_tokens_total', { token_type: type, source: 'otel_genai' }), type).toBe(allRows.reduce((a, r) => a + f(r), 0));
    }
    expect(metricSum(metrics, 'tokenledger_llm_calls_total', { status: 'ok', source: 'otel_genai' })).toBe(allRows.filter((r) => r.status === 'ok').length);
  });

  it('stores no more output tokens than the mock served, less what libraries lose', () => {
    const billable = served.filter((c) => c.status === 200 && c.usage !== null);
    const unreported = runs.flatMap((r) => r.manifest.calls.filter((c) => lossesOf(r.l.lib, c).includes('span')).map((c) => c.id));
    const plusOne = runs.flatMap((r) => r.manifest.calls.filter((c) => lossesOf(r.l.lib, c).includes('output_plus_one')).length);
    const want = billable.filter((c) => !unreported.includes(c.mockId)).reduce((a, c) => a + c.usage!.output, 0) + plusOne.reduce((a, n) => a + n, 0);
    expect(allRows.filter((r) => r.status === 'ok').reduce((a, r) => a + r.output_tokens, 0)).toBe(want);
  });

  it('keeps prompts and responses out of ClickHouse and /metrics', () => {
    const stored = JSON.stringify(allRows) + metrics;
    expect(['Say hello', 'A long cached system prompt', 'Mock reply'].filter((s) => stored.includes(s))).toEqual([]);
  });

  it('lists losses only for libraries it drives', () => {
    for (const loss of LOSSES) expect(LIBRARIES.map((x) => x.lib)).toContain(loss.lib);
  });
});

const gatewayReady = serviceAvailable('OpenLLMetry app through LiteLLM', installed(GATEWAY_LIB) && litellmInstalled(GATEWAY_LITELLM) && existsSync(TOKENLEDGER_JS),
  `scripts/setup-sources.sh ${GATEWAY_LIB.dir}, scripts/setup-litellm.sh ${GATEWAY_LITELLM} and dist/ (npm run build)`);

describe.skipIf(!gatewayReady)(`an OpenLLMetry app calling through LiteLLM ${GATEWAY_LITELLM}, both exporting to tokenledger`, () => {
  let work = '';
  let rows: Row[] = [];
  let metrics = '';
  let manifest: ReturnType<typeof manifestOf>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tl-e2e-gateway-'));
    const ch = { mode: 'embedded' as const, path: join(work, 'clickhouse') };
    const mock = await startMockUpstream({ idPrefix: 'gwe2e' });
    let tl: TokenledgerProcess | undefined;
    try {
      tl = await startTokenledger(work, await allocatePorts(), ch, { processors: { 'claude-normalizer': { dimensions: { env: ['resource:deployment.environment'] } } } });
      const { plan, outcomes } = await runThroughGateway(mock, tl.httpEndpoint, () => acceptedSpans(tl!));
      manifest = manifestOf(GATEWAY_LIB, plan, outcomes, mock.calls);
      metrics = await tl.metrics();
      expect(await tl.stop(), tl.logTail()).toBe(0);
      rows = (await readCalls(ch)) as Row[];
    } finally {
      await tl?.stop();
      await mock.close();
    }
  }, 300_000);

  afterAll(() => {
    if (manifest !== undefined) {
      writeSourceResults([{ l: GATEWAY_LIB, manifest, result: checkSource(GATEWAY_LIB.lib, manifest, rows, ['otel_genai', 'litellm']), via: `LiteLLM ${GATEWAY_LITELLM}` }]);
    }
    if (work && !process.env.TOKENLEDGER_E2E_KEEP) rmSync(work, { recursive: true, force: true });
  });

  it('stores one row per call, with exactly the mock\'s tokens, the app\'s service, team and environment and the gateway\'s route', () => {
    expect(problemsOf(checkSource(GATEWAY_LIB.lib, manifest, rows, ['otel_genai', 'litellm']))).toEqual([]);
    expect(rows.length).toBe(manifest.calls.length);
    expect(rows.map((r) => r.route).sort()).toEqual(manifest.calls.map((c) => (c.sdk === 'anthropic' ? 'anthropic_messages' : 'openai_chat')).sort());
  });

  it('counts each call once in /metrics, at the cost ClickHouse holds', () => {
    expect(metricSum(metrics, 'tokenledger_llm_calls_total', { status: 'ok' })).toBe(manifest.calls.length);
    const stored = rows.reduce((a, r) => a + r.cost_usd, 0);
    expect(Math.abs(metricSum(metrics, 'tokenledger_llm_cost_usd_total') - stored)).toBeLessThan(1e-9);
  });
});
