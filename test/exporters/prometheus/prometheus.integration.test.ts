import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../../core/admin-server.js';
import { BEARER_AUTH_DEFAULTS } from '../../../core/bearer-auth.js';
import { exporterHelperMetrics } from '../../../core/exporter-helper/metrics.js';
import type { LlmCall } from '../../../core/llm-call.js';
import { BudgetExporter } from '../../../exporters/budget/exporter.js';
import { PrometheusExporter } from '../../../exporters/prometheus/exporter.js';
import { costEnrichmentFactory } from '../../../processors/cost-enrichment/index.js';
import { otlpReceiverMetrics } from '../../../receivers/otlp/metrics.js';
import { batchOf, testContext } from '../../helpers/context.js';
import { freePort } from '../../helpers/net.js';
import { serviceAvailable } from '../../helpers/services.js';
import { configOf as budgetConfigOf } from '../budget/helpers.js';
import { configOf, llmCall } from './helpers.js';

/**
 * A real Prometheus 2.x scrapes the registry the prometheus and budget exporters write to, served by the admin server
 * as in production, and evaluates tokenledger's alerting rules. Fixture calls are priced by the
 * real cost-enrichment processor. The pipeline self-metrics of other components (receiver,
 * queued exporter, readiness) are registered through those components' own metric definitions and
 * given sample values, so that the rules and panels about them are checked against real names.
 */
const available = serviceAvailable('prometheus', spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0, "install Debian's prometheus package (scripts/dev-services.sh)");

const NOW = Date.parse('2026-11-15T12:00:00Z'); // budgets see mid-November: 14.5 of 30 days elapsed
const at = (i: number): string => new Date(Date.parse('2026-11-02T08:00:00Z') + i * 3_600_000).toISOString();

