import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reconciliationMetrics } from '../../../extensions/anthropic_admin/metrics.js';
import { SelfMetrics } from '../../../core/self-metrics.js';
import { Registry } from 'prom-client';
import { serviceAvailable } from '../../helpers/services.js';

const has = (bin: string): boolean => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
const promtool = serviceAvailable('promtool', has('promtool'), 'install Debian\'s prometheus package (scripts/dev-services.sh)');
const run = (args: string[], input?: string) => spawnSync('promtool', args, { cwd: 'alerts', input, encoding: 'utf8', timeout: 20_000 });

describe.runIf(promtool)('reconciliation alerting rules (promtool)', () => {
  it('check rules and test rules: the drift alert fires on final days past both thresholds, once across replicas; the failing alert after 3 h of failures', () => {
    const check = run(['check', 'rules', 'reconciliation.rules.yml']);
    expect(check.stdout + check.stderr).toMatch(/SUCCESS: 2 rules found/);
    const test = run(['test', 'rules', 'reconciliation.rules.test.yml']);
    expect(test.stdout + test.stderr, test.stdout + test.stderr).toMatch(/SUCCESS/);
    expect(test.status).toBe(0);
  });

  it('every alert has a case, and every metric the rules read is one the extension declares', () => {
    const rules = readFileSync('alerts/reconciliation.rules.yml', 'utf8');
    const tests = readFileSync('alerts/reconciliation.rules.test.yml', 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts.filter((a) => !new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests))).toEqual([]);
    const declared = new Set(Object.values(reconciliationMetrics).map((m) => m.name));
    const read = new Set([...rules.matchAll(/tokenledger_reconciliation_\w+/g)].map((m) => m[0]));
    expect([...read].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('check metrics: the exposition passes the linter', async () => {
    const registry = new Registry();
    const m = new SelfMetrics(registry).declare(reconciliationMetrics);
    m.driftUsd.set({ provider: 'anthropic', model: 'claude-sonnet-4-5', day: '2026-11-01', status: 'final' }, 1.5);
    m.runs.inc({ provider: 'anthropic', result: 'ok' });
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await registry.metrics(), encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
