import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { defineMetrics } from '../../core/metric-spec.js';
import { SelfMetrics } from '../../core/self-metrics.js';

describe('SelfMetrics.labelled', () => {
  it('adds the constant labels to every sample, whichever form of label arguments the caller uses', async () => {
    const registry = new Registry();
    const base = new SelfMetrics(registry);
    const a = base.labelled({ pipeline: 'a' });
    const b = base.labelled({ pipeline: 'b' });
    a.counter('t_calls_total', 'calls', ['source']).inc({ source: 'litellm' }, 2);
    b.counter('t_calls_total', 'calls', ['source']).labels('litellm').inc();
    a.counter('t_plain_total', 'plain').inc();
    b.counter('t_plain_total', 'plain').inc(5);
    a.gauge('t_entries', 'entries').set(7);
    b.gauge('t_entries', 'entries').set(9);
    a.histogram('t_size', 'size', [], [1, 10]).observe(3);
    const text = await registry.metrics();
    expect(text).toContain('t_calls_total{source="litellm",pipeline="a"} 2');
    expect(text).toContain('t_calls_total{source="litellm",pipeline="b"} 1');
    expect(text).toContain('t_plain_total{pipeline="a"} 1');
    expect(text).toContain('t_plain_total{pipeline="b"} 5');
    expect(text).toContain('t_entries{pipeline="a"} 7');
    expect(text).toContain('t_entries{pipeline="b"} 9');
    expect(text).toContain('t_size_count{pipeline="a"} 1');
  });

  it('removes the series of one label value, histograms included, and keeps the others', async () => {
    const registry = new Registry();
    const base = new SelfMetrics(registry);
    for (const pipeline of ['a', 'b']) {
      const m = base.labelled({ pipeline });
      m.counter('t_calls_total', 'calls', ['source']).inc({ source: 'litellm' });
      m.gauge('t_entries', 'entries').set(3);
      m.histogram('t_size', 'size', [], [1, 10]).observe(3);
    }
    await base.removeSeries({ pipeline: 'b' });
    const text = await registry.metrics();
    expect(text).not.toContain('pipeline="b"');
    expect(text).toContain('t_calls_total{source="litellm",pipeline="a"} 1');
    expect(text).toContain('t_entries{pipeline="a"} 3');
    expect(text).toContain('t_size_bucket{le="10",pipeline="a"} 1');
  });
});

describe('SelfMetrics.declare', () => {
  const specs = defineMetrics({
    calls: { type: 'counter', name: 't_declared_total', help: 'calls', labels: ['source'] },
    depth: { type: 'gauge', name: 't_declared_depth', help: 'depth' },
    size: { type: 'histogram', name: 't_declared_size', help: 'size', buckets: [1, 10] },
  });

  it('makes each declared metric once; a second declaration (a reload) gets the same ones, labelled views included', async () => {
    const registry = new Registry();
    const base = new SelfMetrics(registry);
    const first = base.declare(specs);
    first.calls.inc({ source: 'litellm' });
    first.depth.set(3);
    first.size.observe(4);
    const again = base.labelled({ pipeline: 'p' }).declare({ other: { type: 'counter', name: 't_declared_other_total', help: 'other' } });
    again.other.inc(2);
    expect(base.declare(specs).calls).toBe(first.calls);
    const text = await registry.metrics();
    expect(text).toContain('t_declared_total{source="litellm"} 1');
    expect(text).toContain('t_declared_depth 3');
    expect(text).toContain('t_declared_size_bucket{le="10"} 1');
    expect(text).toContain('t_declared_other_total{pipeline="p"} 2');
  });
});
