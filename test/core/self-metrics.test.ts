import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
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
