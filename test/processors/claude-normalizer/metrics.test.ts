import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeNormalizerFactory } from '../../../processors/claude-normalizer/index.js';
import { normalizerMetrics } from '../../../processors/claude-normalizer/metrics.js';
import { FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';

const REPO = join(import.meta.dirname, '../../..');
const declared = Object.values(normalizerMetrics).map((s) => s.name).sort();

describe('normalizer self-metrics (metrics.ts)', () => {
  it('are every metric the normalizer makes, listed on its factory', () => {
    const { n, ctx } = normalizer();
    runAll(n, loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export')));
    const made = ctx.registry.getMetricsAsArray().map((m) => m.name).filter((name) => name.startsWith('tokenledger_normalizer_')).sort();
    expect(made).toEqual(declared);
    expect(claudeNormalizerFactory.metrics).toBe(normalizerMetrics);
  });

  it('include every normalizer metric the shipped alert rules, dashboard and READMEs name', () => {
    const files = [
      ...readdirSync(join(REPO, 'alerts')).map((f) => join(REPO, 'alerts', f)),
      ...readdirSync(join(REPO, 'dashboards')).map((f) => join(REPO, 'dashboards', f)),
      join(REPO, 'README.md'), join(REPO, 'processors/claude-normalizer/README.md'),
    ];
    const named = new Set(files.flatMap((f) => readFileSync(f, 'utf8').match(/tokenledger_normalizer_[a-z_]+/g) ?? []));
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((name) => !declared.includes(name))).toEqual([]);
  });
});