/** Unpriced calls (an unknown model) and calls of three teams, two customers, two sources. */
function fixtureCalls(): LlmCall[] {
  const shapes: Partial<LlmCall>[] = [
    { team: 'platform', customer: 'acme', model: 'claude-sonnet-4-5', provider: 'anthropic', route: 'anthropic_messages', input_tokens: 1200, output_tokens: 300, cache_read_tokens: 20000, cache_write_5m_tokens: 1500, ttft_ms: 450, streaming: true },
    { team: 'platform', customer: 'globex', model: 'claude-3-5-haiku', provider: 'anthropic', route: 'openai_chat', input_tokens: 5000, output_tokens: 800 },
    { team: 'research', customer: 'acme', model: 'gpt-4o', provider: 'openai', route: 'openai_chat', input_tokens: 3000, output_tokens: 1000, cache_read_tokens: 1024 },
    { team: 'research', model: 'claude-sonnet-4-5', provider: 'anthropic', route: 'claude_code', source: 'claude_code', input_tokens: 40, output_tokens: 2000, cache_read_tokens: 60000, cache_write_1h_tokens: 4000, ttft_ms: 900, streaming: true },
    { team: '', model: 'gpt-4o', provider: 'openai', route: 'openai_chat', input_tokens: 700, output_tokens: 90, status: 'error', error_type: 'RateLimitError' },
    { team: 'platform', model: 'mystery-model-x', model_raw: 'mystery-model-x', provider: 'acme-ai', route: 'openai_chat', input_tokens: 100, output_tokens: 10 },
  ];
  return Array.from({ length: 24 }, (_, i) => llmCall({ ...shapes[i % shapes.length], timestamp: at(i), duration_ms: 300 + 250 * (i % 7) }));
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Sample { metric: Record<string, string>; value: [number, string] }

describe.runIf(available)('Prometheus scrapes the exporter (real prometheus)', () => {
  let dir: string;
  let prom: ChildProcess;
  let promUrl: string;
  let admin: AdminServer;
  let webhook: Server;
  const notifications: Record<string, unknown>[] = [];
  let exporter: PrometheusExporter;
  let budgets: BudgetExporter;
  const priced: LlmCall[] = [];
  let scrapeText = '';

  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = await res.json() as { status: string; error?: string; data: { resultType: string; result: Sample[] | [number, string] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.resultType === 'scalar' ? [{ metric: {}, value: body.data.result as [number, string] }] : body.data.result as Sample[];
  };

  beforeAll(async () => {
    const ctx = testContext('prometheus', { level: 'warn' });
    const processor = costEnrichmentFactory.create(costEnrichmentFactory.defaults, { ...ctx, id: 'cost-enrichment' });
    const calls = fixtureCalls();
    const firstHalf = (await processor.process(batchOf({ calls: calls.slice(0, 12) }))).calls;
    const secondHalf = (await processor.process(batchOf({ calls: calls.slice(12) }))).calls;
    priced.push(...firstHalf, ...secondHalf);

    const spentBy = (team: string) => priced.filter((c) => c.team === team).reduce((s, c) => s + c.cost_usd, 0);
    webhook = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => { data += c.toString(); });
      req.on('end', () => { notifications.push(JSON.parse(data)); res.writeHead(204).end(); });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    exporter = new PrometheusExporter(configOf({ labels: ['team', 'customer'] }), ctx);
    budgets = new BudgetExporter(budgetConfigOf({
      budgets: [
        { name: 'platform-monthly', scope: { team: 'platform' }, limit_usd: spentBy('platform') / 0.85 },
        { name: 'research-monthly', scope: { team: 'research' }, limit_usd: spentBy('research') / 1.2 },
        { name: 'customers-monthly', scope: { customer: '*' }, limit_usd: 1000 },
      ],
      webhook: { url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/notify` },
    }), { ...ctx, id: 'budget' }, () => NOW);
    await exporter.start();
    await budgets.start();
    const consume = async (calls: LlmCall[]) => {
      await exporter.consume(batchOf({ calls }));
      await budgets.consume(batchOf({ calls }));
    };

    // Other components' self-metrics, through their own definitions, with sample values.
    const rm = ctx.metrics.declare(otlpReceiverMetrics);
    const em = ctx.metrics.declare(exporterHelperMetrics);
    const ready = ctx.metrics.gauge('tokenledger_ready', '1 when every component of the pipeline has started.');
    ready.set(1);
    em.queueRows.set({ exporter: 'clickhouse' }, 12);
    em.oldestAge.set({ exporter: 'clickhouse' }, 400);
    const pipelineTick = () => {
      rm.accepted.inc({ receiver: 'otlp', transport: 'http', signal: 'traces' }, 20);
      rm.refusedItems.inc({ receiver: 'otlp', transport: 'http', signal: 'traces', reason: 'in_flight_limit' }, 1);
      em.sent.inc({ exporter: 'clickhouse' }, 20);
      em.failed.inc({ exporter: 'clickhouse' }, 1);
      em.refused.inc({ exporter: 'clickhouse' }, 2);
    };
    pipelineTick();

    admin = new AdminServer({ endpoint: '127.0.0.1:0', auth: BEARER_AUTH_DEFAULTS }, process.cwd(), ctx.registry, () => ({ ready: true, reason: '' }), () => ctx.host.adminRoutes, ctx.logger, {});
    await admin.start();

    dir = mkdtempSync(join(tmpdir(), 'tokenledger-prom-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: [${JSON.stringify(resolve('alerts/tokenledger.rules.yml'))}]`,
      'scrape_configs:',
      `  - { job_name: tokenledger, static_configs: [{ targets: [${JSON.stringify(admin.address())}] }] }`,
    ].join('\n'));
    prom = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let promLog = '';
    prom.stderr!.on('data', (c: Buffer) => { promLog += c.toString(); });
    await until('prometheus to be ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined)).catch((err: Error) => { throw new Error(`${err.message}; its log: ${promLog}`); });

    await consume(firstHalf);
    // Prometheus's discovery manager hands targets to the scrapers after ~5 s: most of this test's time.
    await until('a first scrape', async () => ((await query('tokenledger_llm_cost_usd_total')).length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1100)); // another sample before the second half, so that rates are not 0
    await consume(secondHalf);
    pipelineTick();
    const total = priced.reduce((s, c) => s + c.cost_usd, 0);
    await until('the second half to be scraped', async () => {
      const [s] = await query('sum(tokenledger_llm_cost_usd_total)');
      return s && Math.abs(Number(s.value[1]) - total) < 1e-9 ? true : undefined;
    });
    await until('the rules to evaluate the scraped budgets', async () => {
      const res = await (await fetch(`${promUrl}/api/v1/alerts`)).json() as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return res.data.alerts.some((a) => a.labels.alertname === 'TokenledgerBudgetExhausted' && a.state === 'firing') ? true : undefined;
    });
    scrapeText = await (await fetch(`http://${admin.address()}/metrics`)).text();
  }, 60_000);

  afterAll(async () => {
    await exporter?.shutdown();
    await budgets?.shutdown();
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    await admin?.stop();
    await new Promise((r) => webhook?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the fixtures are priced (all but the unknown model)', () => {
    expect(priced.filter((c) => c.cost_usd > 0).length).toBe(20);
    expect(priced.filter((c) => c.model === 'mystery-model-x').every((c) => c.cost_usd === 0 && c.price_ref === '')).toBe(true);
  });

  it('spend per team and model in Prometheus equals the sum of the records\' cost_usd', async () => {
    const expected = new Map<string, number>();
    for (const c of priced) expected.set(`${c.team}|${c.model}`, (expected.get(`${c.team}|${c.model}`) ?? 0) + c.cost_usd);
    const got = await query('sum by (team, model) (tokenledger_llm_cost_usd_total)');
    expect(new Map(got.map((s) => [`${s.metric.team ?? ''}|${s.metric.model}`, Number(s.value[1])])).size).toBe(expected.size);
    for (const s of got) expect(Number(s.value[1]), `${s.metric.team}|${s.metric.model}`).toBeCloseTo(expected.get(`${s.metric.team ?? ''}|${s.metric.model}`)!, 9);
    const [calls] = await query('sum(tokenledger_llm_calls_total)');
    expect(Number(calls.value[1])).toBe(priced.length);
    const [cacheRead] = await query('sum(tokenledger_llm_tokens_total{token_type="cache_read"})');
    expect(Number(cacheRead.value[1])).toBe(priced.reduce((s, c) => s + c.cache_read_tokens, 0));
  });

  it('every PromQL expression in the dashboard returns data', async () => {
    const dashboard = JSON.parse(readFileSync('dashboards/tokenledger.json', 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(20);
    const empty: string[] = [];
    for (const { title, expr } of exprs) {
      const q = expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$team', '.*').replaceAll('$provider', '.*');
      if ((await query(q)).length === 0) empty.push(`${title}: ${q}`);
    }
    expect(empty).toEqual([]);
  });

  it('every rule expression evaluates; those this data should trigger return data, the others are explained', async () => {
    const rules = readFileSync('alerts/tokenledger.rules.yml', 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)\n\s+expr: (?:\|\n((?:\s{10}.+\n)+)|(.+)\n)/g)].map((m) => ({ name: m[1], expr: (m[2] ?? m[3]).trim() }));
    expect(alerts.length).toBe(15);
    // Not triggered by a few seconds of healthy data: SourceSilent needs an hour of history;
    // nothing folds or is quarantined, LiteLLM sent no span without usage, the process is ready, the webhook answers, the restore did not fail.
    // promtool's rules test covers each of them firing.
    const quiet = new Set(['TokenledgerSourceSilent', 'TokenledgerCardinalityFolding', 'TokenledgerQuarantinedReports', 'TokenledgerLiteLLMSpansWithoutUsage', 'TokenledgerNotReady', 'TokenledgerBudgetNotifierFailing', 'TokenledgerBudgetRestoreFailed']);
    const withData: string[] = [];
    for (const a of alerts) if ((await query(a.expr)).length > 0) withData.push(a.name);
    expect(withData.sort()).toEqual(alerts.map((a) => a.name).filter((n) => !quiet.has(n)).sort());
  });

  it('the budget alerts fire for the budgets the calls crossed, and the webhook got one notification per threshold', async () => {
    const res = await (await fetch(`${promUrl}/api/v1/alerts`)).json() as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    const firing = res.data.alerts.filter((a) => a.state === 'firing' && a.labels.alertname.startsWith('TokenledgerBudget'))
      .map((a) => `${a.labels.alertname} ${a.labels.budget}`).sort();
    expect(firing).toEqual(['TokenledgerBudgetExhausted research-monthly', 'TokenledgerBudgetWarning platform-monthly']);
    const [u] = await query('tokenledger_budget_utilization_ratio{budget="platform-monthly"}');
    expect(Number(u.value[1])).toBeCloseTo(0.85, 9);
    expect(notifications.map((n) => `${n.budget} ${n.threshold}`).sort()).toEqual(['platform-monthly 0.8', 'research-monthly 0.8', 'research-monthly 1']);
  });

  it('GET /api/v1/budgets answers what the gauges Prometheus scraped say, narrowed by query parameters', async () => {
    type Status = { budget: string; scope_value: string; spent_usd: number; utilization: number; projected_usd: number; thresholds_crossed: number[]; exhausted: boolean; period_end: string };
    const all = (await (await fetch(`http://${admin.address()}/api/v1/budgets`)).json() as { budgets: Status[] }).budgets;
    for (const [name, metric] of [['spent_usd', 'tokenledger_budget_spent_usd'], ['utilization', 'tokenledger_budget_utilization_ratio'], ['projected_usd', 'tokenledger_budget_projected_usd']] as const) {
      const scraped = await query(metric);
      expect(scraped.length).toBe(all.length);
      for (const s of scraped) {
        const status = all.find((b) => b.budget === s.metric.budget && b.scope_value === s.metric.scope_value);
        expect(status?.[name], `${s.metric.budget} ${s.metric.scope_value}`).toBeCloseTo(Number(s.value[1]), 9);
      }
    }
    const research = (await (await fetch(`http://${admin.address()}/api/v1/budgets?budget=research-monthly`)).json() as { budgets: Status[] }).budgets;
    expect(research).toHaveLength(1);
    expect(research[0]).toMatchObject({ exhausted: true, thresholds_crossed: [0.8, 1] });
    const platform = all.find((b) => b.budget === 'platform-monthly')!;
    expect(platform).toMatchObject({ exhausted: false, thresholds_crossed: [0.8] });
    expect(Date.parse(platform.period_end)).toBeGreaterThan(NOW);
  });

  it('promtool check metrics accepts the /metrics exposition', () => {
    expect(scrapeText).toContain('tokenledger_budget_utilization_ratio');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: scrapeText, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
