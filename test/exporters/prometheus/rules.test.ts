import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BudgetExporter } from '../../../exporters/budget/exporter.js';
import { PrometheusExporter } from '../../../exporters/prometheus/exporter.js';
import { batchOf, testContext } from '../../helpers/context.js';
import { serviceAvailable } from '../../helpers/services.js';
import { configOf as budgetConfigOf } from '../budget/helpers.js';
import { configOf, llmCall } from './helpers.js';

const has = (bin: string): boolean => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
const promtool = serviceAvailable('promtool', has('promtool'), 'install Debian\'s prometheus package (scripts/dev-services.sh)');
const amtool = serviceAvailable('amtool', has('amtool'), 'install Debian\'s prometheus-alertmanager package');

const run = (bin: string, args: string[], input?: string) => spawnSync(bin, args, { cwd: 'alerts', input, encoding: 'utf8', timeout: 20_000 });

describe.runIf(promtool)('alerting rules (promtool)', () => {
  it('check rules: every rule parses', () => {
    const r = run('promtool', ['check', 'rules', 'tokenledger.rules.yml']);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: 15 rules found/);
    expect(r.status).toBe(0);
  });

  it('test rules: every alert fires when it should and not when it should not', () => {
    const r = run('promtool', ['test', 'rules', 'tokenledger.rules.test.yml']);
    expect(r.stdout + r.stderr, r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it('every alert in the rules file has a case in the rules test', () => {
    const alerts = [...readFileSync('alerts/tokenledger.rules.yml', 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tests = readFileSync('alerts/tokenledger.rules.test.yml', 'utf8');
    const untested = alerts.filter((a) => !new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests));
    expect(untested).toEqual([]);
  });

  it('check metrics: the exposition of spend, budget and self metrics passes the linter', async () => {
    const ctx = testContext('prometheus');
    const exporters = [
      new PrometheusExporter(configOf({ labels: ['team', 'project'], max_label_sets: 2 }), ctx),
      new BudgetExporter(budgetConfigOf({ max_scope_values: 2, budgets: [{ name: 'teams', scope: { team: '*' }, limit_usd: 1 }], webhook: { url: 'http://127.0.0.1:9/unused' } }), { ...ctx, id: 'budget' }),
    ];
    const batch = batchOf({ calls: ['a', 'b', 'c', 'd'].map((team) => llmCall({ team, dimensions: { project: 'x' }, cost_usd: 0.1, input_tokens: 5, ttft_ms: 100 })) });
    for (const exp of exporters) {
      await exp.start();
      await exp.consume(batch);
      await exp.shutdown();
    }
    const text = await ctx.registry.metrics();
    expect(text).toContain('tokenledger_budget_projected_usd');
    expect(text).toContain('__other__');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe.runIf(amtool)('example Alertmanager config (amtool)', () => {
  it('is valid', () => {
    const r = run('amtool', ['check-config', 'alertmanager.example.yml']);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it('routes budget alerts to finops, critical pipeline alerts to on-call, the rest to the platform team', () => {
    const route = (...labels: string[]) => run('amtool', ['config', 'routes', 'test', '--config.file=alertmanager.example.yml', ...labels]).stdout.trim();
    expect(route('alertname=TokenledgerBudgetExhausted', 'severity=critical', 'budget=teams')).toBe('finops');
    expect(route('alertname=TokenledgerBudgetWarning', 'severity=warning')).toBe('finops');
    expect(route('alertname=TokenledgerExporterFailing', 'severity=critical')).toBe('platform-oncall');
    expect(route('alertname=TokenledgerUnpricedCalls', 'severity=warning')).toBe('platform');
    expect(route('alertname=SomethingElse')).toBe('default');
  });
});
