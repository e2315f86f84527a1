import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { metricValue } from '../../helpers/context.js';
import { FIXTURES, loadScenario, normalizer, runAll, sum, toCumulative } from './helpers.js';

const delta = () => loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export'));
const metricsOnly = (bs: Batch[]) => bs.filter((b) => b.resourceMetrics.length > 0);

describe('Claude Code cumulative metrics', () => {
  it('give the same totals as delta metrics and as the events', () => {
    const { n } = normalizer({ claude_code: { usage_from: 'metrics' } });
    const cs = runAll(n, toCumulative(delta())).flatMap((b) => b.calls);
    expect(cs.map((c) => [c.record_type, c.input_tokens, c.cache_read_tokens, c.reported_cost_usd])).toEqual([
      ['usage_interval', 25, 9800, 0.008145],
      ['usage_interval', 25, 9800, 0.008145],
    ]);
    expect(sum(cs)).toEqual({ input: 50, output: 84, cache_read: 19600, cache_write: 2400 });
  });

  it('a re-sent cumulative export adds nothing', () => {
    const { n } = normalizer({ claude_code: { usage_from: 'metrics' } });
    const cum = toCumulative(delta());
    runAll(n, cum);
    expect(runAll(n, metricsOnly(cum)).flatMap((b) => b.calls)).toEqual([]);
  });

  it('an older export re-sent after a newer one is no reset, and the next export still counts only its own calls', async () => {
    const { n, ctx } = normalizer({ claude_code: { usage_from: 'metrics' } });
    // Three exports with usage: the captured two, and the last one's calls again a minute later.
    const usage = metricsOnly(delta()).filter((b) => JSON.stringify(b).includes('claude_code.token.usage'));
    const cum = toCumulative([...usage, shiftStart(usage[usage.length - 1], 60_000_000_000n)]);
    expect(cum).toHaveLength(3);
    const first = sum(runAll(n, cum.slice(0, -1)).flatMap((b) => b.calls));
    expect(runAll(n, cum.slice(0, 1)).flatMap((b) => b.calls)).toEqual([]);
    const last = sum(runAll(n, cum.slice(-1)).flatMap((b) => b.calls));
    const all = sum(runAll(normalizer({ claude_code: { usage_from: 'metrics' } }).n, cum).flatMap((b) => b.calls));
    expect({ input: first.input + last.input, output: first.output + last.output, cache_read: first.cache_read + last.cache_read, cache_write: first.cache_write + last.cache_write }).toEqual(all);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_cumulative_resets_total')).toBe(0);
  });

  it('a reset (client restart: new start time, lower value) counts the new total from zero', async () => {
    const { n, ctx } = normalizer({ claude_code: { usage_from: 'metrics' } });
    const cum = metricsOnly(toCumulative(delta()));
    runAll(n, cum);
    // The restarted client reports its first call again with a later start time.
    const restarted = toCumulative(metricsOnly(delta()).slice(1, 2)).map((b) => shiftStart(b, 5_000_000_000n));
    const cs = runAll(n, restarted).flatMap((b) => b.calls);
    expect(sum(cs)).toEqual({ input: 25, output: 42, cache_read: 9800, cache_write: 1200 });
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_cumulative_resets_total')).toBeGreaterThan(0);
  });

  it('in events mode, cumulative metrics reconcile to zero drift', async () => {
    const { n, ctx } = normalizer();
    const cum = toCumulative(delta());
    const cs = runAll(n, cum).flatMap((b) => b.calls);
    expect(cs.every((c) => c.record_type === 'call')).toBe(true);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_claude_code_drift_tokens', { type: 'input' })).toBe(0);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_claude_code_tokens_total', { from: 'metrics', type: 'input' })).toBe(50);
  });
});

function shiftStart(b: Batch, byNs: bigint): Batch {
  return {
    ...b,
    resourceMetrics: b.resourceMetrics.map((rm) => ({
      ...rm,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        ...sm,
        metrics: sm.metrics.map((m) => m.sum ? {
          ...m, sum: { ...m.sum, dataPoints: m.sum.dataPoints.map((dp) => ({
            ...dp,
            startTimeUnixNano: String(BigInt(dp.startTimeUnixNano) + byNs),
            timeUnixNano: String(BigInt(dp.timeUnixNano) + byNs),
          })) },
        } : m),
      })),
    })),
  };
}
